-- ProConnect logins under way: kept server-side so that any instance can serve the
-- callback. Keyed by the SHA-256 of `state`; single use; expired after 10 minutes.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX oidc_logins_created ON oidc_logins (created_at);

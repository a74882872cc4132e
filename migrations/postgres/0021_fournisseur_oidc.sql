-- Relais as an OpenID Connect provider for démarche services (services::mandats::fournisseur).

-- The démarche services allowed to ask: their secret only as a SHA-256 (it is 256 random
-- bits, shown once), their redirect URIs (one per line, compared exactly) and the démarche
-- families they may ask (Demarche codes, separated by spaces).
CREATE TABLE clients_oidc (
    client_id TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    demarches TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    desactive_le BIGINT
);

-- Signing keys of ID tokens (Ed25519, PKCS#8 PEM). A key is published as soon as it is made
-- and signs once it has been published long enough for clients to have fetched it; a
-- retired key stays published while tokens it signed may still be checked.
CREATE TABLE cles_oidc (
    kid TEXT PRIMARY KEY,
    pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- Authorization codes, by the SHA-256 of the code: single use (`used_at`), 60 s.
CREATE TABLE codes_oidc (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients_oidc (client_id),
    autorisation_id BIGINT NOT NULL REFERENCES autorisations (id),
    aidant_id BIGINT NOT NULL REFERENCES persons (id),
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX codes_oidc_created ON codes_oidc (created_at);

-- Access tokens, by their SHA-256, with the code they came from: a replayed code revokes them.
CREATE TABLE jetons_oidc (
    token_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    autorisation_id BIGINT NOT NULL REFERENCES autorisations (id),
    aidant_id BIGINT NOT NULL REFERENCES persons (id),
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX jetons_oidc_code ON jetons_oidc (code_hash);
CREATE INDEX jetons_oidc_expires ON jetons_oidc (expires_at);

-- The usager's space: sessions opened by FranceConnect (by the SHA-256 of the cookie's
-- token), and the uses of each authorization by a démarche, as the usager reads them (the
-- journal keeps the same facts in the hash chain).
CREATE TABLE usager_sessions (
    token_hash TEXT PRIMARY KEY,
    usager_id BIGINT NOT NULL REFERENCES usagers (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX usager_sessions_expires ON usager_sessions (expires_at);

CREATE TABLE utilisations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    autorisation_id BIGINT NOT NULL REFERENCES autorisations (id),
    aidant_id BIGINT NOT NULL REFERENCES persons (id),
    client_id TEXT NOT NULL REFERENCES clients_oidc (client_id),
    created_at BIGINT NOT NULL
);

CREATE INDEX utilisations_autorisation ON utilisations (autorisation_id);
CREATE INDEX utilisations_aidant ON utilisations (aidant_id, created_at);

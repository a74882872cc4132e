-- Structures, professionals, their roles, credentials and sessions.
CREATE TABLE structures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    siret TEXT NOT NULL UNIQUE,
    nom TEXT NOT NULL,
    kind TEXT NOT NULL,
    adresse TEXT NOT NULL,
    commune TEXT NOT NULL REFERENCES communes (code),
    created_at BIGINT NOT NULL,
    deactivated_at BIGINT
);

CREATE TABLE persons (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    -- Argon2id PHC string; NULL for people who log in with ProConnect only.
    password_hash TEXT,
    -- Hex; NULL until the second factor is enrolled (enrolled_at set).
    totp_secret TEXT,
    totp_enrolled_at BIGINT,
    totp_last_step BIGINT,
    proconnect_sub TEXT UNIQUE,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    deactivated_at BIGINT
);

CREATE TABLE memberships (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    role TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by BIGINT REFERENCES persons (id),
    revoked_at BIGINT,
    revoked_by BIGINT REFERENCES persons (id)
);

-- One live grant of a role per person and structure; revoked grants stay as history.
CREATE UNIQUE INDEX memberships_live ON memberships (person_id, structure_id, role) WHERE revoked_at IS NULL;
CREATE INDEX memberships_structure ON memberships (structure_id);

CREATE TABLE global_roles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    role TEXT NOT NULL,
    -- The funder organisation or the territory the role covers; '' for national roles.
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by BIGINT REFERENCES persons (id),
    revoked_at BIGINT,
    revoked_by BIGINT REFERENCES persons (id)
);

CREATE UNIQUE INDEX global_roles_live ON global_roles (person_id, role, scope) WHERE revoked_at IS NULL;

-- Single-use codes for a lost phone, stored as SHA-256 (they are random and long).
CREATE TABLE recovery_codes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    code_hash TEXT NOT NULL,
    used_at BIGINT
);

CREATE INDEX recovery_codes_person ON recovery_codes (person_id);

-- Server-side sessions: the cookie holds a random token, the table its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    -- 'second_facteur' (password checked, code awaited), 'enrolement' (second factor to
    -- set up) or 'active'.
    stage TEXT NOT NULL,
    acting_structure BIGINT REFERENCES structures (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- Until then, sensitive actions need no new second factor; slides while active.
    fresh_until BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);

CREATE INDEX sessions_person ON sessions (person_id);

-- Fixed-window counters for rate limits (login per account and per address, codes).
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);

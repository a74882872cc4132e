-- Invitations of team members by référents. The e-mailed link holds a random token, the
-- table its SHA-256. Single use, until expires_at; revoked or accepted ones stay as history.
CREATE TABLE invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    email TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by BIGINT NOT NULL REFERENCES persons (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by BIGINT REFERENCES persons (id),
    revoked_at BIGINT
);

CREATE INDEX invitations_structure ON invitations (structure_id);

-- Password reset links (they also lift a lock): SHA-256 of the token, single use, short-lived.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX password_resets_person ON password_resets (person_id);

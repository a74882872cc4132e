-- Requests of structures to habilitate aidants, their candidates and the message thread.
CREATE TABLE habilitation_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    requested_by BIGINT NOT NULL REFERENCES persons (id),
    status TEXT NOT NULL,
    -- The accepted commitments' codes, space-separated.
    commitments TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT REFERENCES persons (id)
);

CREATE INDEX habilitation_requests_status ON habilitation_requests (status);

CREATE TABLE habilitation_candidates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES habilitation_requests (id),
    person_id BIGINT NOT NULL REFERENCES persons (id),
    training_hours BIGINT,
    training_date BIGINT,
    training_organisation TEXT,
    skills_test_at BIGINT,
    skills_test_score BIGINT,
    activated_at BIGINT
);

CREATE UNIQUE INDEX habilitation_candidates_person ON habilitation_candidates (request_id, person_id);

CREATE TABLE habilitation_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES habilitation_requests (id),
    author_id BIGINT NOT NULL REFERENCES persons (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Errors reported by visitors on a lieu's page, for administrators to check and pass on
-- to the producer. No foreign key to lieux: a report outlives a lieu merged or removed.
CREATE TABLE signalements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lieu_id TEXT NOT NULL,
    -- What is wrong: a wire value of the form's choice list.
    motif TEXT NOT NULL,
    message TEXT NOT NULL,
    -- Optional: to answer the visitor.
    email TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX signalements_created_at ON signalements (created_at);
CREATE INDEX signalements_lieu ON signalements (lieu_id);

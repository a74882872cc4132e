-- The mapping assistant. A file uploaded that does not follow the schema waits in
-- `televersements` (base64, a day at most) while a person checks the mapping Relais
-- proposes; the mapping confirmed is kept per producer (the owner's source) in
-- `correspondances` and applied to its next uploads.
CREATE TABLE televersements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    nom TEXT NOT NULL,
    contenu TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX televersements_created_at ON televersements (created_at);

CREATE TABLE correspondances (
    source TEXT PRIMARY KEY,
    toml TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES persons (id)
);

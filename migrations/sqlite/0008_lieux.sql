-- Lieux de médiation numérique. Each producer's file is a source; each of its rows a
-- record (what that source says, as a schema v1.0.1 row in JSON). A lieu is what Relais
-- publishes: one or more records merged, with the source of each field.
CREATE TABLE lieu_sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nom TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE lieux (
    -- Stable: derived from the first record that made the lieu.
    id TEXT PRIMARY KEY,
    -- The lieu as a schema v1.0.1 row (JSON object, field name → text).
    data TEXT NOT NULL,
    -- Field name → the source that gave its value (JSON object).
    provenance TEXT NOT NULL,
    code_insee TEXT,
    latitude REAL,
    longitude REAL,
    -- 1 when the coordinates are the commune's, not the lieu's own.
    approximate BIGINT NOT NULL DEFAULT 0,
    date_maj TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX lieux_code_insee ON lieux (code_insee);

CREATE TABLE lieu_records (
    source_id BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_id TEXT NOT NULL,
    lieu_id TEXT NOT NULL REFERENCES lieux (id),
    data TEXT NOT NULL,
    -- SHA-256 of data: a re-import of the same row changes nothing.
    fingerprint TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, external_id)
);

CREATE INDEX lieu_records_lieu ON lieu_records (lieu_id);

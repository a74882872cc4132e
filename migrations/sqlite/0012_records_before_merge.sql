-- A new record names the lieu it will make alone (its own id) before the merge writes that
-- lieu: the import no longer writes a lieu that the merge, finding the record's twin in
-- another source, would delete at once. So lieu_records.lieu_id may name a lieu not
-- written yet, and is no longer a foreign key (SQLite drops one by rebuilding the table).
CREATE TABLE lieu_records_new (
    source_id BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_id TEXT NOT NULL,
    -- The lieu the record belongs to, or will make once merged.
    lieu_id TEXT NOT NULL,
    data TEXT NOT NULL,
    -- SHA-256 of data: a re-import of the same row changes nothing.
    fingerprint TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    code_insee TEXT,
    latitude REAL,
    longitude REAL,
    approximate BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, external_id)
);

INSERT INTO lieu_records_new (source_id, external_id, lieu_id, data, fingerprint, imported_at,
    code_insee, latitude, longitude, approximate)
SELECT source_id, external_id, lieu_id, data, fingerprint, imported_at,
    code_insee, latitude, longitude, approximate
FROM lieu_records;

DROP TABLE lieu_records;
ALTER TABLE lieu_records_new RENAME TO lieu_records;
CREATE INDEX lieu_records_lieu ON lieu_records (lieu_id);
CREATE INDEX lieu_records_code_insee ON lieu_records (code_insee);

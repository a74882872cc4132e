-- Cross-source merge of lieux. Each record keeps what the merge compares (its commune
-- and position as the import resolved them), so that a lieu can be rebuilt from its
-- records whatever the merge did before.
ALTER TABLE lieu_records ADD COLUMN code_insee TEXT;
ALTER TABLE lieu_records ADD COLUMN latitude REAL;
ALTER TABLE lieu_records ADD COLUMN longitude REAL;
ALTER TABLE lieu_records ADD COLUMN approximate BIGINT NOT NULL DEFAULT 0;

UPDATE lieu_records SET
    code_insee = (SELECT l.code_insee FROM lieux l WHERE l.id = lieu_records.lieu_id),
    latitude = (SELECT l.latitude FROM lieux l WHERE l.id = lieu_records.lieu_id),
    longitude = (SELECT l.longitude FROM lieux l WHERE l.id = lieu_records.lieu_id),
    approximate = COALESCE((SELECT l.approximate FROM lieux l WHERE l.id = lieu_records.lieu_id), 0);

CREATE INDEX lieu_records_code_insee ON lieu_records (code_insee);

-- Field name → the sources that gave its value, with their record's date_maj (JSON).
ALTER TABLE lieux ADD COLUMN origines TEXT;

-- The ids of lieux absorbed by a merge: they keep answering with the merged lieu.
CREATE TABLE lieu_alias (
    old_id TEXT PRIMARY KEY,
    lieu_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX lieu_alias_lieu ON lieu_alias (lieu_id);

-- A person's decision on two records (a before b by source then row id): « distinct »
-- (not the same place, never merged) or « same » (merged whatever the scores).
CREATE TABLE fusion_decisions (
    source_a BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_a TEXT NOT NULL,
    source_b BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_b TEXT NOT NULL,
    code_insee TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('distinct', 'same')),
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (source_a, external_a, source_b, external_b)
);

CREATE INDEX fusion_decisions_commune ON fusion_decisions (code_insee);

-- Pairs the rules could not decide: a person says « distinct » or « same ».
CREATE TABLE fusion_revue (
    source_a BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_a TEXT NOT NULL,
    source_b BIGINT NOT NULL REFERENCES lieu_sources (id),
    external_b TEXT NOT NULL,
    code_insee TEXT NOT NULL,
    score REAL NOT NULL,
    -- What matched and what did not, in French.
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (source_a, external_a, source_b, external_b)
);

CREATE INDEX fusion_revue_commune ON fusion_revue (code_insee);

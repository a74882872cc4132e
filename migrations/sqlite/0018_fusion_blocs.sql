-- The merge's block of a record: its whole commune (`commune_entiere`), or, when a lieu
-- within a few hundred metres of a neighbouring commune looks like one of that commune's
-- lieux, the group of those communes, named after its smallest code
-- (services::lieux::fusion::regroup). Decisions and pairs to review are kept by block.
ALTER TABLE lieu_records ADD COLUMN bloc TEXT;

UPDATE lieu_records SET bloc = commune_entiere;

CREATE INDEX lieu_records_bloc ON lieu_records (bloc);

-- The merge reads every exact position at each run to join neighbouring communes: an
-- index holding them answers without reading the rows (whose JSON comes first), and
-- serves the lookups by commune the index it replaces served.
DROP INDEX lieu_records_commune_entiere;
CREATE INDEX lieu_records_commune_position
    ON lieu_records (commune_entiere, approximate, latitude, longitude, source_id, external_id);

-- The merge's block of a record: its whole commune (`commune_entiere`), or, when a lieu
-- within a few hundred metres of a neighbouring commune looks like one of that commune's
-- lieux, the group of those communes, named after its smallest code
-- (services::lieux::fusion::regroup). Decisions and pairs to review are kept by block.
ALTER TABLE lieu_records ADD COLUMN bloc TEXT;

UPDATE lieu_records SET bloc = commune_entiere;

CREATE INDEX lieu_records_bloc ON lieu_records (bloc);

-- The merge compares the records of one whole commune: those of an arrondissement
-- municipal (Paris 75101–75120, Lyon 69381–69389, Marseille 13201–13216) with those of
-- its commune and of its other arrondissements, since producers write either code.
-- `commune_entiere` is the block (domain::territoires::commune_entiere); decisions and
-- pairs to review are kept by block too.
ALTER TABLE lieu_records ADD COLUMN commune_entiere TEXT;

UPDATE lieu_records SET commune_entiere = CASE
    WHEN code_insee BETWEEN '75101' AND '75120' THEN '75056'
    WHEN code_insee BETWEEN '69381' AND '69389' THEN '69123'
    WHEN code_insee BETWEEN '13201' AND '13216' THEN '13055'
    ELSE code_insee END;

DROP INDEX lieu_records_code_insee;
CREATE INDEX lieu_records_commune_entiere ON lieu_records (commune_entiere);

UPDATE fusion_decisions SET code_insee = CASE
    WHEN code_insee BETWEEN '75101' AND '75120' THEN '75056'
    WHEN code_insee BETWEEN '69381' AND '69389' THEN '69123'
    WHEN code_insee BETWEEN '13201' AND '13216' THEN '13055'
    ELSE code_insee END;

UPDATE fusion_revue SET code_insee = CASE
    WHEN code_insee BETWEEN '75101' AND '75120' THEN '75056'
    WHEN code_insee BETWEEN '69381' AND '69389' THEN '69123'
    WHEN code_insee BETWEEN '13201' AND '13216' THEN '13055'
    ELSE code_insee END;

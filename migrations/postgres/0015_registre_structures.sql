-- The national register of structures. A structure imported from a producer's list keeps
-- the producer's name (`source`) and its id there (`source_id`): importing the list again
-- updates it. Several units of one establishment (a département's social centres, La
-- Poste's France Services) share a SIRET, so the SIRET is unique only among the structures
-- created by hand. `labels`: wire values of domain::comptes::registre::StructureLabel,
-- joined by `|`; `qpv`, `zrr`: 1, 0, or NULL when the list does not say.
ALTER TABLE structures DROP CONSTRAINT structures_siret_key;
ALTER TABLE structures
    ADD COLUMN labels TEXT NOT NULL DEFAULT '',
    ADD COLUMN qpv BIGINT,
    ADD COLUMN zrr BIGINT,
    ADD COLUMN source TEXT,
    ADD COLUMN source_id TEXT,
    ADD CONSTRAINT structures_source_key UNIQUE (source, source_id);

CREATE INDEX structures_siret ON structures (siret);
CREATE UNIQUE INDEX structures_siret_hors_registre ON structures (siret) WHERE source IS NULL;

-- The lieux of a structure, found by services::comptes::registre::rapprocher_lieux (same
-- SIRET, else same name or address in the commune); `preuve`: wire value of
-- domain::comptes::registre::Preuve. A lieu id may have become an alias since (merges):
-- readers resolve it.
CREATE TABLE structure_lieux (
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    lieu_id TEXT NOT NULL,
    preuve TEXT NOT NULL,
    PRIMARY KEY (structure_id, lieu_id)
);

CREATE INDEX structure_lieux_lieu ON structure_lieux (lieu_id);

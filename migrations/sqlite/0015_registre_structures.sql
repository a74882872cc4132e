-- The national register of structures. A structure imported from a producer's list keeps
-- the producer's name (`source`) and its id there (`source_id`): importing the list again
-- updates it. Several units of one establishment (a département's social centres, La
-- Poste's France Services) share a SIRET, so the SIRET is unique only among the structures
-- created by hand. `labels`: wire values of domain::comptes::registre::StructureLabel,
-- joined by `|`; `qpv`, `zrr`: 1, 0, or NULL when the list does not say.
--
-- SQLite cannot drop a column's UNIQUE: the table is rebuilt, its ids kept; the tables
-- that reference it are checked at commit (defer_foreign_keys lasts the transaction).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE structures_registre (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    siret TEXT NOT NULL,
    nom TEXT NOT NULL,
    kind TEXT NOT NULL,
    adresse TEXT NOT NULL,
    commune TEXT NOT NULL REFERENCES communes (code),
    created_at BIGINT NOT NULL,
    deactivated_at BIGINT,
    labels TEXT NOT NULL DEFAULT '',
    qpv BIGINT,
    zrr BIGINT,
    source TEXT,
    source_id TEXT,
    UNIQUE (source, source_id)
);

INSERT INTO structures_registre (id, siret, nom, kind, adresse, commune, created_at, deactivated_at)
SELECT id, siret, nom, kind, adresse, commune, created_at, deactivated_at FROM structures;

DROP TABLE structures;
ALTER TABLE structures_registre RENAME TO structures;

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

-- Activités: what mediators report. An activity is one session (individual or a workshop);
-- a participation is one person in it, a followed beneficiary or an anonymous one.
-- Vocabulary columns hold the stable wire values of domain::activites::vocabulaires.

-- Followed beneficiaries: a structure's file of the people it accompanies over time, with
-- their recorded consent. Minimal data; `fusionne_dans` points to the record kept when two
-- were the same person; `supprime_le` marks an erasure (the name is blanked then).
CREATE TABLE beneficiaires (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    prenom TEXT NOT NULL,
    nom TEXT NOT NULL,
    -- INSEE code of where they live, if they said.
    commune TEXT,
    genre TEXT NOT NULL,
    tranche_age TEXT NOT NULL,
    statut TEXT NOT NULL,
    consentement_le BIGINT NOT NULL,
    cree_par BIGINT NOT NULL REFERENCES persons (id),
    created_at BIGINT NOT NULL,
    supprime_le BIGINT,
    fusionne_dans BIGINT REFERENCES beneficiaires (id)
);

CREATE INDEX beneficiaires_structure ON beneficiaires (structure_id);

-- Every write of an activity takes the next `version` from this one row: the row lock
-- orders writers, so versions become visible in order and the statistics index
-- (relais_search::activites) catches up by reading what is above the last one it saw.
CREATE TABLE activites_versions (
    derniere BIGINT NOT NULL
);

INSERT INTO activites_versions (derniere) VALUES (0);

-- `date`: midnight UTC of the day; `commune`: where it took place, always resolved;
-- `thematiques`, `demarches`, `materiel`: wire values separated by spaces; `anonymes`:
-- the counts as entered (JSON), to reopen the form; `cle`: chosen by the device that
-- made the entry, so that an entry sent twice (offline queue) is written once.
CREATE TABLE activites (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cle TEXT NOT NULL UNIQUE,
    mediateur_id BIGINT NOT NULL REFERENCES persons (id),
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    type_activite TEXT NOT NULL,
    date BIGINT NOT NULL,
    duree BIGINT NOT NULL,
    type_lieu TEXT NOT NULL,
    lieu_id TEXT REFERENCES lieux (id),
    commune TEXT NOT NULL,
    thematiques TEXT NOT NULL,
    demarches TEXT NOT NULL,
    materiel TEXT NOT NULL,
    autonomie TEXT,
    niveau TEXT,
    orientation TEXT,
    precisions_demarche TEXT NOT NULL,
    titre_atelier TEXT NOT NULL,
    anonymes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    supprimee_le BIGINT,
    version BIGINT NOT NULL UNIQUE
);

CREATE INDEX activites_mediateur ON activites (mediateur_id, date);
CREATE INDEX activites_structure ON activites (structure_id, date);

-- One thématique of an activity, for the plain GROUP BY the benchmark compares with.
CREATE TABLE activite_thematiques (
    activite_id BIGINT NOT NULL REFERENCES activites (id),
    thematique TEXT NOT NULL,
    PRIMARY KEY (activite_id, thematique)
);

-- One person in one activity, with the beneficiary's figures copied as they were then
-- (a later change of the file does not rewrite past statistics). `premier` (0 or 1) is derived by the store: a followed
-- beneficiary's earliest activity, or an anonymous one not « déjà accompagné ».
CREATE TABLE participations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    activite_id BIGINT NOT NULL REFERENCES activites (id),
    beneficiaire_id BIGINT REFERENCES beneficiaires (id),
    premier BIGINT NOT NULL,
    genre TEXT NOT NULL,
    tranche_age TEXT NOT NULL,
    statut TEXT NOT NULL,
    -- The beneficiary's commune (INSEE code) when the activity was entered.
    commune TEXT
);

CREATE INDEX participations_activite ON participations (activite_id);
CREATE INDEX participations_beneficiaire ON participations (beneficiaire_id);

-- Usagers: people a structure acts for under a mandate, known by FranceConnect. Only
-- what a mandate shows is kept, and the FranceConnect `sub` as a salted hash
-- (services::mandats): the same person coming back is recognised, nothing more.
CREATE TABLE usagers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sub_hash TEXT NOT NULL UNIQUE,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    -- ISO date, as FranceConnect gives it.
    birthdate TEXT NOT NULL,
    birthplace TEXT,
    birthcountry TEXT,
    gender TEXT,
    email TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A mandate: the structure (mandataire) acts for the usager; `aidant_id` created it.
-- `duree`: domain::mandats::Duree code; `empreinte`: the hash printed on both copies
-- (domain::mandats::Attestation). Its structure changes when it is transferred.
CREATE TABLE mandats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    usager_id BIGINT NOT NULL REFERENCES usagers (id),
    aidant_id BIGINT NOT NULL REFERENCES persons (id),
    duree TEXT NOT NULL,
    debut BIGINT NOT NULL,
    fin BIGINT NOT NULL,
    empreinte TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX mandats_usager ON mandats (usager_id);
CREATE INDEX mandats_structure ON mandats (structure_id);

-- One démarche family of a mandate (domain::mandats::Demarche code), revocable alone.
CREATE TABLE autorisations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mandat_id BIGINT NOT NULL REFERENCES mandats (id),
    demarche TEXT NOT NULL,
    fin BIGINT NOT NULL,
    revoquee_le BIGINT
);

CREATE INDEX autorisations_mandat ON autorisations (mandat_id);

-- French territories (Code officiel géographique), loaded from data/territoires at first start.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL
);

CREATE TABLE departements (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions (code)
);

CREATE TABLE epci (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    kind TEXT NOT NULL,
    population BIGINT NOT NULL
);

CREATE TABLE communes (
    code TEXT PRIMARY KEY,
    nom TEXT NOT NULL,
    kind TEXT NOT NULL,
    commune_parent TEXT REFERENCES communes (code),
    departement TEXT NOT NULL REFERENCES departements (code),
    region TEXT NOT NULL REFERENCES regions (code),
    epci TEXT REFERENCES epci (code),
    codes_postaux TEXT NOT NULL,
    population BIGINT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION
);

CREATE INDEX communes_departement ON communes (departement);
CREATE INDEX communes_epci ON communes (epci);

-- Which version of each reference data set is loaded (a hash of the shipped files).
CREATE TABLE reference_data (
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);

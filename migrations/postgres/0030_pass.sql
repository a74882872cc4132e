-- Pass numérique: programmes, their funders and territory, the structures qualified to
-- accept their passes, booklets and passes, their distribution and their use. Amounts
-- are integer cents; days are days since 1970-01-01 (Paris); times Unix ms.

-- A programme, run by a structure (its référents manage it).
CREATE TABLE programmes_pass (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    nom TEXT NOT NULL,
    valeur_centimes BIGINT NOT NULL,
    taille_carnet BIGINT NOT NULL,
    budget_centimes BIGINT NOT NULL,
    achat_minimum_centimes BIGINT NOT NULL,
    dernier_jour BIGINT NOT NULL,
    grace_jours BIGINT NOT NULL,
    -- Wire values of domain::pass::programme, separated by spaces.
    publics TEXT NOT NULL,
    services TEXT NOT NULL,
    cree_par BIGINT NOT NULL REFERENCES persons (id),
    created_at BIGINT NOT NULL
);

-- Who pays each pass used, and how much of it (ten-thousandths, 10,000 in all).
CREATE TABLE programme_financeurs (
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    rang BIGINT NOT NULL,
    nom TEXT NOT NULL,
    siret TEXT NOT NULL,
    part BIGINT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT NOT NULL,
    PRIMARY KEY (programme_id, rang)
);

-- Where its passes may be used: communes, EPCI or départements (COG codes).
CREATE TABLE programme_territoires (
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    niveau TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (programme_id, niveau, code)
);

-- A structure's application to accept a programme's passes, and the owner's decision
-- (`statut`: demandee, acceptee, refusee).
CREATE TABLE qualifications_pass (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    titulaire TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT NOT NULL,
    services TEXT NOT NULL,
    statut TEXT NOT NULL,
    demandee_par BIGINT NOT NULL REFERENCES persons (id),
    demandee_le BIGINT NOT NULL,
    decidee_par BIGINT REFERENCES persons (id),
    decidee_le BIGINT,
    motif TEXT NOT NULL,
    UNIQUE (programme_id, structure_id)
);

-- A booklet, numbered in its programme; `structure_id`: the prescribing structure it was
-- given to, to hand out.
CREATE TABLE carnets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    numero BIGINT NOT NULL,
    structure_id BIGINT REFERENCES structures (id),
    emis_le BIGINT NOT NULL,
    UNIQUE (programme_id, numero)
);

-- A pass: its code (15 symbols, domain::pass::code) is unique across programmes.
CREATE TABLE pass (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    carnet_id BIGINT NOT NULL REFERENCES carnets (id),
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    code TEXT NOT NULL UNIQUE,
    valeur_centimes BIGINT NOT NULL
);

CREATE INDEX pass_carnet ON pass (carnet_id);

-- A booklet handed to a person: pseudonymous, minimal data.
CREATE TABLE remises_pass (
    carnet_id BIGINT PRIMARY KEY REFERENCES carnets (id),
    prescripteur_id BIGINT NOT NULL REFERENCES persons (id),
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    tranche_age TEXT NOT NULL,
    commune TEXT NOT NULL,
    situation TEXT NOT NULL,
    -- The lieux suggested to the person (ids, separated by spaces).
    orientation TEXT NOT NULL,
    remis_le BIGINT NOT NULL
);

-- A pass used: once (its id is the key), whatever the retries (`cle`, chosen by the
-- device, makes a retry find its first answer). Never changed nor removed: the ledger.
CREATE TABLE utilisations_pass (
    pass_id BIGINT PRIMARY KEY REFERENCES pass (id),
    cle TEXT NOT NULL UNIQUE,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    lieu_id TEXT REFERENCES lieux (id),
    mediateur_id BIGINT NOT NULL REFERENCES persons (id),
    service TEXT NOT NULL,
    -- When it was used (on the device, maybe offline), and when Relais recorded it.
    utilise_le BIGINT NOT NULL,
    enregistre_le BIGINT NOT NULL
);

CREATE INDEX utilisations_pass_structure ON utilisations_pass (structure_id, utilise_le);

CREATE FUNCTION pass_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'le registre des pass est en ajout seul : une utilisation ne peut être ni modifiée ni supprimée';
END;
$$;

CREATE TRIGGER utilisations_pass_append_only_row BEFORE UPDATE OR DELETE ON utilisations_pass
FOR EACH ROW EXECUTE FUNCTION pass_refuse_change();

CREATE TRIGGER utilisations_pass_append_only_truncate BEFORE TRUNCATE ON utilisations_pass
FOR EACH STATEMENT EXECUTE FUNCTION pass_refuse_change();

-- A mandate being made, from the aidant's choice to its signature: the démarches and the
-- duration chosen, then the usager FranceConnect identified on the aidant's screen (their
-- `sub` as the salted hash `usagers.sub_hash` uses, and the identity the mandate shows).
-- Only its aidant sees it; it is deleted when signed and forgotten after an hour.
CREATE TABLE mandat_brouillons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    aidant_id BIGINT NOT NULL REFERENCES persons (id),
    -- domain::mandats::Demarche codes, separated by spaces.
    demarches TEXT NOT NULL,
    duree TEXT NOT NULL,
    sub_hash TEXT,
    given_name TEXT,
    family_name TEXT,
    birthdate TEXT,
    birthplace TEXT,
    birthcountry TEXT,
    gender TEXT,
    email TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX mandat_brouillons_created ON mandat_brouillons (created_at);

-- Which provider a login was sent to (a callback takes only its own), and for FranceConnect
-- at mandate creation, the draft the usager's identity goes to.
ALTER TABLE oidc_logins ADD COLUMN provider TEXT NOT NULL DEFAULT 'proconnect';
ALTER TABLE oidc_logins ADD COLUMN brouillon BIGINT REFERENCES mandat_brouillons (id) ON DELETE CASCADE;

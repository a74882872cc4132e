-- A mandate's life after its signature: the draft of a renewal names the mandate it renews
-- (the usager is known, FranceConnect is not asked again), and a mandate whose every
-- démarche has ended is journaled once as expired (`expiration_journalisee_le`).
ALTER TABLE mandat_brouillons ADD COLUMN renouvelle BIGINT REFERENCES mandats (id);
ALTER TABLE mandats ADD COLUMN expiration_journalisee_le BIGINT;

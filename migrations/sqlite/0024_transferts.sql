-- A mandate moving to another structure: the référent of the structure that holds it
-- proposes, a référent of the other accepts (or refuses); only then does it move.
CREATE TABLE mandat_transferts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mandat_id BIGINT NOT NULL REFERENCES mandats (id),
    de_structure BIGINT NOT NULL REFERENCES structures (id),
    vers_structure BIGINT NOT NULL REFERENCES structures (id),
    propose_par BIGINT NOT NULL REFERENCES persons (id),
    propose_le BIGINT NOT NULL,
    decide_par BIGINT REFERENCES persons (id),
    decide_le BIGINT,
    -- acceptee or refusee, once decided.
    decision TEXT
);

CREATE INDEX mandat_transferts_vers ON mandat_transferts (vers_structure);
CREATE INDEX mandat_transferts_de ON mandat_transferts (de_structure);

-- Diagnostics of basic digital skills. One is taken alone from the public site (no
-- account, reached by its key only) or with an agent of a structure, then joined to the
-- file of a beneficiary the structure follows, with their consent. Its answers are kept
-- one per row, for the person to resume and for the parameters to be re-estimated; its
-- result is kept as it was given, whatever the bank's parameters become.
CREATE TABLE diagnostics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The key in its address: 128 random bits, base32.
    cle TEXT NOT NULL UNIQUE,
    -- Draws the items among the best ones (exposure control), the same on every reload.
    graine BIGINT NOT NULL,
    structure_id BIGINT REFERENCES structures (id),
    agent_id BIGINT REFERENCES persons (id),
    beneficiaire_id BIGINT REFERENCES beneficiaires (id),
    commence_le BIGINT NOT NULL,
    fini_le BIGINT,
    -- The result: ability and standard error in thousandths of a logit, level 0 to 4,
    -- and each domain's level and whether it is known, as JSON.
    theta_milli BIGINT,
    erreur_milli BIGINT,
    niveau BIGINT,
    domaines TEXT
);

CREATE INDEX diagnostics_beneficiaire ON diagnostics (beneficiaire_id);
CREATE INDEX diagnostics_structure ON diagnostics (structure_id, commence_le);

-- One answer of a diagnostic: the item asked at that rank, the answer chosen (its index
-- among the item's answers; none for « je ne sais pas ») and how it scored.
CREATE TABLE reponses_diagnostic (
    diagnostic_id BIGINT NOT NULL REFERENCES diagnostics (id),
    rang BIGINT NOT NULL,
    question TEXT NOT NULL,
    choix BIGINT,
    reponse TEXT NOT NULL,
    repondu_le BIGINT NOT NULL,
    PRIMARY KEY (diagnostic_id, rang)
);

CREATE INDEX reponses_diagnostic_question ON reponses_diagnostic (question);

-- A booklet handed from a diagnostic's result screen: the person's path joins the
-- diagnostic, the passes and their uses.
ALTER TABLE remises_pass ADD COLUMN diagnostic_id BIGINT REFERENCES diagnostics (id);

-- The item parameters re-estimated from the answers (domain::diagnostic::calibration),
-- one row per run and per item it could estimate; the latest run's are served, over the
-- bank's own. A result already given keeps the parameters it was computed with.
CREATE TABLE estimations_diagnostic (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    estime_le BIGINT NOT NULL,
    -- Finished diagnostics the run read.
    diagnostics BIGINT NOT NULL
);

CREATE TABLE parametres_diagnostic (
    estimation_id BIGINT NOT NULL REFERENCES estimations_diagnostic (id),
    question TEXT NOT NULL,
    -- a and b in thousandths.
    discrimination_milli BIGINT NOT NULL,
    difficulte_milli BIGINT NOT NULL,
    reponses BIGINT NOT NULL,
    PRIMARY KEY (estimation_id, question)
);

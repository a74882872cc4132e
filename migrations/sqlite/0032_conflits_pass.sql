-- A pass accepted at a counter without network while it was used elsewhere: when the
-- device syncs, the use is refused and the conflict kept here, once per use key, for both
-- structures to see (the one whose device accepted it, the one the ledger paid).
CREATE TABLE conflits_pass (
    cle TEXT PRIMARY KEY,
    pass_id BIGINT NOT NULL REFERENCES pass (id),
    structure_id BIGINT NOT NULL REFERENCES structures (id),
    lieu_id TEXT REFERENCES lieux (id),
    mediateur_id BIGINT NOT NULL REFERENCES persons (id),
    service TEXT NOT NULL,
    -- When the device accepted it, and when Relais found the conflict.
    utilise_le BIGINT NOT NULL,
    signale_le BIGINT NOT NULL
);

CREATE INDEX conflits_pass_structure ON conflits_pass (structure_id);
CREATE INDEX conflits_pass_pass ON conflits_pass (pass_id);

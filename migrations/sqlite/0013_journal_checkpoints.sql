-- An insert never replaces an entry: `INSERT OR REPLACE` / `REPLACE INTO` delete the row
-- in the way without firing the DELETE trigger (recursive triggers are off), so an entry
-- could be forged and later put back without trace. Refused here, before the conflict.
CREATE TRIGGER journal_append_only_insert BEFORE INSERT ON journal
WHEN EXISTS (SELECT 1 FROM journal WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : une entrée ne peut être remplacée');
END;

-- The same hole on the head: a REPLACE would put it back in time.
CREATE TRIGGER journal_append_only_head_insert BEFORE INSERT ON journal_head
WHEN EXISTS (SELECT 1 FROM journal_head)
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : son en-tête ne peut être remplacé');
END;

-- Signed checkpoints of the journal: at a time, the head (number and hash of the last
-- entry) signed with Ed25519 by a key kept outside the database. A rewrite of the whole
-- chain keeps it internally consistent, but no longer matches these signatures, nor the
-- copies kept by third parties. One row per checkpointed entry, never changed.
CREATE TABLE journal_checkpoints (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER journal_checkpoints_append_only_insert BEFORE INSERT ON journal_checkpoints
WHEN EXISTS (SELECT 1 FROM journal_checkpoints WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'les points de contrôle du journal sont en ajout seul : un point ne peut être remplacé');
END;

CREATE TRIGGER journal_checkpoints_append_only_update BEFORE UPDATE ON journal_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'les points de contrôle du journal sont en ajout seul : un point ne peut être ni modifié ni supprimé');
END;

CREATE TRIGGER journal_checkpoints_append_only_delete BEFORE DELETE ON journal_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'les points de contrôle du journal sont en ajout seul : un point ne peut être ni modifié ni supprimé');
END;

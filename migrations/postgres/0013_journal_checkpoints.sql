-- Signed checkpoints of the journal: at a time, the head (number and hash of the last
-- entry) signed with Ed25519 by a key kept outside the database. A rewrite of the whole
-- chain keeps it internally consistent, but no longer matches these signatures, nor the
-- copies kept by third parties. One row per checkpointed entry, never changed.
-- (On PostgreSQL, INSERT … ON CONFLICT DO UPDATE fires the UPDATE triggers, and TRUNCATE
-- has its own: the journal's holes of SQLite's REPLACE do not exist here.)
CREATE TABLE journal_checkpoints (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE FUNCTION journal_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'les points de contrôle du journal sont en ajout seul : un point ne peut être ni modifié ni supprimé';
END;
$$;

CREATE TRIGGER journal_checkpoints_append_only_row BEFORE UPDATE OR DELETE ON journal_checkpoints
FOR EACH ROW EXECUTE FUNCTION journal_checkpoints_refuse_change();

CREATE TRIGGER journal_checkpoints_append_only_truncate BEFORE TRUNCATE ON journal_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION journal_checkpoints_refuse_change();

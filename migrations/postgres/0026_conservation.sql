-- Retention: six years after a mandate ended, its rows are deleted and the details of the
-- journal's entries about it blanked. A blanked entry keeps its number, time, action,
-- actors, subject and both hashes, so the chain still links through it; `purge_le` says
-- when it was blanked.
ALTER TABLE journal ADD COLUMN purge_le BIGINT;

-- An entry still never changes, except this once: its details blanked, nothing else
-- touched, and only if it is five years old or more (the application waits six years
-- after the mandate's end; the floor keeps a hostile operator from blanking recent ones).
DROP TRIGGER journal_append_only_row ON journal;

CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();

CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
FOR EACH ROW WHEN (NOT (
    OLD.purge_le IS NULL AND NEW.purge_le IS NOT NULL
    AND NEW.purge_le - OLD.at >= 157680000000
    AND NEW.details = ''
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.action = OLD.action
    AND NEW.actor IS NOT DISTINCT FROM OLD.actor
    AND NEW.actor_structure IS NOT DISTINCT FROM OLD.actor_structure
    AND NEW.structure IS NOT DISTINCT FROM OLD.structure
    AND NEW.subject_kind = OLD.subject_kind AND NEW.subject_id = OLD.subject_id
    AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
))
EXECUTE FUNCTION journal_refuse_change();

-- The runtime role may not update the journal (roles.rs): it blanks through this
-- function, which runs as the schema's owner and does nothing else.
CREATE FUNCTION journal_purger(kind TEXT, id TEXT, le BIGINT, avant BIGINT)
RETURNS SETOF BIGINT LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE journal SET details = '', purge_le = le
    WHERE subject_kind = kind AND subject_id = id AND purge_le IS NULL AND at < avant
    RETURNING seq;
$$;

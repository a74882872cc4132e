-- Retention: six years after a mandate ended, its rows are deleted and the details of the
-- journal's entries about it blanked. A blanked entry keeps its number, time, action,
-- actors, subject and both hashes, so the chain still links through it; `purge_le` says
-- when it was blanked.
ALTER TABLE journal ADD COLUMN purge_le INTEGER;

-- An entry still never changes, except this once: its details blanked, nothing else
-- touched, and only if it is five years old or more (the application waits six years
-- after the mandate's end; the floor keeps a hostile operator from blanking recent ones).
DROP TRIGGER journal_append_only_update;

CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
WHEN NOT (
    OLD.purge_le IS NULL AND NEW.purge_le IS NOT NULL
    AND NEW.purge_le - OLD.at >= 157680000000
    AND NEW.details = ''
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.action = OLD.action
    AND NEW.actor IS OLD.actor AND NEW.actor_structure IS OLD.actor_structure
    AND NEW.structure IS OLD.structure
    AND NEW.subject_kind = OLD.subject_kind AND NEW.subject_id = OLD.subject_id
    AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
)
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : une entrée ne peut être modifiée, sauf l’effacement de ses détails après cinq ans');
END;

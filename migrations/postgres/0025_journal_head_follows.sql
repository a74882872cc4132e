-- The head's hash follows the entry just inserted, in the same statement: an append is
-- one move of the head (its number, RETURNING the previous hash) and one insert, so the
-- head's lock is held for one statement less.
CREATE FUNCTION journal_head_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE journal_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journal_head_follows AFTER INSERT ON journal
FOR EACH ROW EXECUTE FUNCTION journal_head_follows();

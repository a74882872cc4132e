-- The head's hash follows the entry just inserted, in the same statement: an append is
-- one move of the head (its number, RETURNING the previous hash) and one insert. Of a
-- batch, only the last entry (the head's number) moves it.
CREATE TRIGGER journal_head_follows AFTER INSERT ON journal
BEGIN
    UPDATE journal_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq;
END;

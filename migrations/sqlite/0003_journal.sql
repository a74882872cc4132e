-- The append-only journal (audit trail): one row per privileged action or action on a
-- person's behalf, numbered 1, 2, 3… and chained by hash; times in Unix milliseconds.
-- seq is the rowid (INTEGER PRIMARY KEY); Relais always gives it.
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor BIGINT,
    actor_structure BIGINT,
    structure BIGINT,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX journal_structure ON journal (structure);
CREATE INDEX journal_actor ON journal (actor);
CREATE INDEX journal_subject ON journal (subject_kind, subject_id);
CREATE INDEX journal_at ON journal (at);

-- The number and hash of the last entry, updated in the same transaction as each append:
-- appenders queue on this row, and entries removed at the end no longer match it.
CREATE TABLE journal_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO journal_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Entries are never changed nor removed; the head never goes back nor disappears.
CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : une entrée ne peut être ni modifiée ni supprimée');
END;

CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : une entrée ne peut être ni modifiée ni supprimée');
END;

CREATE TRIGGER journal_append_only_head_delete BEFORE DELETE ON journal_head
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : son en-tête ne peut être supprimé');
END;

CREATE TRIGGER journal_append_only_head_rewind BEFORE UPDATE ON journal_head
WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'le journal est en ajout seul : son en-tête ne peut revenir en arrière');
END;

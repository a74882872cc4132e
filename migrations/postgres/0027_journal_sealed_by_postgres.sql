-- PostgreSQL seals an entry inserted without its number: the head moves, and the entry
-- gets its number, the previous hash and its own hash, inside the INSERT. An append is
-- then one statement, and the head's lock is taken by the transaction's last statement
-- instead of being held across a round trip to Relais. The hash is the one
-- `relais_domain::journal::entry_hash` computes (same encoding: a version tag, then every
-- field in order, texts prefixed by their length in bytes as 8 bytes big-endian, integers
-- as 8 bytes big-endian, an absent id as 0x00 and a present one as 0x01 then the integer);
-- Relais recomputes it from the returned row at every append and every verification.
CREATE FUNCTION journal_encode_text(s TEXT) RETURNS BYTEA LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT int8send(octet_length(s)::BIGINT) || convert_to(s, 'UTF8')
$$;

CREATE FUNCTION journal_encode_id(n BIGINT) RETURNS BYTEA LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n IS NULL THEN '\x00'::BYTEA ELSE '\x01'::BYTEA || int8send(n) END
$$;

CREATE FUNCTION journal_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE journal_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash
    INTO NEW.seq, NEW.prev_hash;
    NEW.hash := encode(sha256(
        journal_encode_text('relais-journal-v1')
        || journal_encode_text(NEW.prev_hash)
        || int8send(NEW.seq)
        || int8send(NEW.at)
        || journal_encode_text(NEW.action)
        || journal_encode_id(NEW.actor)
        || journal_encode_id(NEW.actor_structure)
        || journal_encode_id(NEW.structure)
        || journal_encode_text(NEW.subject_kind)
        || journal_encode_text(NEW.subject_id)
        || journal_encode_text(NEW.details)
    ), 'hex');
    RETURN NEW;
END;
$$;

CREATE TRIGGER journal_seal BEFORE INSERT ON journal
FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION journal_seal();

-- A new record names the lieu it will make alone (its own id) before the merge writes that
-- lieu: the import no longer writes a lieu that the merge, finding the record's twin in
-- another source, would delete at once. So lieu_records.lieu_id may name a lieu not
-- written yet, and is no longer a foreign key.
ALTER TABLE lieu_records DROP CONSTRAINT IF EXISTS lieu_records_lieu_id_fkey;

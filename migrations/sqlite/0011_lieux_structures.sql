-- Who a source of lieux belongs to. A file uploaded by a structure's référent is that
-- structure's source (named `structure-<id>`), a hub coordinator's is the hub's
-- (`hub-<scope>`); the lieux holding a record of a structure's source are its lieux, and
-- its référents may edit them. Sources imported by an operator (CLI, demo) have no owner.
CREATE TABLE lieu_source_owners (
    source_id BIGINT PRIMARY KEY REFERENCES lieu_sources (id),
    structure_id BIGINT REFERENCES structures (id),
    -- The coordinator's scope, for a hub's source.
    hub TEXT,
    created_at BIGINT NOT NULL,
    CHECK ((structure_id IS NULL) <> (hub IS NULL))
);

CREATE INDEX lieu_source_owners_structure ON lieu_source_owners (structure_id);

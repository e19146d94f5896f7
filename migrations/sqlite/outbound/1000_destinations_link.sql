-- A destination's link to its prospect is kept by the store and by a
-- trigger, not by a foreign key (docs/decisions.md, "Destinations without
-- a foreign key"): the same schema as on PostgreSQL, where the key's check
-- of every destination written cost more than the row itself. The store
-- writes destinations only in the transaction that wrote their prospect.
-- SQLite cannot drop a constraint, so the table is rebuilt as it stands
-- (migrations 0002 and 0004) without the REFERENCES clause.
CREATE TABLE destinations_unlinked (
    prospect_id INTEGER NOT NULL,
    ordinal     INTEGER NOT NULL,
    unit_id     INTEGER NOT NULL,
    field       TEXT NOT NULL,
    e164        TEXT NOT NULL,
    raw         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    time_zone   TEXT,
    tz_source   TEXT NOT NULL,
    companions  TEXT,
    PRIMARY KEY (prospect_id, ordinal)
) WITHOUT ROWID;
INSERT INTO destinations_unlinked (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source, companions)
    SELECT prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source, companions FROM destinations;
DROP TABLE destinations;
ALTER TABLE destinations_unlinked RENAME TO destinations;

-- What the key's ON DELETE CASCADE did: destinations go with their
-- prospects, however those are deleted.
CREATE TRIGGER prospects_drop_destinations AFTER DELETE ON prospects
BEGIN
    DELETE FROM destinations WHERE prospect_id = OLD.id;
END;

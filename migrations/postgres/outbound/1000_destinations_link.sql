-- A destination's link to its prospect is kept by the store and by this
-- trigger, not by a foreign key (docs/decisions.md, "Destinations without
-- a foreign key"). The key's check ran for every destination written, a
-- locked index probe of `prospects` per row: on a bulk load it cost more
-- than writing the row itself. The store writes destinations only in the
-- transaction that inserted their prospect or holds its row lock, so the
-- check never found anything to refuse.
--
-- What the key's ON DELETE CASCADE did, the trigger below does once per
-- statement: destinations go with their prospects, however those are
-- deleted (and a TRUNCATE of the prospects takes the destinations along).
ALTER TABLE destinations DROP CONSTRAINT destinations_prospect_id_fkey;

CREATE FUNCTION prospects_drop_destinations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE destinations;
    ELSE
        -- An array, so that the plan (cached for the session, whatever the
        -- number of rows deleted) probes the primary key per prospect
        -- rather than joining the whole table.
        DELETE FROM destinations WHERE prospect_id = ANY (ARRAY(SELECT id FROM gone));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER prospects_drop_destinations AFTER DELETE ON prospects
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION prospects_drop_destinations();
CREATE TRIGGER prospects_truncate_destinations AFTER TRUNCATE ON prospects
    FOR EACH STATEMENT EXECUTE FUNCTION prospects_drop_destinations();

-- Seed 000: image details (alt_text, description) edited in the photo viewer did not persist,
-- because the viewer writes images while the photo grid reads album_images, which had no such
-- columns. album_images gains them, is backfilled from images, and triggers keep both tables
-- equal in both directions.
--
-- The triggers are built to converge under concurrent writers at READ COMMITTED (PostgreSQL's
-- default):
-- * They fire only when a synced column really changes (WHEN ... IS DISTINCT FROM ...), and the
--   UPDATEs they issue skip rows that already hold the value.
-- * No ping-pong: the images -> album_images fan-out runs with image_details.syncing = 'on'
--   (a function-level SET, restored when it returns), and the album_images trigger is skipped
--   while that setting is on, so an album row changed by the fan-out is not echoed back.
--   (pg_trigger_depth() would also skip album_images updates made by unrelated triggers.
--   A session that sets image_details.syncing itself turns the album -> images sync off.)
-- * A new album_images row (or one moved to another image) takes the image's current values,
--   read with SELECT ... FOR SHARE: when an images update is in flight the insert waits for it
--   and, under READ COMMITTED, reads the committed value; when the insert comes first, its
--   share lock makes the images update wait until the new row is committed, and the fan-out
--   (a new statement, so a new snapshot) then sees and updates it.
-- * Opposite updates (images row vs one of its album rows) lock the same rows in opposite
--   orders: either one waits for the other and then writes its value over it everywhere, or
--   PostgreSQL aborts one with a deadlock (40P01), which the client retries. They never both
--   commit with different values.
-- Known limit: an images update running under REPEATABLE READ (or SERIALIZABLE while the
-- inserter is not) keeps the snapshot it started with, so its fan-out cannot see an album row
-- committed meanwhile, and that row keeps the old value. Update image details at READ
-- COMMITTED, or run every writer of both tables SERIALIZABLE (the race then ends in a
-- serialization failure, 40001).

ALTER TABLE album_images
    ADD COLUMN alt_text text,
    ADD COLUMN description text;

COMMENT ON COLUMN album_images.alt_text IS 'Copy of images.alt_text, kept equal by triggers in both directions.';
COMMENT ON COLUMN album_images.description IS 'Copy of images.description, kept equal by triggers in both directions.';

-- Backfill before the triggers exist: nothing to echo.
UPDATE album_images AS ai
SET alt_text = i.alt_text,
    description = i.description
FROM images AS i
WHERE i.id = ai.image_id
  AND (ai.alt_text, ai.description) IS DISTINCT FROM (i.alt_text, i.description);

-- The seed indexed alt_text and description themselves: btree entries are limited to about
-- 2.7 kB, so a long description would make the write fail, and no query searches by them.
-- What is asked of these columns is "which photos of this album still lack alt text".
-- pgstrata:lint-ignore index-not-concurrently partial index over the few album_images rows lacking alt text; built with the migration that fills alt_text
CREATE INDEX album_images_missing_alt_text_idx ON album_images (album_id)
    WHERE alt_text IS NULL OR alt_text = '';

-- images -> every album row of the image (fan-out).
CREATE FUNCTION sync_image_details_to_album_images() RETURNS trigger
LANGUAGE plpgsql
SET image_details.syncing = 'on'
AS $$
BEGIN
    UPDATE album_images
    SET alt_text = NEW.alt_text,
        description = NEW.description
    WHERE image_id = NEW.id
      AND (alt_text, description) IS DISTINCT FROM (NEW.alt_text, NEW.description);
    RETURN NULL;
END;
$$;

-- album_images -> images; the images trigger then fans the value out to the image's other
-- album rows.
CREATE FUNCTION sync_album_image_details_to_images() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE images
    SET alt_text = NEW.alt_text,
        description = NEW.description
    WHERE id = NEW.image_id
      AND (alt_text, description) IS DISTINCT FROM (NEW.alt_text, NEW.description);
    RETURN NULL;
END;
$$;

-- A new (or re-pointed) album row starts from the image's current values; values given in the
-- INSERT are overwritten, as the images row is the one the viewer edits.
CREATE FUNCTION copy_image_details_to_album_image() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.image_id = OLD.image_id THEN
        RETURN NEW;
    END IF;
    SELECT i.alt_text, i.description
    INTO NEW.alt_text, NEW.description
    FROM images AS i
    WHERE i.id = NEW.image_id
    FOR SHARE;
    RETURN NEW;
END;
$$;

CREATE TRIGGER sync_image_details_to_album_images
    AFTER UPDATE OF alt_text, description ON images
    FOR EACH ROW
    WHEN ((OLD.alt_text, OLD.description) IS DISTINCT FROM (NEW.alt_text, NEW.description))
    EXECUTE FUNCTION sync_image_details_to_album_images();

CREATE TRIGGER sync_album_image_details_to_images
    AFTER UPDATE OF alt_text, description ON album_images
    FOR EACH ROW
    WHEN ((OLD.alt_text, OLD.description) IS DISTINCT FROM (NEW.alt_text, NEW.description)
          AND current_setting('image_details.syncing', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION sync_album_image_details_to_images();

CREATE TRIGGER copy_image_details_to_album_image
    BEFORE INSERT OR UPDATE OF image_id ON album_images
    FOR EACH ROW
    EXECUTE FUNCTION copy_image_details_to_album_image();

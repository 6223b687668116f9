-- Undoes V5 (seed 004): moves the offering_images links back into images.offering_id, then
-- drops the junction, explicit and prompt_fingerprint. images.offering_id holds one offering
-- per image, so when an image is linked to several offerings the rollback would lose links: it
-- refuses and names them. What the old schema cannot hold is dropped: is_primary, sort_order,
-- and which images were explicit. offering_id and product_def_id come back as the last
-- columns, where V1 put them, with their constraint, index and comments. (Refusals name the
-- first ten offenders and count the rest, so the message stays readable.)
DO $$
DECLARE
    shared text;
    total bigint;
BEGIN
    SELECT string_agg(format('image %s is linked to offerings %s', image_id, offerings), '; '
                      ORDER BY image_id) FILTER (WHERE n <= 10),
           count(*)
    INTO shared, total
    FROM (SELECT image_id,
                 string_agg(offering_id::text, ', ' ORDER BY offering_id) AS offerings,
                 row_number() OVER (ORDER BY image_id) AS n
          FROM offering_images
          GROUP BY image_id
          HAVING count(*) > 1) AS s;
    IF total > 0 THEN
        RAISE EXCEPTION 'cannot roll back V5: images.offering_id holds one offering per image, and %',
            shared || CASE WHEN total > 10 THEN format(' (and %s more images)', total - 10) ELSE '' END
            USING HINT = 'link each of these images to one offering only (copy the image for the others), then roll back again';
    END IF;
END;
$$;

-- Drops images_canonical_prompt_fingerprint_key with it.
ALTER TABLE images
    DROP COLUMN prompt_fingerprint,
    DROP COLUMN explicit;
ALTER TABLE images
    ADD COLUMN offering_id uuid,
    ADD COLUMN product_def_id uuid;

-- Moving links is not an edit: updated_at stays.
ALTER TABLE images DISABLE TRIGGER set_updated_at;
UPDATE images AS i
SET offering_id = oi.offering_id
FROM offering_images AS oi
WHERE oi.image_id = i.id;
ALTER TABLE images ENABLE TRIGGER set_updated_at;

-- pgstrata:lint-ignore constraint-not-valid restores the constraint V5 dropped on a column this rollback just filled from offering_images
ALTER TABLE images
    ADD CONSTRAINT images_offering_id_fkey FOREIGN KEY (offering_id)
        REFERENCES offerings (id) ON DELETE SET NULL;
-- pgstrata:lint-ignore index-not-concurrently restores the index V5 dropped, in the rollback's one transaction
CREATE INDEX images_offering_id_idx ON images (offering_id);
COMMENT ON COLUMN images.offering_id IS 'The one offering this image illustrates (V5 replaces it with offering_images).';
COMMENT ON COLUMN images.product_def_id IS 'Product definition in the catalogue service; not a foreign key, the catalogue lives elsewhere.';

DROP TABLE offering_images;
DROP FUNCTION image_prompt_fingerprint(integer, integer, integer, integer, text, text, text, text);
DROP FUNCTION image_prompt_field(text);

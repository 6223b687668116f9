-- Seed 004: an image could illustrate only one offering (images.offering_id), so a generated
-- image had to be duplicated for every offering showing the same product. Offerings now link
-- images through the offering_images junction, and images are either explicit (made for one
-- offering, e.g. an uploaded photo) or canonical (explicit = false: generated from the prompt
-- fields and shared by every offering with the same fingerprint). A partial unique index allows
-- one canonical image per prompt fingerprint; explicit images may share a fingerprint.
-- Existing images.offering_id links move into the junction before the column is dropped; the
-- view view_offering_images (views/) joins the junction to images.

-- The fingerprint hashes the UTF-8 bytes of the fields (see image_prompt_fingerprint).
DO $$
BEGIN
    IF pg_encoding_to_char((SELECT encoding FROM pg_database WHERE datname = current_database()))
       <> 'UTF8' THEN
        RAISE EXCEPTION 'images.prompt_fingerprint needs a UTF8 database, not %',
            pg_encoding_to_char((SELECT encoding FROM pg_database WHERE datname = current_database()));
    END IF;
END;
$$;

-- product_def_id is dropped without a replacement (the seed leaves product definition images
-- out); refuse rather than lose links that nothing else records.
DO $$
DECLARE
    linked text;
    total bigint;
BEGIN
    SELECT string_agg(id::text, ', ' ORDER BY id) FILTER (WHERE n <= 10), count(*)
    INTO linked, total
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
          FROM images WHERE product_def_id IS NOT NULL) AS linked_images;
    IF total > 0 THEN
        RAISE EXCEPTION 'images % still link to product definitions (images.product_def_id), which V5 drops',
            linked || CASE WHEN total > 10 THEN format(' (and %s more)', total - 10) ELSE '' END
            USING HINT = 'record those links elsewhere and set product_def_id to NULL, then migrate again';
    END IF;
END;
$$;

-- Normalisation, so the same prompt gives the same fingerprint however it was typed: each field
-- as text, NULL as '', trimmed of spaces, tabs, CR and LF, lower-cased in the "C" collation
-- (ASCII letters only: the result must not depend on the database's locale, or a restore into
-- another locale would recompute different fingerprints), '\' and '|' escaped with '\', joined
-- with '|' (escaping keeps the join unambiguous: ('a|b','') and ('a','b|') differ). Then sha256
-- of the UTF-8 bytes, as 64 lower-case hex digits. When every field is empty the image shows no
-- prompt and has no fingerprint (NULL), so such images never collide in the unique index.
--
-- A stored generated column needs IMMUTABLE functions. lower, btrim, replace, sha256, encode
-- and integer::text are; convert_to is only STABLE because it looks up encoding conversions in
-- the catalog. Declaring this function IMMUTABLE is safe because the check above guarantees a
-- UTF8 database, and converting UTF8 to UTF8 copies the bytes without any lookup. The body is
-- SQL-standard (RETURN ...), bound at creation, so search_path cannot change what it calls.
CREATE FUNCTION image_prompt_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN replace(replace(lower(btrim(coalesce(value, ''), E' \t\r\n') COLLATE "C"),
                       E'\\', E'\\\\'),
               '|', E'\\|');

CREATE FUNCTION image_prompt_fingerprint(
    material_id integer,
    form_id integer,
    surface_finish_id integer,
    construction_type_id integer,
    size_range text,
    quality_grade text,
    color_variant text,
    packaging text
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(NULLIF(
    image_prompt_field(material_id::text) || '|' || image_prompt_field(form_id::text) || '|'
    || image_prompt_field(surface_finish_id::text) || '|'
    || image_prompt_field(construction_type_id::text) || '|'
    || image_prompt_field(size_range) || '|' || image_prompt_field(quality_grade) || '|'
    || image_prompt_field(color_variant) || '|' || image_prompt_field(packaging),
    '|||||||'), 'UTF8')), 'hex');

COMMENT ON FUNCTION image_prompt_field(text) IS
    'One prompt field as image_prompt_fingerprint normalises it.';
COMMENT ON FUNCTION image_prompt_fingerprint(integer, integer, integer, integer, text, text, text, text) IS
    'sha256 hex of the normalised prompt fields; NULL when all are empty. Use it to look up the canonical image of an offering.';

-- Existing images were each made for one offering (or a book), none was chosen to be shared,
-- so they become explicit; new rows default to canonical, as in the seed. (ADD with DEFAULT
-- true fills the existing rows without a rewrite; the default is then changed for new rows.)
ALTER TABLE images ADD COLUMN explicit boolean NOT NULL DEFAULT true;
ALTER TABLE images ALTER COLUMN explicit SET DEFAULT false;

-- pgstrata:lint-ignore add-column-rewrite the fingerprint must exist for every image before the canonical index below; images is rewritten once, in this migration
ALTER TABLE images ADD COLUMN prompt_fingerprint varchar(64)
    GENERATED ALWAYS AS (image_prompt_fingerprint(
        material_id, form_id, surface_finish_id, construction_type_id,
        size_range, quality_grade, color_variant, packaging)) STORED;

COMMENT ON COLUMN images.explicit IS 'true: made for one offering; false: canonical, shared by every offering with its prompt_fingerprint.';

-- pgstrata:lint-ignore index-not-concurrently the table was just rewritten under ACCESS EXCLUSIVE by the column above; building concurrently would gain nothing
CREATE UNIQUE INDEX images_canonical_prompt_fingerprint_key ON images (prompt_fingerprint)
    WHERE NOT explicit;

CREATE TABLE offering_images (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    offering_id uuid NOT NULL,
    image_id uuid NOT NULL,
    is_primary boolean NOT NULL DEFAULT false,
    sort_order integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offering_images_pkey PRIMARY KEY (id),
    CONSTRAINT offering_images_offering_id_fkey FOREIGN KEY (offering_id)
        REFERENCES offerings (id) ON DELETE CASCADE,
    -- A shared canonical image must not silently vanish from every offering using it.
    CONSTRAINT offering_images_image_id_fkey FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE RESTRICT,
    CONSTRAINT offering_images_offering_id_image_id_key UNIQUE (offering_id, image_id)
);
CREATE UNIQUE INDEX offering_images_one_primary_key ON offering_images (offering_id)
    WHERE is_primary;
CREATE INDEX offering_images_image_id_idx ON offering_images (image_id);

-- The old links carry no primary flag or order: none is made primary, and they are ordered
-- as the images were created.
INSERT INTO offering_images (offering_id, image_id, sort_order, created_at)
SELECT offering_id,
       id,
       (row_number() OVER (PARTITION BY offering_id ORDER BY created_at, id) - 1)::integer,
       created_at
FROM images
WHERE offering_id IS NOT NULL;

-- Drops images_offering_id_fkey, images_offering_id_idx and the column comments with them.
-- pgstrata:lint-ignore drop-column the links were copied into offering_images above and the rollback restores them
ALTER TABLE images
    DROP COLUMN offering_id,
    DROP COLUMN product_def_id;

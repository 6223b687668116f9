-- V1 baseline: the schema as it was before the seed fixes (seeds 000-004 start from here).
--
-- Books have albums of images; images also illustrate offerings (images.offering_id) and
-- product definitions (images.product_def_id); content creation requests keep the scenes they
-- generated, with each scene's imageUrls, in one JSONB document. Later versions fix what this
-- shape got wrong. images.offering_id and images.product_def_id are the LAST columns of images
-- on purpose: V5 drops them and its rollback re-adds them, and re-added columns are appended,
-- so only last columns come back in the same place.

-- Keeps updated_at honest on every table that has one.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE books (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    title text NOT NULL,
    author text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT books_pkey PRIMARY KEY (id)
);

CREATE TABLE albums (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    book_id uuid NOT NULL,
    title text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT albums_pkey PRIMARY KEY (id),
    CONSTRAINT albums_book_id_fkey FOREIGN KEY (book_id) REFERENCES books (id) ON DELETE CASCADE
);
CREATE INDEX albums_book_id_idx ON albums (book_id);

CREATE TABLE offerings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offerings_pkey PRIMARY KEY (id)
);

CREATE TABLE images (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    url text,
    filepath text,
    alt_text text,
    description text,
    -- What the image shows; seed 004 derives a prompt fingerprint from these eight fields.
    material_id integer,
    form_id integer,
    surface_finish_id integer,
    construction_type_id integer,
    size_range text,
    quality_grade text,
    color_variant text,
    packaging text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    offering_id uuid,
    product_def_id uuid,
    CONSTRAINT images_pkey PRIMARY KEY (id),
    CONSTRAINT images_url_or_filepath_check CHECK (url IS NOT NULL OR filepath IS NOT NULL),
    CONSTRAINT images_offering_id_fkey FOREIGN KEY (offering_id)
        REFERENCES offerings (id) ON DELETE SET NULL
);
CREATE INDEX images_offering_id_idx ON images (offering_id);
COMMENT ON COLUMN images.offering_id IS 'The one offering this image illustrates (V5 replaces it with offering_images).';
COMMENT ON COLUMN images.product_def_id IS 'Product definition in the catalogue service; not a foreign key, the catalogue lives elsewhere.';

CREATE TABLE album_images (
    album_id uuid NOT NULL,
    image_id uuid NOT NULL,
    caption text,
    sort_order integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT album_images_pkey PRIMARY KEY (album_id, image_id),
    CONSTRAINT album_images_album_id_fkey FOREIGN KEY (album_id)
        REFERENCES albums (id) ON DELETE CASCADE,
    CONSTRAINT album_images_image_id_fkey FOREIGN KEY (image_id)
        REFERENCES images (id) ON DELETE CASCADE
);
-- The primary key serves lookups by album; deleting an image needs its album rows by image.
CREATE INDEX album_images_image_id_idx ON album_images (image_id);

CREATE TABLE content_creation_requests (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    prompt text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    -- {"scenes": [{"id": "scene-1", "index": 1, "imageUrls": ["https://..."]}, ...]}
    generated_output jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_creation_requests_pkey PRIMARY KEY (id),
    CONSTRAINT content_creation_requests_status_check
        CHECK (status IN ('pending', 'generating', 'completed', 'failed'))
);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON books
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON albums
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON offerings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON images
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON content_creation_requests
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

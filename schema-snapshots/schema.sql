-- pgstrata schema snapshot: one block per object, each opened by a `-- <kind> <name>` line.
SET check_function_bodies = off;
SET client_min_messages = warning;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

-- schema public
CREATE SCHEMA IF NOT EXISTS "public";
COMMENT ON SCHEMA "public" IS 'standard public schema';

-- function public.copy_image_details_to_album_image()
CREATE OR REPLACE FUNCTION public.copy_image_details_to_album_image()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;

-- function public.image_prompt_field(text)
CREATE OR REPLACE FUNCTION public.image_prompt_field(value text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
RETURN replace(replace(lower((btrim(COALESCE(value, ''::text), ' 	
'::text) COLLATE "C")), '\'::text, '\\'::text), '|'::text, '\|'::text);
COMMENT ON FUNCTION "public"."image_prompt_field"(text) IS 'One prompt field as image_prompt_fingerprint normalises it.';

-- function public.image_prompt_fingerprint(integer, integer, integer, integer, text, text, text, text)
CREATE OR REPLACE FUNCTION public.image_prompt_fingerprint(material_id integer, form_id integer, surface_finish_id integer, construction_type_id integer, size_range text, quality_grade text, color_variant text, packaging text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(NULLIF(((((((((((((((public.image_prompt_field((material_id)::text) || '|'::text) || public.image_prompt_field((form_id)::text)) || '|'::text) || public.image_prompt_field((surface_finish_id)::text)) || '|'::text) || public.image_prompt_field((construction_type_id)::text)) || '|'::text) || public.image_prompt_field(size_range)) || '|'::text) || public.image_prompt_field(quality_grade)) || '|'::text) || public.image_prompt_field(color_variant)) || '|'::text) || public.image_prompt_field(packaging)), '|||||||'::text), 'UTF8'::name)), 'hex'::text);
COMMENT ON FUNCTION "public"."image_prompt_fingerprint"(integer, integer, integer, integer, text, text, text, text) IS 'sha256 hex of the normalised prompt fields; NULL when all are empty. Use it to look up the canonical image of an offering.';

-- function public.set_updated_at()
CREATE OR REPLACE FUNCTION public.set_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$function$;

-- function public.sync_album_image_details_to_images()
CREATE OR REPLACE FUNCTION public.sync_album_image_details_to_images()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    UPDATE images
    SET alt_text = NEW.alt_text,
        description = NEW.description
    WHERE id = NEW.image_id
      AND (alt_text, description) IS DISTINCT FROM (NEW.alt_text, NEW.description);
    RETURN NULL;
END;
$function$;

-- function public.sync_image_details_to_album_images()
CREATE OR REPLACE FUNCTION public.sync_image_details_to_album_images()
 RETURNS trigger
 LANGUAGE plpgsql
 SET "image_details.syncing" TO 'on'
AS $function$
BEGIN
    UPDATE album_images
    SET alt_text = NEW.alt_text,
        description = NEW.description
    WHERE image_id = NEW.id
      AND (alt_text, description) IS DISTINCT FROM (NEW.alt_text, NEW.description);
    RETURN NULL;
END;
$function$;

-- function public.upsert_image_metadata(text, text, text, text, text, text, text)
CREATE OR REPLACE FUNCTION public.upsert_image_metadata(p_organization_id text, p_key text, p_image_item_path text, p_image_item_id text, p_image_preview_path text, p_alt_text text, p_description text)
 RETURNS uuid
 LANGUAGE sql
AS $function$
    INSERT INTO image_metadata AS m (organization_id, key, image_item_path, image_item_id,
                                     image_preview_path, alt_text, description)
    VALUES (p_organization_id, p_key, p_image_item_path, p_image_item_id,
            p_image_preview_path, p_alt_text, p_description)
    ON CONFLICT ON CONSTRAINT image_metadata_organization_id_key_image_item_id_key
    DO UPDATE SET image_item_path = EXCLUDED.image_item_path,
                  image_preview_path = EXCLUDED.image_preview_path,
                  alt_text = EXCLUDED.alt_text,
                  description = EXCLUDED.description,
                  updated_at = now()
    RETURNING m.id;
$function$;
COMMENT ON FUNCTION "public"."upsert_image_metadata"(text, text, text, text, text, text, text) IS 'Inserts or updates the metadata of (organization_id, key, image_item_id); returns the row id.';

-- table public.album_images
CREATE TABLE "public"."album_images" (
    "album_id" uuid NOT NULL,
    "image_id" uuid NOT NULL,
    "caption" text,
    "sort_order" integer DEFAULT 0 NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "alt_text" text,
    "description" text
);
COMMENT ON COLUMN "public"."album_images"."alt_text" IS 'Copy of images.alt_text, kept equal by triggers in both directions.';
COMMENT ON COLUMN "public"."album_images"."description" IS 'Copy of images.description, kept equal by triggers in both directions.';

-- table public.albums
CREATE TABLE "public"."albums" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "book_id" uuid NOT NULL,
    "title" text NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.books
CREATE TABLE "public"."books" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "title" text NOT NULL,
    "author" text,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.content_creation_requests
CREATE TABLE "public"."content_creation_requests" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "prompt" text NOT NULL,
    "status" text DEFAULT 'pending'::text NOT NULL,
    "generated_output" jsonb,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.generated_images
CREATE TABLE "public"."generated_images" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "content_creation_request_id" uuid NOT NULL,
    "scene_index" integer NOT NULL,
    "image_url" text NOT NULL,
    "image_index" integer DEFAULT 0 NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.image_metadata
CREATE TABLE "public"."image_metadata" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "organization_id" text NOT NULL,
    "key" text NOT NULL,
    "image_item_path" text,
    "image_item_id" text NOT NULL,
    "image_preview_path" text,
    "alt_text" text,
    "description" text,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.images
CREATE TABLE "public"."images" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "url" text,
    "filepath" text,
    "alt_text" text,
    "description" text,
    "material_id" integer,
    "form_id" integer,
    "surface_finish_id" integer,
    "construction_type_id" integer,
    "size_range" text,
    "quality_grade" text,
    "color_variant" text,
    "packaging" text,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL,
    "explicit" boolean DEFAULT false NOT NULL,
    "prompt_fingerprint" character varying(64) GENERATED ALWAYS AS (public.image_prompt_fingerprint(material_id, form_id, surface_finish_id, construction_type_id, size_range, quality_grade, color_variant, packaging)) STORED
);
COMMENT ON COLUMN "public"."images"."explicit" IS 'true: made for one offering; false: canonical, shared by every offering with its prompt_fingerprint.';

-- table public.offering_images
CREATE TABLE "public"."offering_images" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "offering_id" uuid NOT NULL,
    "image_id" uuid NOT NULL,
    "is_primary" boolean DEFAULT false NOT NULL,
    "sort_order" integer DEFAULT 0 NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- table public.offerings
CREATE TABLE "public"."offerings" (
    "id" uuid DEFAULT gen_random_uuid() NOT NULL,
    "name" text NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL,
    "updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

-- constraint public.album_images album_images_pkey
ALTER TABLE ONLY "public"."album_images" ADD CONSTRAINT "album_images_pkey" PRIMARY KEY (album_id, image_id);

-- constraint public.albums albums_pkey
ALTER TABLE ONLY "public"."albums" ADD CONSTRAINT "albums_pkey" PRIMARY KEY (id);

-- constraint public.books books_pkey
ALTER TABLE ONLY "public"."books" ADD CONSTRAINT "books_pkey" PRIMARY KEY (id);

-- constraint public.content_creation_requests content_creation_requests_pkey
ALTER TABLE ONLY "public"."content_creation_requests" ADD CONSTRAINT "content_creation_requests_pkey" PRIMARY KEY (id);

-- constraint public.content_creation_requests content_creation_requests_status_check
ALTER TABLE ONLY "public"."content_creation_requests" ADD CONSTRAINT "content_creation_requests_status_check" CHECK ((status = ANY (ARRAY['pending'::text, 'generating'::text, 'completed'::text, 'failed'::text])));

-- constraint public.generated_images generated_images_image_index_check
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_image_index_check" CHECK ((image_index >= 0));

-- constraint public.generated_images generated_images_pkey
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_pkey" PRIMARY KEY (id);

-- constraint public.generated_images generated_images_request_scene_image_key
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_request_scene_image_key" UNIQUE (content_creation_request_id, scene_index, image_index);

-- constraint public.image_metadata image_metadata_organization_id_key_image_item_id_key
ALTER TABLE ONLY "public"."image_metadata" ADD CONSTRAINT "image_metadata_organization_id_key_image_item_id_key" UNIQUE (organization_id, key, image_item_id);

-- constraint public.image_metadata image_metadata_pkey
ALTER TABLE ONLY "public"."image_metadata" ADD CONSTRAINT "image_metadata_pkey" PRIMARY KEY (id);

-- constraint public.images images_pkey
ALTER TABLE ONLY "public"."images" ADD CONSTRAINT "images_pkey" PRIMARY KEY (id);

-- constraint public.images images_url_or_filepath_check
ALTER TABLE ONLY "public"."images" ADD CONSTRAINT "images_url_or_filepath_check" CHECK (((url IS NOT NULL) OR (filepath IS NOT NULL)));

-- constraint public.offering_images offering_images_offering_id_image_id_key
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_offering_id_image_id_key" UNIQUE (offering_id, image_id);

-- constraint public.offering_images offering_images_pkey
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_pkey" PRIMARY KEY (id);

-- constraint public.offerings offerings_pkey
ALTER TABLE ONLY "public"."offerings" ADD CONSTRAINT "offerings_pkey" PRIMARY KEY (id);

-- index public.album_images_image_id_idx
CREATE INDEX album_images_image_id_idx ON public.album_images USING btree (image_id);

-- index public.album_images_missing_alt_text_idx
CREATE INDEX album_images_missing_alt_text_idx ON public.album_images USING btree (album_id) WHERE ((alt_text IS NULL) OR (alt_text = ''::text));

-- index public.albums_book_id_idx
CREATE INDEX albums_book_id_idx ON public.albums USING btree (book_id);

-- index public.images_canonical_prompt_fingerprint_key
CREATE UNIQUE INDEX images_canonical_prompt_fingerprint_key ON public.images USING btree (prompt_fingerprint) WHERE (NOT explicit);

-- index public.offering_images_image_id_idx
CREATE INDEX offering_images_image_id_idx ON public.offering_images USING btree (image_id);

-- index public.offering_images_one_primary_key
CREATE UNIQUE INDEX offering_images_one_primary_key ON public.offering_images USING btree (offering_id) WHERE is_primary;

-- constraint public.album_images album_images_album_id_fkey
ALTER TABLE ONLY "public"."album_images" ADD CONSTRAINT "album_images_album_id_fkey" FOREIGN KEY (album_id) REFERENCES public.albums(id) ON DELETE CASCADE;

-- constraint public.album_images album_images_image_id_fkey
ALTER TABLE ONLY "public"."album_images" ADD CONSTRAINT "album_images_image_id_fkey" FOREIGN KEY (image_id) REFERENCES public.images(id) ON DELETE CASCADE;

-- constraint public.albums albums_book_id_fkey
ALTER TABLE ONLY "public"."albums" ADD CONSTRAINT "albums_book_id_fkey" FOREIGN KEY (book_id) REFERENCES public.books(id) ON DELETE CASCADE;

-- constraint public.generated_images generated_images_content_creation_request_id_fkey
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_content_creation_request_id_fkey" FOREIGN KEY (content_creation_request_id) REFERENCES public.content_creation_requests(id) ON DELETE CASCADE;

-- constraint public.offering_images offering_images_image_id_fkey
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_image_id_fkey" FOREIGN KEY (image_id) REFERENCES public.images(id) ON DELETE RESTRICT;

-- constraint public.offering_images offering_images_offering_id_fkey
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_offering_id_fkey" FOREIGN KEY (offering_id) REFERENCES public.offerings(id) ON DELETE CASCADE;

-- view public.view_offering_images
CREATE VIEW "public"."view_offering_images" AS
SELECT oi.id AS offering_image_id,
    oi.offering_id,
    oi.image_id,
    oi.is_primary,
    oi.sort_order,
    oi.created_at AS linked_at,
    i.url,
    i.filepath,
    i.alt_text,
    i.description,
    i.explicit,
    i.prompt_fingerprint,
    i.material_id,
    i.form_id,
    i.surface_finish_id,
    i.construction_type_id,
    i.size_range,
    i.quality_grade,
    i.color_variant,
    i.packaging,
    i.created_at AS image_created_at,
    i.updated_at AS image_updated_at
   FROM (public.offering_images oi
     JOIN public.images i ON ((i.id = oi.image_id)));

-- trigger public.album_images copy_image_details_to_album_image
CREATE TRIGGER copy_image_details_to_album_image BEFORE INSERT OR UPDATE OF image_id ON public.album_images FOR EACH ROW EXECUTE FUNCTION public.copy_image_details_to_album_image();

-- trigger public.album_images sync_album_image_details_to_images
CREATE TRIGGER sync_album_image_details_to_images AFTER UPDATE OF alt_text, description ON public.album_images FOR EACH ROW WHEN ((((old.alt_text IS DISTINCT FROM new.alt_text) OR (old.description IS DISTINCT FROM new.description)) AND (current_setting('image_details.syncing'::text, true) IS DISTINCT FROM 'on'::text))) EXECUTE FUNCTION public.sync_album_image_details_to_images();

-- trigger public.albums set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.albums FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.books set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.books FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.content_creation_requests set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.content_creation_requests FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.generated_images set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.generated_images FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.images set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.images FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.images sync_image_details_to_album_images
CREATE TRIGGER sync_image_details_to_album_images AFTER UPDATE OF alt_text, description ON public.images FOR EACH ROW WHEN (((old.alt_text IS DISTINCT FROM new.alt_text) OR (old.description IS DISTINCT FROM new.description))) EXECUTE FUNCTION public.sync_image_details_to_album_images();

-- trigger public.offerings set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.offerings FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

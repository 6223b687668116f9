-- pgstrata schema delta: the objects this migration adds or changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each object it removes. schema-snapshots/schema.sql holds the whole schema at the newest migration.

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

-- index public.album_images_missing_alt_text_idx
CREATE INDEX album_images_missing_alt_text_idx ON public.album_images USING btree (album_id) WHERE ((alt_text IS NULL) OR (alt_text = ''::text));

-- trigger public.album_images copy_image_details_to_album_image
CREATE TRIGGER copy_image_details_to_album_image BEFORE INSERT OR UPDATE OF image_id ON public.album_images FOR EACH ROW EXECUTE FUNCTION public.copy_image_details_to_album_image();

-- trigger public.album_images sync_album_image_details_to_images
CREATE TRIGGER sync_album_image_details_to_images AFTER UPDATE OF alt_text, description ON public.album_images FOR EACH ROW WHEN ((((old.alt_text IS DISTINCT FROM new.alt_text) OR (old.description IS DISTINCT FROM new.description)) AND (current_setting('image_details.syncing'::text, true) IS DISTINCT FROM 'on'::text))) EXECUTE FUNCTION public.sync_album_image_details_to_images();

-- trigger public.images sync_image_details_to_album_images
CREATE TRIGGER sync_image_details_to_album_images AFTER UPDATE OF alt_text, description ON public.images FOR EACH ROW WHEN (((old.alt_text IS DISTINCT FROM new.alt_text) OR (old.description IS DISTINCT FROM new.description))) EXECUTE FUNCTION public.sync_image_details_to_album_images();

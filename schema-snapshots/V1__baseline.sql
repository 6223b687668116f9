-- pgstrata schema delta: the objects this migration adds or changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each object it removes. schema-snapshots/schema.sql holds the whole schema at the newest migration.

-- schema public
CREATE SCHEMA IF NOT EXISTS "public";
COMMENT ON SCHEMA "public" IS 'standard public schema';

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

-- table public.album_images
CREATE TABLE "public"."album_images" (
    "album_id" uuid NOT NULL,
    "image_id" uuid NOT NULL,
    "caption" text,
    "sort_order" integer DEFAULT 0 NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL
);

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
    "offering_id" uuid,
    "product_def_id" uuid
);
COMMENT ON COLUMN "public"."images"."offering_id" IS 'The one offering this image illustrates (V5 replaces it with offering_images).';
COMMENT ON COLUMN "public"."images"."product_def_id" IS 'Product definition in the catalogue service; not a foreign key, the catalogue lives elsewhere.';

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

-- constraint public.images images_pkey
ALTER TABLE ONLY "public"."images" ADD CONSTRAINT "images_pkey" PRIMARY KEY (id);

-- constraint public.images images_url_or_filepath_check
ALTER TABLE ONLY "public"."images" ADD CONSTRAINT "images_url_or_filepath_check" CHECK (((url IS NOT NULL) OR (filepath IS NOT NULL)));

-- constraint public.offerings offerings_pkey
ALTER TABLE ONLY "public"."offerings" ADD CONSTRAINT "offerings_pkey" PRIMARY KEY (id);

-- index public.album_images_image_id_idx
CREATE INDEX album_images_image_id_idx ON public.album_images USING btree (image_id);

-- index public.albums_book_id_idx
CREATE INDEX albums_book_id_idx ON public.albums USING btree (book_id);

-- index public.images_offering_id_idx
CREATE INDEX images_offering_id_idx ON public.images USING btree (offering_id);

-- constraint public.album_images album_images_album_id_fkey
ALTER TABLE ONLY "public"."album_images" ADD CONSTRAINT "album_images_album_id_fkey" FOREIGN KEY (album_id) REFERENCES public.albums(id) ON DELETE CASCADE;

-- constraint public.album_images album_images_image_id_fkey
ALTER TABLE ONLY "public"."album_images" ADD CONSTRAINT "album_images_image_id_fkey" FOREIGN KEY (image_id) REFERENCES public.images(id) ON DELETE CASCADE;

-- constraint public.albums albums_book_id_fkey
ALTER TABLE ONLY "public"."albums" ADD CONSTRAINT "albums_book_id_fkey" FOREIGN KEY (book_id) REFERENCES public.books(id) ON DELETE CASCADE;

-- constraint public.images images_offering_id_fkey
ALTER TABLE ONLY "public"."images" ADD CONSTRAINT "images_offering_id_fkey" FOREIGN KEY (offering_id) REFERENCES public.offerings(id) ON DELETE SET NULL;

-- trigger public.albums set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.albums FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.books set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.books FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.content_creation_requests set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.content_creation_requests FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.images set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.images FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- trigger public.offerings set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.offerings FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

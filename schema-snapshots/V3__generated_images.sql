-- pgstrata schema delta: the objects this migration adds or changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each object it removes. schema-snapshots/schema.sql holds the whole schema at the newest migration.

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

-- constraint public.generated_images generated_images_image_index_check
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_image_index_check" CHECK ((image_index >= 0));

-- constraint public.generated_images generated_images_pkey
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_pkey" PRIMARY KEY (id);

-- constraint public.generated_images generated_images_request_scene_image_key
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_request_scene_image_key" UNIQUE (content_creation_request_id, scene_index, image_index);

-- constraint public.generated_images generated_images_content_creation_request_id_fkey
ALTER TABLE ONLY "public"."generated_images" ADD CONSTRAINT "generated_images_content_creation_request_id_fkey" FOREIGN KEY (content_creation_request_id) REFERENCES public.content_creation_requests(id) ON DELETE CASCADE;

-- trigger public.generated_images set_updated_at
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.generated_images FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

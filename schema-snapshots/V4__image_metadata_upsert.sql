-- pgstrata schema delta: the objects this migration adds or changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each object it removes. schema-snapshots/schema.sql holds the whole schema at the newest migration.

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

-- constraint public.image_metadata image_metadata_organization_id_key_image_item_id_key
ALTER TABLE ONLY "public"."image_metadata" ADD CONSTRAINT "image_metadata_organization_id_key_image_item_id_key" UNIQUE (organization_id, key, image_item_id);

-- constraint public.image_metadata image_metadata_pkey
ALTER TABLE ONLY "public"."image_metadata" ADD CONSTRAINT "image_metadata_pkey" PRIMARY KEY (id);

-- pgstrata schema delta: the objects this migration adds or changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each object it removes. schema-snapshots/schema.sql holds the whole schema at the newest migration.
-- dropped: index public.images_offering_id_idx
-- dropped: constraint public.images images_offering_id_fkey

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

-- constraint public.offering_images offering_images_offering_id_image_id_key
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_offering_id_image_id_key" UNIQUE (offering_id, image_id);

-- constraint public.offering_images offering_images_pkey
ALTER TABLE ONLY "public"."offering_images" ADD CONSTRAINT "offering_images_pkey" PRIMARY KEY (id);

-- index public.images_canonical_prompt_fingerprint_key
CREATE UNIQUE INDEX images_canonical_prompt_fingerprint_key ON public.images USING btree (prompt_fingerprint) WHERE (NOT explicit);

-- index public.offering_images_image_id_idx
CREATE INDEX offering_images_image_id_idx ON public.offering_images USING btree (image_id);

-- index public.offering_images_one_primary_key
CREATE UNIQUE INDEX offering_images_one_primary_key ON public.offering_images USING btree (offering_id) WHERE is_primary;

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

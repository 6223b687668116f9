-- Seed 002: saving an image's metadata twice must update the one row for that image, never
-- add a second, and tell the caller which row it is. image_metadata is keyed by the composite
-- UNIQUE (organization_id, key, image_item_id), and upsert_image_metadata() is one
-- INSERT ... ON CONFLICT DO UPDATE ... RETURNING id: atomic, so concurrent saves of the same
-- image end in one row (the losers of the insert race wait and update it), and the caller gets
-- a new id on insert and the existing id on update, with created_at kept and updated_at moved
-- to the time of the saving transaction.

CREATE TABLE image_metadata (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    organization_id text NOT NULL,
    key text NOT NULL,
    image_item_path text,
    image_item_id text NOT NULL,
    image_preview_path text,
    alt_text text,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT image_metadata_pkey PRIMARY KEY (id),
    CONSTRAINT image_metadata_organization_id_key_image_item_id_key
        UNIQUE (organization_id, key, image_item_id)
);

CREATE FUNCTION upsert_image_metadata(
    p_organization_id text,
    p_key text,
    p_image_item_path text,
    p_image_item_id text,
    p_image_preview_path text,
    p_alt_text text,
    p_description text
) RETURNS uuid
LANGUAGE sql AS $$
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
$$;

COMMENT ON FUNCTION upsert_image_metadata(text, text, text, text, text, text, text) IS
    'Inserts or updates the metadata of (organization_id, key, image_item_id); returns the row id.';

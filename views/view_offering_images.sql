-- pgstrata:requires V5
-- Seed 004: an offering's images, read through the offering_images junction, with the link's
-- own fields (primary flag, order) and the image's. Columns are listed, not i.*: a view fixes
-- its column list when created, and CREATE OR REPLACE can only append to it.
CREATE OR REPLACE VIEW view_offering_images AS
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
FROM offering_images AS oi
JOIN images AS i ON i.id = oi.image_id;

INSERT INTO {schema}.views (file, schema_name, view_name, checksum)
VALUES ($1, $2, $3, $4)
ON CONFLICT (file) DO UPDATE
SET schema_name = EXCLUDED.schema_name,
    view_name = EXCLUDED.view_name,
    checksum = EXCLUDED.checksum,
    applied_at = now()

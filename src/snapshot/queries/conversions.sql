-- Conversions in the kept schemas ($1), leaving out extension members. The function by its
-- name alone, as CREATE CONVERSION takes it (qualified where not in pg_catalog).
SELECT c.oid, n.nspname AS schema, c.conname AS name,
    pg_encoding_to_char(c.conforencoding) AS source,
    pg_encoding_to_char(c.contoencoding) AS target,
    c.conproc::text AS function, c.condefault AS is_default
FROM pg_conversion c
JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.connamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_conversion'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

-- A table's live columns in order: name, type as the server spells it (schema-qualified
-- where the session's search_path, set to pg_catalog by the caller, does not reach), and
-- whether the column is generated (a copy cannot be written into one).
SELECT a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attgenerated <> ''
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

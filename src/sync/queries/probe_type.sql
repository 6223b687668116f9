-- The server's spelling of the type of the probe column `canonical_type` made.
SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = 'pg_temp.pgstrata_type_probe'::pg_catalog.regclass AND a.attname = 'probe'

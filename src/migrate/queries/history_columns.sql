-- The columns of pgstrata's tables as they are, to say what is wrong with a table in their
-- place that pgstrata cannot read. Only run after such a failure.
SELECT c.relname::text,
       a.attname::text,
       format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
  AND c.relname IN ('history', 'meta', 'views')
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY c.relname, a.attnum

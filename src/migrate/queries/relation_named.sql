-- The relation a name finds, through search_path when it is unqualified ($1 is quoted as SQL
-- writes it: "app"."t" or "t"), as its schema and name; no row when none.
SELECT n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)

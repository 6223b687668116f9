-- What the relation $1.$2 is, if it exists: 'v' a view, 'm' a materialized view, another
-- pg_class.relkind for anything else.
SELECT c.relkind::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2

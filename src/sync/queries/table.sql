-- The table a spec names, by exact schema and name: its oid and kind (ordinary or
-- partitioned tables only can carry the triggers a spec makes).
SELECT c.oid, c.relkind::text
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2

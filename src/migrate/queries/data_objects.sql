-- The tables and materialized views that hold data, with their columns, outside the system
-- schemas and pgstrata's own ($1): what a rollback could destroy. Read before and after a
-- rehearsal of the rollback; what is gone is what it drops. (A partitioned table holds no rows
-- itself: its partitions are listed, and counted, on their own.)
SELECT c.oid::int8,
       n.nspname::text,
       c.relname::text,
       c.relkind::text,
       c.relispopulated,
       a.attnum::int4,
       a.attname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1)
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp%'

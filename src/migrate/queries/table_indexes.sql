-- The indexes of table $1 (a name as the statement wrote it, resolved with the session's
-- search_path): schema, name, and whether it is valid. A failed CREATE INDEX CONCURRENTLY
-- leaves an invalid one (no_transaction.rs).
SELECT n.nspname::text, c.relname::text, i.indisvalid
  FROM pg_catalog.pg_index AS i
  JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE i.indrelid = pg_catalog.to_regclass($1)

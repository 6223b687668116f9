-- dbmate's history: version varchar (the file's leading digits), nothing else; and whether
-- the table has golang-migrate's `dirty` column (both tools name it schema_migrations).
SELECT version::text, NULL::text, to_jsonb(t) ? 'dirty' FROM {table} AS t ORDER BY version

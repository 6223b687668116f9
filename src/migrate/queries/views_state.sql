-- The current schema (where unqualified views go) and the search path (where unqualified
-- names are found), then the managed views pgstrata recorded and whether each still exists as
-- a relation. Always one row at least: `file` is NULL when none are recorded. to_regclass keeps a fresh session's first query cheap (no pg_class join to plan);
-- for the same reason the caller sorts the rows, not an ORDER BY.
SELECT current_schema()::text AS current_schema,
       current_schemas(false)::text[] AS search_path,
       v.file,
       v.schema_name,
       v.view_name,
       v.checksum,
       to_regclass(quote_ident(v.schema_name) || '.' || quote_ident(v.view_name)) IS NOT NULL AS present
FROM (VALUES (1)) AS one
LEFT JOIN {schema}.views v ON true

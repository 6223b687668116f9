-- The current schema (where unqualified views go) and the search path (where unqualified
-- names are found), then the managed views pgstrata recorded and whether each still exists as
-- a view or materialized view (a table of that name is not it). Always one row at least:
-- `file` is NULL when none are recorded. to_regclass keeps a fresh session's first query cheap (no pg_class join to plan);
-- for the same reason the caller sorts the rows, not an ORDER BY.
SELECT current_schema()::text AS current_schema,
       current_schemas(false)::text[] AS search_path,
       v.file,
       v.schema_name,
       v.view_name,
       v.checksum,
       EXISTS (SELECT 1 FROM pg_catalog.pg_class c
               WHERE c.oid = to_regclass(quote_ident(v.schema_name) || '.' || quote_ident(v.view_name))
                 AND c.relkind IN ('v', 'm')) AS present
FROM (VALUES (1)) AS one
LEFT JOIN {schema}.views v ON true

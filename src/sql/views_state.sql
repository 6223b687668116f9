-- The managed views pgstrata recorded, and whether each still exists.
SELECT v.file,
       v.schema_name,
       v.view_name,
       v.checksum,
       EXISTS (
           SELECT 1
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = v.schema_name
             AND c.relname = v.view_name
             AND c.relkind IN ('v', 'm')
       ) AS present
FROM {schema}.views v
ORDER BY v.file

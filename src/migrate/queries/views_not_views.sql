-- The recorded managed views whose name is now taken by something else than a view or a
-- materialized view (a migration replaced the view with a table): not present, for the views
-- read exactly (the quick read of views_state.sql, for a no-op `up`, does not join pg_class).
SELECT v.schema_name, v.view_name
FROM {schema}.views v
JOIN pg_catalog.pg_namespace n ON n.nspname = v.schema_name
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = v.view_name
WHERE c.relkind NOT IN ('v', 'm')

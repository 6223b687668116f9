-- The rows of every ordinary table outside the system schemas and those in $1 (pgstrata's
-- own): what check compares to see whether a rollback left rows behind. One statement for all
-- tables: query_to_xml runs each count, and format's %I quotes the names on the server.
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       (pg_catalog.xpath(
           '/row/n/text()',
           pg_catalog.query_to_xml(
               pg_catalog.format('SELECT count(*) AS n FROM ONLY %I.%I', n.nspname, c.relname),
               false, true, '')))[1]::text::bigint AS rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1, 2

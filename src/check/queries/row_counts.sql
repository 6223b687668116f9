-- The rows of every ordinary table outside the system schemas and those in $1 (pgstrata's
-- own): what check compares to see whether a rollback left rows behind. One statement for all
-- tables: query_to_xml runs each count, and format's %I quotes the names on the server.
-- A heap table whose main fork has no page holds no row (every row lives on a page of it),
-- so it is not scanned: on a long history of empty tables, the counts cost more than the
-- migrations. (Another access method may keep its rows elsewhere: always counted.)
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       CASE WHEN am.amname = 'heap' AND pg_catalog.pg_relation_size(c.oid) = 0 THEN 0::bigint ELSE
       (pg_catalog.xpath(
           '/row/n/text()',
           pg_catalog.query_to_xml(
               pg_catalog.format('SELECT count(*) AS n FROM ONLY %I.%I', n.nspname, c.relname),
               false, true, '')))[1]::text::bigint END AS rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind = 'r'
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1, 2

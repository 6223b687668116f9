-- Objects in the history schema ($1) other than pgstrata's own tables ($2) and what belongs
-- to them (indexes, TOAST, row types, owned sequences): snapshots leave the history schema
-- out, so these would go unseen by drift and check. A few are enough to name the problem.
WITH ns AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1
)
SELECT kind, name
FROM (
    SELECT CASE c.relkind
               WHEN 'v' THEN 'view'
               WHEN 'm' THEN 'materialized view'
               WHEN 'S' THEN 'sequence'
               WHEN 'f' THEN 'foreign table'
               WHEN 'c' THEN 'type'
               ELSE 'table'
           END AS kind,
           c.relname::text AS name
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = (SELECT oid FROM ns)
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND NOT (c.relkind = 'r' AND c.relname = ANY ($2::text[]))
      AND NOT EXISTS (
          SELECT 1
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class owner ON owner.oid = d.refobjid
          WHERE d.classid = 'pg_catalog.pg_class'::regclass
            AND d.objid = c.oid
            AND d.refclassid = 'pg_catalog.pg_class'::regclass
            AND d.deptype IN ('a', 'i')
            AND owner.relnamespace = c.relnamespace
            AND owner.relname = ANY ($2::text[]))
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
           p.proname::text
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, t.typname::text
    FROM pg_catalog.pg_type t
    WHERE t.typnamespace = (SELECT oid FROM ns)
      AND t.typtype IN ('b', 'd', 'e', 'r')
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
    UNION ALL
    SELECT 'collation', co.collname::text
    FROM pg_catalog.pg_collation co
    WHERE co.collnamespace = (SELECT oid FROM ns)
) AS found
ORDER BY kind, name
LIMIT 6

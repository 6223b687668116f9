-- Every view or materialized view that depends, directly or through others, on the relation
-- $1.$2 (through the rewrite rules that implement views), with its kind ('v' or 'm'), deepest
-- first: the order they can be dropped in.
WITH RECURSIVE dependents(oid, depth) AS (
    SELECT r.ev_class, 1
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_depend d
      ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
     AND d.classid = 'pg_catalog.pg_rewrite'::regclass
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    WHERE n.nspname = $1 AND c.relname = $2 AND r.ev_class <> c.oid
  UNION
    SELECT r.ev_class, s.depth + 1
    FROM dependents s
    JOIN pg_catalog.pg_depend d
      ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = s.oid
     AND d.classid = 'pg_catalog.pg_rewrite'::regclass
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> s.oid
)
SELECT n.nspname::text, c.relname::text, c.relkind::text
FROM (SELECT oid, max(depth) AS depth FROM dependents GROUP BY oid) s
JOIN pg_catalog.pg_class c ON c.oid = s.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
ORDER BY s.depth DESC, 1, 2

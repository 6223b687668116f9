-- Every view or materialized view that depends, directly or through others, on the relation
-- $1.$2 (through the rewrite rules that implement views), each once, with its kind ('v' or
-- 'm') and the others of them it reads directly: the caller drops each before what it reads.
-- (Following each dependent once, not each path to it, keeps this linear in a dense graph.)
WITH RECURSIVE dependents(oid) AS (
    SELECT r.ev_class
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_depend d
      ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
     AND d.classid = 'pg_catalog.pg_rewrite'::regclass
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    WHERE n.nspname = $1 AND c.relname = $2 AND r.ev_class <> c.oid
  UNION
    SELECT r.ev_class
    FROM dependents s
    JOIN pg_catalog.pg_depend d
      ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = s.oid
     AND d.classid = 'pg_catalog.pg_rewrite'::regclass
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> s.oid
)
SELECT c.oid::int8,
       n.nspname::text,
       c.relname::text,
       c.relkind::text,
       ARRAY(SELECT DISTINCT d.refobjid::int8
             FROM pg_catalog.pg_rewrite r
             JOIN pg_catalog.pg_depend d
               ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
              AND d.refclassid = 'pg_catalog.pg_class'::regclass
             WHERE r.ev_class = c.oid AND d.refobjid <> c.oid
               AND d.refobjid IN (SELECT oid FROM dependents)) AS reads
FROM dependents s
JOIN pg_catalog.pg_class c ON c.oid = s.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
ORDER BY 2, 3

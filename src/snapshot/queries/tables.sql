-- Tables and partitioned tables in the kept schemas ($1), leaving out extension members: the
-- table-level properties (persistence, partitioning, inheritance, storage parameters,
-- row-level security). Columns come from columns.sql. The parents of a child table (INHERITS,
-- not a partition) come in inhseqno order, the order INHERITS lists them in. A typed table
-- (CREATE TABLE ... OF type) names its composite type. A foreign table (CREATE FOREIGN TABLE)
-- names its server and options.
-- pg_inherits is small (children and partitions only): aggregated once, not per table.
WITH inheritance AS (
    SELECT i.inhrelid AS child, array_agg(p.oid ORDER BY i.inhseqno) AS oids,
        array_agg(pn.nspname::text ORDER BY i.inhseqno) AS schemas,
        array_agg(p.relname::text ORDER BY i.inhseqno) AS names
    FROM pg_inherits i
    JOIN pg_class ch ON ch.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE NOT ch.relispartition
    GROUP BY i.inhrelid
)
SELECT c.oid, c.reltype AS type_oid, t.typarray AS array_oid, n.nspname AS schema,
    c.relname AS name, c.relkind = 'p' AS partitioned, c.relpersistence = 'u' AS unlogged,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
    parent.oid AS parent_oid, parent.schema AS parent_schema, parent.name AS parent_name,
    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
    coalesce(c.reloptions, '{}') AS options,
    coalesce(toast.reloptions, '{}') AS toast_options,
    CASE WHEN am.amname <> 'heap' THEN am.amname END AS access_method,
    c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
    c.relreplident::text AS replica_identity,
    coalesce(inh.oids, '{}') AS inherits_oids, coalesce(inh.schemas, '{}') AS inherits_schemas,
    coalesce(inh.names, '{}') AS inherits_names,
    CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END AS of_type,
    fs.srvname AS foreign_server, coalesce(ft.ftoptions, '{}') AS foreign_options
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = c.reltype
LEFT JOIN pg_class toast ON toast.oid = c.reltoastrelid
LEFT JOIN pg_am am ON am.oid = c.relam
LEFT JOIN LATERAL (
    SELECT p.oid, pn.nspname AS schema, p.relname AS name
    FROM pg_inherits i
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE c.relispartition AND i.inhrelid = c.oid
) parent ON true
LEFT JOIN inheritance inh ON inh.child = c.oid
LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
WHERE c.relkind IN ('r', 'p', 'f') AND c.relnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

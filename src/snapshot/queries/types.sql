-- Enums (labels in their sort order), domains and stand-alone composite types in the kept
-- schemas ($1), leaving out extension members. The attributes of composite types come from
-- columns.sql and the constraints of domains from constraints.sql.
SELECT t.oid, t.typarray AS array_oid, t.typrelid AS class_oid, n.nspname AS schema,
    t.typname AS name, t.typtype::text AS kind,
    CASE WHEN t.typtype = 'e' THEN ARRAY(
        SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder
    ) END AS labels,
    CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
    cn.nspname AS collation_schema, cl.collname AS collation_name,
    t.typnotnull AS not_null,
    pg_get_expr(t.typdefaultbin, 0) AS default_expr
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class tc ON tc.oid = t.typrelid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation cl
    ON t.typtype = 'd' AND cl.oid = t.typcollation AND t.typcollation <> bt.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = cl.collnamespace
WHERE t.typnamespace = ANY($1)
    AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND tc.relkind = 'c'))
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e'
    )

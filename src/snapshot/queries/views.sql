-- Views and materialized views in the kept schemas ($1), leaving out extension members. The
-- rewrite rule's oid is what the view's dependencies in pg_depend hang from. A view's
-- column defaults (ALTER VIEW ... ALTER COLUMN ... SET DEFAULT, used by INSERTs through it):
-- column names, expressions and the pg_attrdef oids their dependencies hang from.
SELECT c.oid, c.reltype AS type_oid, t.typarray AS array_oid, r.oid AS rule_oid,
    n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,
    pg_get_viewdef(c.oid) AS definition, coalesce(c.reloptions, '{}') AS options,
    CASE WHEN c.relkind = 'm' AND am.amname <> 'heap' THEN am.amname END AS access_method,
    coalesce(df.columns, '{}') AS default_columns,
    coalesce(df.expressions, '{}') AS default_expressions,
    coalesce(df.oids, '{}') AS default_oids
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = c.reltype
LEFT JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'
LEFT JOIN pg_am am ON am.oid = c.relam
LEFT JOIN LATERAL (
    SELECT array_agg(a.attname::text ORDER BY a.attnum) AS columns,
        array_agg(pg_get_expr(d.adbin, d.adrelid) ORDER BY a.attnum) AS expressions,
        array_agg(d.oid ORDER BY a.attnum) AS oids
    FROM pg_attrdef d
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = c.oid
) df ON true
WHERE c.relkind IN ('v', 'm') AND c.relnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

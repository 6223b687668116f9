-- Views and materialized views in the kept schemas ($1), leaving out extension members. The
-- rewrite rule's oid is what the view's dependencies in pg_depend hang from.
SELECT c.oid, c.reltype AS type_oid, t.typarray AS array_oid, r.oid AS rule_oid,
    n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,
    pg_get_viewdef(c.oid) AS definition, coalesce(c.reloptions, '{}') AS options,
    CASE WHEN c.relkind = 'm' AND am.amname <> 'heap' THEN am.amname END AS access_method
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = c.reltype
LEFT JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('v', 'm') AND c.relnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

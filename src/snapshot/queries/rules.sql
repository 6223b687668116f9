-- Rewrite rules on relations in the kept schemas ($1), other than the `_RETURN` rule that is
-- a view's own definition (the view's block holds it).
SELECT r.oid, r.ev_class AS relation_oid, n.nspname AS schema, c.relname AS table_name,
    r.rulename AS name, pg_get_ruledef(r.oid) AS definition, r.ev_enabled::text AS enabled
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY($1) AND r.rulename <> '_RETURN'

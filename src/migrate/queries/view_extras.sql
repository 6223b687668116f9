-- What a migration may have put on the view $1.$2 that its file does not make: its triggers
-- (INSTEAD OF …) and rules other than the view's own, as the statements that make them again.
-- Taken before pgstrata drops the view to create it again, and run after.
SELECT pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2))
  AND NOT t.tgisinternal
UNION ALL
SELECT pg_catalog.pg_get_ruledef(r.oid)
FROM pg_catalog.pg_rewrite r
WHERE r.ev_class = to_regclass(quote_ident($1) || '.' || quote_ident($2))
  AND r.rulename <> '_RETURN'

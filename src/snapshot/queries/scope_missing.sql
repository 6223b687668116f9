-- The schemas listed in `schemas` that do not exist: a snapshot would see nothing of them.
SELECT s.name
FROM unnest($1::text[]) WITH ORDINALITY AS s (name, n)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace ns WHERE ns.nspname = s.name)
ORDER BY s.n

-- Extensions installed into a kept schema ($1), with their version.
SELECT x.oid, x.extname AS name, n.nspname AS schema, x.extversion AS version
FROM pg_extension x
JOIN pg_namespace n ON n.oid = x.extnamespace
WHERE x.extnamespace = ANY($1)

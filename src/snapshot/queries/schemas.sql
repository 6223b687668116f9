-- Every schema that no extension owns; which of them a snapshot keeps (system schemas, the
-- caller's include and exclude lists) is decided in Rust.
SELECT n.oid, n.nspname AS name
FROM pg_namespace n
WHERE NOT EXISTS (
    SELECT FROM pg_depend e
    WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e'
)

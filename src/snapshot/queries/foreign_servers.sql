-- Foreign servers, which belong to the whole database, leaving out extension members; which
-- are kept (their wrapper is usable) is decided in Rust. Options come as stored; secrets
-- among them are left out in Rust.
SELECT s.oid, s.srvname AS name, s.srvfdw AS wrapper_oid, w.fdwname AS wrapper,
    s.srvtype AS type, s.srvversion AS version, coalesce(s.srvoptions, '{}') AS options
FROM pg_foreign_server s
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE NOT EXISTS (
    SELECT FROM pg_depend x
    WHERE x.classid = 'pg_foreign_server'::regclass AND x.objid = s.oid AND x.deptype = 'e'
)

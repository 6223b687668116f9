-- User mappings. The role is '' for PUBLIC; `for_owner` marks the mapping for the server's
-- owner, written for whoever owns the server where the snapshot is loaded (CURRENT_USER),
-- as the owner's own privileges are. pg_user_mappings shows a mapping's options only to a
-- superuser, the mapped user and the server's owner (for PUBLIC): to another role they are
-- NULL, written as none. Secrets among them are left out in Rust.
SELECT m.umid AS oid, m.srvid AS server_oid, m.srvname AS server,
    CASE WHEN m.umuser = 0 THEN '' ELSE m.usename::text END AS role,
    m.umuser = s.srvowner AS for_owner, coalesce(m.umoptions, '{}') AS options
FROM pg_user_mappings m
JOIN pg_foreign_server s ON s.oid = m.srvid

-- Who holds the session advisory lock with key ($1 << 32 | $2) in this database.
SELECT a.pid,
       coalesce(nullif(a.application_name, ''), '(no application_name)') AS application_name,
       -- Hidden from a role that may not read the row: only client_port -1 means a socket.
       coalesce(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local socket' ELSE '?' END) AS client,
       coalesce(a.usename::text, '?') AS usename,
       coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), '?') AS since
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid = $1::bigint::oid
  AND l.objid = $2::bigint::oid
  AND l.objsubid = 1

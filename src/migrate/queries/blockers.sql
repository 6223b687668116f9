-- The sessions blocking backend $1 (watch::Blocker): who they are, what they are doing, and
-- for how long their transaction has been open. Reads pg_stat_activity only: no locks.
SELECT a.pid,
       coalesce(a.usename::text, ''),
       coalesce(a.application_name, ''),
       -- A row this role may not read hides its address (NULL, like a Unix socket's): only
       -- client_port -1 says the client is local. A background process has no client.
       CASE WHEN a.client_addr IS NOT NULL THEN pg_catalog.host(a.client_addr)
            WHEN a.client_port = -1 THEN 'local'
            WHEN a.backend_type <> 'client backend' THEN coalesce(a.backend_type, '')
            ELSE '' END,
       coalesce(a.state, ''),
       pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)::float8,
       pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.left(coalesce(a.query, ''), 80), '\s+', ' ', 'g'))
  FROM pg_catalog.unnest(pg_catalog.pg_blocking_pids($1)) AS b(pid)
  JOIN pg_catalog.pg_stat_activity AS a ON a.pid = b.pid
 ORDER BY a.pid

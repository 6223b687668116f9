-- The sessions blocking backend $1 (watch::Blocker): who they are, what they are doing, and
-- for how long their transaction has been open. Reads pg_stat_activity only: no locks.
SELECT a.pid,
       coalesce(a.usename::text, ''),
       coalesce(a.application_name, ''),
       coalesce(pg_catalog.host(a.client_addr), 'local'),
       coalesce(a.state, ''),
       pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.xact_start)::float8,
       pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.left(coalesce(a.query, ''), 80), '\s+', ' ', 'g'))
  FROM pg_catalog.unnest(pg_catalog.pg_blocking_pids($1)) AS b(pid)
  JOIN pg_catalog.pg_stat_activity AS a ON a.pid = b.pid
 ORDER BY a.pid

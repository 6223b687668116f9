-- The session before a run's first file (session::Baseline): who it runs as, the settings
-- made in this session (SET, set_config; not those from the server, database, role or
-- connection options, which RESET ALL brings back), the backend's pid, and how it reads
-- string literals (a library caller's connection may not have gone through session::prepare).
SELECT session_user::text,
       current_user::text,
       coalesce(array_agg(name ORDER BY name) FILTER (WHERE source = 'session'), '{}'),
       coalesce(array_agg(setting ORDER BY name) FILTER (WHERE source = 'session'), '{}'),
       pg_catalog.pg_backend_pid(),
       pg_catalog.current_setting('standard_conforming_strings')
  FROM pg_catalog.pg_settings

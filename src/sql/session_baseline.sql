-- The session before a run's first file (session::Baseline): who it runs as, the settings
-- made in this session (SET, set_config; not those from the server, database, role or
-- connection options, which RESET ALL brings back), and the backend's pid.
SELECT session_user::text,
       current_user::text,
       coalesce(array_agg(name ORDER BY name) FILTER (WHERE source = 'session'), '{}'),
       coalesce(array_agg(setting ORDER BY name) FILTER (WHERE source = 'session'), '{}'),
       pg_catalog.pg_backend_pid()
  FROM pg_catalog.pg_settings

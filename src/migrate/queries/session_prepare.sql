-- Run once on every new connection (session::prepare), in one round trip: how the server
-- reads string literals, and the dead-client check on servers that have it (14+; on older
-- ones current_setting(…, true) is NULL and nothing is set). Not through pg_settings, whose
-- every read builds a row for each of the server's ~350 settings.
SELECT pg_catalog.current_setting('standard_conforming_strings'),
       CASE WHEN pg_catalog.current_setting('client_connection_check_interval', true) IS NOT NULL
            THEN pg_catalog.set_config('client_connection_check_interval', '1000', false)
       END

-- Run once on every new connection (session::prepare), in one round trip: how the server
-- reads string literals, and the dead-client check on servers that have it (14+; on older
-- ones the subquery finds no row and sets nothing).
SELECT pg_catalog.current_setting('standard_conforming_strings'),
       (SELECT pg_catalog.set_config(name, '1000', false)
          FROM pg_catalog.pg_settings
         WHERE name = 'client_connection_check_interval')

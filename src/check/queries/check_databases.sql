-- check's temporary databases on this server, with the record of who made each and how many
-- sessions are connected to it now.
SELECT d.datname::text AS name,
       pg_catalog.shobj_description(d.oid, 'pg_database') AS maker,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid) AS sessions
FROM pg_catalog.pg_database d
WHERE d.datname LIKE 'pgstrata\_check\_%'
ORDER BY d.datname

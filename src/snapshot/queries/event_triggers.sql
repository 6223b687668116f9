-- Event triggers whose function lies in a kept schema ($1), leaving out extension members.
-- An event trigger belongs to the whole database; tags come as stored (upper case), sorted
-- in Rust. evtenabled: O enabled, D disabled, R replica, A always.
SELECT e.oid, e.evtname AS name, e.evtevent AS event,
    format('%I.%I', pn.nspname, p.proname) AS function,
    e.evtenabled::text AS enabled, coalesce(e.evttags, '{}') AS tags
FROM pg_event_trigger e
JOIN pg_proc p ON p.oid = e.evtfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE p.pronamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_event_trigger'::regclass AND x.objid = e.oid AND x.deptype = 'e'
    )

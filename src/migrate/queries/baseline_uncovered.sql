-- Objects a schema snapshot does not carry (README, Limitations), which a baseline written from
-- the snapshot would silently lack: one row per object, (kind, schema, name), schema NULL for
-- objects of the whole database. The caller keeps the rows of the schemas its snapshots cover.
-- Left out: objects an extension made (its CREATE EXTENSION makes them again), objects made
-- as an internal part of another (the cast from a range type to its multirange, made by
-- CREATE TYPE … AS RANGE), and built-in ones (oid below 16384, FirstNormalObjectId).
WITH members AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype IN ('e', 'i')
),
found AS (
    -- A table, index or materialized view in a tablespace other than the database's default:
    -- the baseline would build it in the default one.
    SELECT 'tablespace' AS kind, n.nspname AS schema,
        format('%I.%I in tablespace %I', n.nspname, c.relname, t.spcname) AS name
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
    WHERE c.relkind IN ('r', 'p', 'i', 'I', 'm')
    UNION ALL
    -- A subscription needs a reachable publisher and a connection string (which may hold a
    -- password): snapshots leave it out.
    SELECT 'subscription', NULL, format('%I', s.subname)
    FROM pg_catalog.pg_subscription s
    WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
    UNION ALL
    -- A base type (CREATE TYPE with input and output functions, or a shell still waiting for
    -- them); not an array type, which comes with its element type.
    SELECT 'base type', n.nspname, format('%I.%I', n.nspname, t.typname)
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('b', 'p') AND t.oid >= 16384
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
        AND (('pg_catalog.pg_type'::regclass, t.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'access method', NULL, format('%I', a.amname)
    FROM pg_catalog.pg_am a
    WHERE a.oid >= 16384
        AND (('pg_catalog.pg_am'::regclass, a.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'procedural language', NULL, format('%I', l.lanname)
    FROM pg_catalog.pg_language l
    WHERE l.oid >= 16384
        AND (('pg_catalog.pg_language'::regclass, l.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'transform', NULL, format('FOR %s LANGUAGE %I', format_type(t.trftype, NULL), l.lanname)
    FROM pg_catalog.pg_transform t
    JOIN pg_catalog.pg_language l ON l.oid = t.trflang
    WHERE (('pg_catalog.pg_transform'::regclass, t.oid) NOT IN (SELECT * FROM members))
)
SELECT kind, schema::text, name FROM found ORDER BY kind, name

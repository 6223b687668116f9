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
    SELECT 'operator', n.nspname, format('%I.%s(%s, %s)', n.nspname, o.oprname,
        coalesce(format_type(o.oprleft, NULL), 'NONE'), format_type(o.oprright, NULL))
    FROM pg_catalog.pg_operator o
    JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
    WHERE o.oid >= 16384
        AND (('pg_catalog.pg_operator'::regclass, o.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'operator class', n.nspname, format('%I.%I', n.nspname, c.opcname)
    FROM pg_catalog.pg_opclass c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
    WHERE c.oid >= 16384
        AND (('pg_catalog.pg_opclass'::regclass, c.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'operator family', n.nspname, format('%I.%I', n.nspname, f.opfname)
    FROM pg_catalog.pg_opfamily f
    JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
    WHERE f.oid >= 16384
        AND (('pg_catalog.pg_opfamily'::regclass, f.oid) NOT IN (SELECT * FROM members))
        -- CREATE OPERATOR CLASS makes a family of the same name: named once, as the class.
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_opclass c
                        WHERE c.opcfamily = f.oid AND c.opcname = f.opfname)
    UNION ALL
    SELECT 'text search configuration', n.nspname, format('%I.%I', n.nspname, c.cfgname)
    FROM pg_catalog.pg_ts_config c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
    WHERE c.oid >= 16384
        AND (('pg_catalog.pg_ts_config'::regclass, c.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'text search dictionary', n.nspname, format('%I.%I', n.nspname, d.dictname)
    FROM pg_catalog.pg_ts_dict d
    JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
    WHERE d.oid >= 16384
        AND (('pg_catalog.pg_ts_dict'::regclass, d.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'text search parser', n.nspname, format('%I.%I', n.nspname, p.prsname)
    FROM pg_catalog.pg_ts_parser p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
    WHERE p.oid >= 16384
        AND (('pg_catalog.pg_ts_parser'::regclass, p.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'text search template', n.nspname, format('%I.%I', n.nspname, t.tmplname)
    FROM pg_catalog.pg_ts_template t
    JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
    WHERE t.oid >= 16384
        AND (('pg_catalog.pg_ts_template'::regclass, t.oid) NOT IN (SELECT * FROM members))
    UNION ALL
    SELECT 'conversion', n.nspname, format('%I.%I', n.nspname, c.conname)
    FROM pg_catalog.pg_conversion c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
    WHERE c.oid >= 16384
        AND (('pg_catalog.pg_conversion'::regclass, c.oid) NOT IN (SELECT * FROM members))
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

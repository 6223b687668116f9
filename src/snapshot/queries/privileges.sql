-- Privileges that differ from an object's baseline, per object in the kept schemas ($1). A
-- missing ACL is the baseline itself; a present one is compared with it, both exploded.
-- The baseline is acldefault, except for the public schema, which every new database
-- creates with USAGE (and before PostgreSQL 15 also CREATE) for PUBLIC and which a loaded
-- snapshot keeps (CREATE SCHEMA IF NOT EXISTS). The grantor is left out. A grantee of ''
-- stands for PUBLIC. Owners differ between a CI server and production, so a row for the
-- owner itself (a right the owner gave up, or took back with grant option) is marked
-- to_owner and written for whoever owns the object where the snapshot is loaded; except
-- when the owner is a role the system predefines (pg_database_owner owns the public
-- schema; the pg_ prefix is reserved for them), which is the same everywhere and is
-- written by name.
-- An object an extension made (pg_depend 'e') is not in the snapshot, but what was done to
-- its privileges after CREATE EXTENSION is (pg_dump shows it too): its baseline is what
-- the extension's script left (pg_init_privs, privtype 'e'), and the row names the
-- extension (extension_oid) and the object as GRANT spells it (member), to be written in
-- the extension's block.
WITH objects AS (
    SELECT 'pg_class' AS catalog, c.oid, 0 AS position, NULL::name AS column_name,
        c.relowner AS owner, c.relacl AS acl,
        acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner) AS baseline,
        CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END AS member_kind
    FROM pg_class c
    WHERE c.relnamespace = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND c.relacl IS NOT NULL
    UNION ALL
    SELECT 'pg_class', c.oid, a.attnum, a.attname, c.relowner, a.attacl,
        acldefault('c', c.relowner), 'TABLE '
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = ANY($1) AND a.attacl IS NOT NULL AND NOT a.attisdropped
        AND a.attnum > 0
    UNION ALL
    SELECT 'pg_proc', p.oid, 0, NULL, p.proowner, p.proacl, acldefault('f', p.proowner),
        'ROUTINE '
    FROM pg_proc p
    WHERE p.pronamespace = ANY($1) AND p.proacl IS NOT NULL
    UNION ALL
    SELECT 'pg_namespace', n.oid, 0, NULL, n.nspowner, n.nspacl,
        CASE WHEN n.nspname = 'public' THEN
            acldefault('n', n.nspowner) || makeaclitem(0, n.nspowner,
                CASE WHEN current_setting('server_version_num')::int >= 150000
                    THEN 'USAGE' ELSE 'USAGE, CREATE' END, false)
        ELSE acldefault('n', n.nspowner) END,
        'SCHEMA '
    FROM pg_namespace n
    WHERE n.oid = ANY($1) AND n.nspacl IS NOT NULL
    UNION ALL
    SELECT 'pg_type', t.oid, 0, NULL, t.typowner, t.typacl, acldefault('T', t.typowner),
        CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END
    FROM pg_type t
    WHERE t.typnamespace = ANY($1) AND t.typtype IN ('e', 'd', 'c', 'r') AND t.typacl IS NOT NULL
    UNION ALL
    -- Wrappers and servers belong to the whole database: which are kept is decided in Rust.
    SELECT 'pg_foreign_data_wrapper', w.oid, 0, NULL, w.fdwowner, w.fdwacl,
        acldefault('F', w.fdwowner), 'FOREIGN DATA WRAPPER '
    FROM pg_foreign_data_wrapper w
    WHERE w.fdwacl IS NOT NULL
    UNION ALL
    SELECT 'pg_foreign_server', s.oid, 0, NULL, s.srvowner, s.srvacl,
        acldefault('S', s.srvowner), 'FOREIGN SERVER '
    FROM pg_foreign_server s
    WHERE s.srvacl IS NOT NULL
),
-- Extension members take the extension's initial privileges as their baseline.
placed AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, o.acl,
        coalesce(ip.initprivs, o.baseline) AS baseline, ext.refobjid AS extension_oid,
        -- Names as the server prints them with the empty search path: qualified, quoted
        -- where needed, argument types as format_type gives them.
        CASE WHEN ext.refobjid IS NOT NULL THEN o.member_kind || CASE o.catalog
            WHEN 'pg_proc' THEN o.oid::regprocedure::text
            WHEN 'pg_class' THEN o.oid::regclass::text
            WHEN 'pg_type' THEN format_type(o.oid, NULL)
            ELSE (pg_identify_object(o.catalog::regclass, o.oid, 0)).identity
        END END AS member
    FROM objects o
    LEFT JOIN pg_depend ext ON ext.classid = o.catalog::regclass AND ext.objid = o.oid
        AND ext.objsubid = 0 AND ext.deptype = 'e'
    LEFT JOIN pg_init_privs ip ON ext.refobjid IS NOT NULL
        AND ip.classoid = o.catalog::regclass AND ip.objoid = o.oid
        AND ip.objsubid = o.position AND ip.privtype = 'e'
),
actual AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM placed o, aclexplode(o.acl) x
),
baseline AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM placed o, aclexplode(o.baseline) x
),
changes AS (
    (SELECT true AS is_grant, * FROM actual EXCEPT SELECT true, * FROM baseline)
    UNION ALL
    (SELECT false, * FROM baseline EXCEPT SELECT false, * FROM actual)
)
SELECT ch.is_grant, ch.catalog, ch.oid, ch.position, ch.column_name, pl.extension_oid,
    pl.member,
    coalesce(r.rolname::text, '') AS grantee,
    ch.grantee = ch.owner AND NOT starts_with(r.rolname, 'pg_') AS to_owner,
    ch.privilege_type, ch.is_grantable
FROM changes ch
JOIN placed pl ON pl.catalog = ch.catalog AND pl.oid = ch.oid AND pl.position = ch.position
LEFT JOIN pg_roles r ON r.oid = ch.grantee

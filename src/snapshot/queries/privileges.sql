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
WITH objects AS (
    SELECT 'pg_class' AS catalog, c.oid, 0 AS position, NULL::name AS column_name,
        c.relowner AS owner, c.relacl AS acl,
        acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner) AS baseline
    FROM pg_class c
    WHERE c.relnamespace = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND c.relacl IS NOT NULL
    UNION ALL
    SELECT 'pg_class', c.oid, a.attnum, a.attname, c.relowner, a.attacl,
        acldefault('c', c.relowner)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = ANY($1) AND a.attacl IS NOT NULL AND NOT a.attisdropped
        AND a.attnum > 0
    UNION ALL
    SELECT 'pg_proc', p.oid, 0, NULL, p.proowner, p.proacl, acldefault('f', p.proowner)
    FROM pg_proc p
    WHERE p.pronamespace = ANY($1) AND p.proacl IS NOT NULL
    UNION ALL
    SELECT 'pg_namespace', n.oid, 0, NULL, n.nspowner, n.nspacl,
        CASE WHEN n.nspname = 'public' THEN
            acldefault('n', n.nspowner) || makeaclitem(0, n.nspowner,
                CASE WHEN current_setting('server_version_num')::int >= 150000
                    THEN 'USAGE' ELSE 'USAGE, CREATE' END, false)
        ELSE acldefault('n', n.nspowner) END
    FROM pg_namespace n
    WHERE n.oid = ANY($1) AND n.nspacl IS NOT NULL
    UNION ALL
    SELECT 'pg_type', t.oid, 0, NULL, t.typowner, t.typacl, acldefault('T', t.typowner)
    FROM pg_type t
    WHERE t.typnamespace = ANY($1) AND t.typtype IN ('e', 'd', 'c', 'r') AND t.typacl IS NOT NULL
),
actual AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM objects o, aclexplode(o.acl) x
),
baseline AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM objects o, aclexplode(o.baseline) x
),
changes AS (
    (SELECT true AS is_grant, * FROM actual EXCEPT SELECT true, * FROM baseline)
    UNION ALL
    (SELECT false, * FROM baseline EXCEPT SELECT false, * FROM actual)
)
SELECT ch.is_grant, ch.catalog, ch.oid, ch.position, ch.column_name,
    coalesce(r.rolname::text, '') AS grantee,
    ch.grantee = ch.owner AND NOT starts_with(r.rolname, 'pg_') AS to_owner,
    ch.privilege_type, ch.is_grantable
FROM changes ch
LEFT JOIN pg_roles r ON r.oid = ch.grantee

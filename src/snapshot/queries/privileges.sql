-- Privileges that differ from an object's defaults, per object in the kept schemas ($1). A
-- missing ACL means the defaults; a present one is compared with acldefault, both exploded.
-- Rows for the owner are left out (owners differ between a CI server and production), and
-- so is the grantor. A grantee of '' stands for PUBLIC.
WITH objects AS (
    SELECT 'pg_class' AS catalog, c.oid, 0 AS position, NULL::name AS column_name,
        CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char" AS kind,
        c.relowner AS owner, c.relacl AS acl
    FROM pg_class c
    WHERE c.relnamespace = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    UNION ALL
    SELECT 'pg_class', c.oid, a.attnum, a.attname, 'c', c.relowner, a.attacl
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = ANY($1) AND a.attacl IS NOT NULL AND NOT a.attisdropped
        AND a.attnum > 0
    UNION ALL
    SELECT 'pg_proc', p.oid, 0, NULL, 'f', p.proowner, p.proacl
    FROM pg_proc p
    WHERE p.pronamespace = ANY($1)
    UNION ALL
    SELECT 'pg_namespace', n.oid, 0, NULL, 'n', n.nspowner, n.nspacl
    FROM pg_namespace n
    WHERE n.oid = ANY($1)
    UNION ALL
    SELECT 'pg_type', t.oid, 0, NULL, 'T', t.typowner, t.typacl
    FROM pg_type t
    WHERE t.typnamespace = ANY($1) AND t.typtype IN ('e', 'd', 'c')
),
actual AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM objects o, aclexplode(o.acl) x
    WHERE o.acl IS NOT NULL
),
defaults AS (
    SELECT o.catalog, o.oid, o.position, o.column_name, o.owner, x.grantee,
        x.privilege_type, x.is_grantable
    FROM objects o, aclexplode(acldefault(o.kind, o.owner)) x
    WHERE o.acl IS NOT NULL
),
changes AS (
    (SELECT true AS is_grant, * FROM actual EXCEPT SELECT true, * FROM defaults)
    UNION ALL
    (SELECT false, * FROM defaults EXCEPT SELECT false, * FROM actual)
)
SELECT ch.is_grant, ch.catalog, ch.oid, ch.position, ch.column_name,
    coalesce(r.rolname::text, '') AS grantee, ch.privilege_type, ch.is_grantable
FROM changes ch
LEFT JOIN pg_roles r ON r.oid = ch.grantee
WHERE ch.grantee <> ch.owner

-- ALTER DEFAULT PRIVILEGES entries, as their difference from the built-in defaults (what
-- pg_dump writes too): one row per privilege granted beyond them or revoked from them. An
-- entry for the whole database (no schema) starts from acldefault, the rights a new object
-- has; an entry IN SCHEMA can only add to that, so it starts from nothing (NULL: aclexplode
-- refuses an empty array). Entries for a schema outside the kept ones ($1) are left out.
-- The role the entry is for, and a grantee, are marked when they are the role taking the snapshot (written CURRENT_USER: whoever loads
-- the snapshot gets them, as whoever runs the migrations does). A grantee of '' is PUBLIC.
WITH entries AS (
    SELECT d.oid, d.defaclrole AS role, d.defaclnamespace AS namespace,
        d.defaclobjtype::text AS object_type, d.defaclacl AS acl,
        CASE WHEN d.defaclnamespace = 0
            THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END,
                d.defaclrole)
            END AS baseline
    FROM pg_default_acl d
    WHERE d.defaclnamespace = 0 OR d.defaclnamespace = ANY($1)
),
changes AS (
    (SELECT true AS is_grant, e.oid, x.grantee, x.privilege_type, x.is_grantable
     FROM entries e, aclexplode(e.acl) x
     EXCEPT
     SELECT true, e.oid, x.grantee, x.privilege_type, x.is_grantable
     FROM entries e, aclexplode(e.baseline) x)
    UNION ALL
    (SELECT false, e.oid, x.grantee, x.privilege_type, x.is_grantable
     FROM entries e, aclexplode(e.baseline) x
     EXCEPT
     SELECT false, e.oid, x.grantee, x.privilege_type, x.is_grantable
     FROM entries e, aclexplode(e.acl) x)
)
SELECT e.oid, r.rolname AS role, r.rolname = current_user AS role_is_current,
    n.nspname AS schema, e.object_type, ch.is_grant,
    coalesce(g.rolname::text, '') AS grantee,
    coalesce(g.rolname = current_user, false) AS grantee_is_current,
    ch.privilege_type AS privilege, ch.is_grantable AS grantable
FROM changes ch
JOIN entries e ON e.oid = ch.oid
JOIN pg_roles r ON r.oid = e.role
LEFT JOIN pg_namespace n ON n.oid = e.namespace
LEFT JOIN pg_roles g ON g.oid = ch.grantee

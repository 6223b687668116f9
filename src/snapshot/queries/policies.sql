-- Row-level security policies on relations in the kept schemas ($1). A role of '' stands for
-- PUBLIC (role oid 0); a role name can never be empty.
SELECT pol.oid, pol.polrelid AS relation_oid, n.nspname AS schema, c.relname AS table_name,
    pol.polname AS name, pol.polcmd::text AS command, pol.polpermissive AS permissive,
    ARRAY(
        SELECT coalesce(r.rolname::text, '')
        FROM unnest(pol.polroles) AS role(oid)
        LEFT JOIN pg_roles r ON r.oid = role.oid
    ) AS roles,
    pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
    pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
FROM pg_policy pol
JOIN pg_class c ON c.oid = pol.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY($1)

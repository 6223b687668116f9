-- Operator classes in the kept schemas ($1), leaving out extension members. The storage
-- type only where it differs from the input type (0 when it is the same).
SELECT c.oid, n.nspname AS schema, c.opcname AS name, a.amname AS method,
    format_type(c.opcintype, NULL) AS input_type, c.opcdefault AS is_default,
    fn.nspname AS family_schema, f.opfname AS family_name,
    CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END AS storage
FROM pg_opclass c
JOIN pg_namespace n ON n.oid = c.opcnamespace
JOIN pg_am a ON a.oid = c.opcmethod
JOIN pg_opfamily f ON f.oid = c.opcfamily
JOIN pg_namespace fn ON fn.oid = f.opfnamespace
WHERE c.opcnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_opclass'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

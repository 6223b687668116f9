-- Operator families in the kept schemas ($1), leaving out extension members. Every one is
-- written (CREATE OPERATOR CLASS without FAMILY makes one of its own name, which it then
-- finds already there), as pg_dump does.
SELECT f.oid, n.nspname AS schema, f.opfname AS name, a.amname AS method
FROM pg_opfamily f
JOIN pg_namespace n ON n.oid = f.opfnamespace
JOIN pg_am a ON a.oid = f.opfmethod
WHERE f.opfnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_opfamily'::regclass AND x.objid = f.oid AND x.deptype = 'e'
    )

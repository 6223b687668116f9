-- Text search templates in the kept schemas ($1), leaving out extension members; functions
-- as for parsers.
SELECT t.oid, n.nspname AS schema, t.tmplname AS name,
    CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::text END AS init,
    t.tmpllexize::text AS lexize
FROM pg_ts_template t
JOIN pg_namespace n ON n.oid = t.tmplnamespace
WHERE t.tmplnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_ts_template'::regclass AND x.objid = t.oid AND x.deptype = 'e'
    )

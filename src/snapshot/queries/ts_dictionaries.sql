-- Text search dictionaries in the kept schemas ($1), leaving out extension members: the
-- template and the options, as the server stored them (`name = 'value', ...`).
SELECT d.oid, n.nspname AS schema, d.dictname AS name, tn.nspname AS template_schema,
    t.tmplname AS template, d.dictinitoption AS options
FROM pg_ts_dict d
JOIN pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate
JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE d.dictnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_ts_dict'::regclass AND x.objid = d.oid AND x.deptype = 'e'
    )

-- Foreign-data wrappers, which belong to the whole database. `member`: made by an extension
-- (postgres_fdw's comes with its CREATE EXTENSION), so not written, but servers may use it.
-- `usable`: a snapshot can create (or has) it: a member of an extension in a kept schema
-- ($1), or one whose handler and validator lie in kept schemas or pg_catalog.
SELECT w.oid, w.fdwname AS name,
    CASE WHEN w.fdwhandler <> 0 THEN format('%I.%I', hn.nspname, h.proname) END AS handler,
    CASE WHEN w.fdwvalidator <> 0 THEN format('%I.%I', vn.nspname, v.proname) END AS validator,
    coalesce(w.fdwoptions, '{}') AS options,
    x.objid IS NOT NULL AS member,
    CASE WHEN x.objid IS NOT NULL THEN coalesce(e.extnamespace = ANY($1), false)
        ELSE (h.oid IS NULL OR h.pronamespace = ANY($1)
                OR h.pronamespace = 'pg_catalog'::regnamespace)
            AND (v.oid IS NULL OR v.pronamespace = ANY($1)
                OR v.pronamespace = 'pg_catalog'::regnamespace)
    END AS usable
FROM pg_foreign_data_wrapper w
LEFT JOIN pg_proc h ON h.oid = w.fdwhandler
LEFT JOIN pg_namespace hn ON hn.oid = h.pronamespace
LEFT JOIN pg_proc v ON v.oid = w.fdwvalidator
LEFT JOIN pg_namespace vn ON vn.oid = v.pronamespace
LEFT JOIN pg_depend x ON x.classid = 'pg_foreign_data_wrapper'::regclass AND x.objid = w.oid
    AND x.deptype = 'e'
LEFT JOIN pg_extension e ON e.oid = x.refobjid

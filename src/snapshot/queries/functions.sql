-- Functions and procedures (not aggregates: pg_get_functiondef cannot render them) in the
-- kept schemas ($1), leaving out extension members and the functions the server makes for
-- an object (a range type's constructors: internal dependency). The identity is the input
-- argument types, as DROP FUNCTION and GRANT name a function.
SELECT p.oid, n.nspname AS schema, p.proname AS name, p.prokind = 'p' AS is_procedure,
    oidvectortypes(p.proargtypes) AS arguments, pg_get_functiondef(p.oid) AS definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.pronamespace = ANY($1) AND p.prokind IN ('f', 'p', 'w')
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype IN ('e', 'i')
    )

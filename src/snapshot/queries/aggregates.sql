-- Aggregates in the kept schemas ($1), leaving out extension members: the parts of CREATE
-- AGGREGATE (pg_get_functiondef cannot print an aggregate). Functions are named as regproc
-- prints them, schema-qualified outside pg_catalog under the empty search path.
SELECT p.oid, n.nspname AS schema, p.proname AS name,
    oidvectortypes(p.proargtypes) AS arguments,
    pg_get_function_arguments(p.oid) AS signature,
    pg_get_function_identity_arguments(p.oid) AS identity,
    a.aggkind::text AS kind,
    a.aggtransfn::text AS sfunc,
    format_type(a.aggtranstype, NULL) AS stype,
    a.aggtransspace AS sspace,
    CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::text END AS finalfunc,
    a.aggfinalextra AS finalfunc_extra,
    a.aggfinalmodify::text AS finalfunc_modify,
    CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::text END AS combinefunc,
    CASE WHEN a.aggserialfn <> 0 THEN a.aggserialfn::text END AS serialfunc,
    CASE WHEN a.aggdeserialfn <> 0 THEN a.aggdeserialfn::text END AS deserialfunc,
    a.agginitval AS initcond,
    CASE WHEN a.aggmtransfn <> 0 THEN a.aggmtransfn::text END AS msfunc,
    CASE WHEN a.aggminvtransfn <> 0 THEN a.aggminvtransfn::text END AS minvfunc,
    CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END AS mstype,
    a.aggmtransspace AS msspace,
    CASE WHEN a.aggmfinalfn <> 0 THEN a.aggmfinalfn::text END AS mfinalfunc,
    a.aggmfinalextra AS mfinalfunc_extra,
    a.aggmfinalmodify::text AS mfinalfunc_modify,
    a.aggminitval AS minitcond,
    CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::regoper::text END AS sortop,
    p.proparallel::text AS parallel
FROM pg_aggregate a
JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.pronamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'e'
    )

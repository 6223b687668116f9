-- Operators in the kept schemas ($1), leaving out extension members and shells (an operator
-- only named as another's COMMUTATOR or NEGATOR, never defined: pg_dump leaves them out
-- too, and the CREATE OPERATOR that names it makes the shell again). Types, functions and
-- operators as the server prints them with the empty search path: qualified where not in
-- pg_catalog. A function is named without its arguments, as CREATE OPERATOR takes it.
SELECT o.oid, n.nspname AS schema, o.oprname AS name,
    CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END AS left_type,
    format_type(o.oprright, NULL) AS right_type,
    o.oprcode::text AS function,
    CASE WHEN o.oprcom <> 0 THEN cn.nspname END AS commutator_schema,
    CASE WHEN o.oprcom <> 0 THEN c.oprname END AS commutator,
    CASE WHEN o.oprnegate <> 0 THEN nn.nspname END AS negator_schema,
    CASE WHEN o.oprnegate <> 0 THEN ng.oprname END AS negator,
    CASE WHEN o.oprrest <> 0 THEN o.oprrest::text END AS restrict,
    CASE WHEN o.oprjoin <> 0 THEN o.oprjoin::text END AS join,
    o.oprcanhash AS hashes, o.oprcanmerge AS merges
FROM pg_operator o
JOIN pg_namespace n ON n.oid = o.oprnamespace
LEFT JOIN pg_operator c ON c.oid = o.oprcom
LEFT JOIN pg_namespace cn ON cn.oid = c.oprnamespace
LEFT JOIN pg_operator ng ON ng.oid = o.oprnegate
LEFT JOIN pg_namespace nn ON nn.oid = ng.oprnamespace
WHERE o.oprnamespace = ANY($1) AND o.oprcode <> 0
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_operator'::regclass AND x.objid = o.oid AND x.deptype = 'e'
    )

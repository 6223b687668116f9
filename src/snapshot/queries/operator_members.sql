-- The operators and support functions of the operator families in the kept schemas ($1),
-- each under what holds it, as pg_dump finds it: an operator class's own members depend on
-- the class (CREATE OPERATOR CLASS ... AS), the others ("loose" members, ALTER OPERATOR
-- FAMILY ... ADD) on the family. Operators with their argument types and functions with
-- theirs, as the server prints them with the empty search path; for an ordering operator,
-- the family it sorts by.
SELECT 'pg_amop' AS catalog, m.oid, d.refclassid::regclass::text AS owner_catalog,
    d.refobjid AS owner_oid, 'OPERATOR' AS kind, m.amopstrategy::integer AS number,
    format_type(m.amoplefttype, NULL) AS left_type,
    format_type(m.amoprighttype, NULL) AS right_type,
    m.amopopr::regoperator::text AS member,
    CASE WHEN m.amoppurpose = 'o' THEN sn.nspname END AS sort_family_schema,
    CASE WHEN m.amoppurpose = 'o' THEN sf.opfname END AS sort_family
FROM pg_amop m
JOIN pg_opfamily f ON f.oid = m.amopfamily
JOIN pg_depend d ON d.classid = 'pg_amop'::regclass AND d.objid = m.oid
    AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass)
LEFT JOIN pg_opfamily sf ON sf.oid = m.amopsortfamily
LEFT JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
WHERE f.opfnamespace = ANY($1)
UNION ALL
SELECT 'pg_amproc', m.oid, d.refclassid::regclass::text, d.refobjid, 'FUNCTION',
    m.amprocnum::integer, format_type(m.amproclefttype, NULL),
    format_type(m.amprocrighttype, NULL), m.amproc::regprocedure::text, NULL, NULL
FROM pg_amproc m
JOIN pg_opfamily f ON f.oid = m.amprocfamily
JOIN pg_depend d ON d.classid = 'pg_amproc'::regclass AND d.objid = m.oid
    AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass)
WHERE f.opfnamespace = ANY($1)

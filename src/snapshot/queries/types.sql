-- Enums (labels in their sort order), domains, range types and stand-alone composite types
-- in the kept schemas ($1), leaving out extension members. The attributes of composite
-- types come from columns.sql and the constraints of domains from constraints.sql. A range's
-- operator class and collation are given only where they are not its subtype's defaults.
SELECT t.oid, t.typarray AS array_oid, t.typrelid AS class_oid, n.nspname AS schema,
    t.typname AS name, t.typtype::text AS kind,
    CASE WHEN t.typtype = 'e' THEN ARRAY(
        SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder
    ) END AS labels,
    CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
    cn.nspname AS collation_schema, cl.collname AS collation_name,
    t.typnotnull AS not_null,
    pg_get_expr(t.typdefaultbin, 0) AS default_expr,
    CASE WHEN t.typtype = 'r' THEN format_type(rg.rngsubtype, NULL) END AS range_subtype,
    CASE WHEN NOT opc.opcdefault THEN opcn.nspname END AS range_opclass_schema,
    CASE WHEN NOT opc.opcdefault THEN opc.opcname END AS range_opclass_name,
    rcn.nspname AS range_collation_schema, rcl.collname AS range_collation_name,
    CASE WHEN rg.rngcanonical <> 0 THEN rg.rngcanonical::regproc::text END AS range_canonical,
    CASE WHEN rg.rngsubdiff <> 0 THEN rg.rngsubdiff::regproc::text END AS range_subdiff,
    mr.oid AS multirange_oid, mr.typarray AS multirange_array_oid,
    mrn.nspname AS multirange_schema, mr.typname AS multirange_name
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class tc ON tc.oid = t.typrelid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation cl
    ON t.typtype = 'd' AND cl.oid = t.typcollation AND t.typcollation <> bt.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = cl.collnamespace
LEFT JOIN pg_range rg ON rg.rngtypid = t.oid
LEFT JOIN pg_opclass opc ON opc.oid = rg.rngsubopc
LEFT JOIN pg_namespace opcn ON opcn.oid = opc.opcnamespace
LEFT JOIN pg_type st ON st.oid = rg.rngsubtype
LEFT JOIN pg_collation rcl ON rcl.oid = rg.rngcollation AND rg.rngcollation <> st.typcollation
LEFT JOIN pg_namespace rcn ON rcn.oid = rcl.collnamespace
LEFT JOIN pg_type mr ON mr.oid = rg.rngmultitypid
LEFT JOIN pg_namespace mrn ON mrn.oid = mr.typnamespace
WHERE t.typnamespace = ANY($1)
    AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND tc.relkind = 'c'))
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e'
    )

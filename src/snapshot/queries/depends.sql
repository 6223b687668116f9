-- Dependencies between user objects (oids from 16384, FirstNormalObjectId, on): what orders
-- the blocks of a snapshot so that it loads. Internal and extension dependencies tie an
-- object to its owner, not to something created before it, and are left out.
SELECT d.classid::regclass::text AS catalog, d.objid AS oid,
    d.refclassid::regclass::text AS ref_catalog, d.refobjid AS ref_oid
FROM pg_depend d
WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype IN ('n', 'a')

-- Columns of tables and attributes of composite types in the kept schemas ($1), live ones
-- only: dropped columns leave gaps in attnum, which is kept only to order them. The collation
-- is given only where it is not the type's default; the identity sequence's options are
-- joined through its internal dependency on the column. A foreign table's columns have
-- options of their own.
SELECT a.attrelid AS relation_oid, a.attnum AS position, a.attname AS name,
    format_type(a.atttypid, a.atttypmod) AS data_type,
    cn.nspname AS collation_schema, cl.collname AS collation_name,
    a.attnotnull AS not_null, a.attidentity::text AS identity,
    a.attgenerated::text AS generated, a.attislocal AS local,
    pg_get_expr(d.adbin, d.adrelid) AS default_expr, d.oid AS default_oid,
    CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage
        WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED'
    END END AS storage,
    CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS compression,
    coalesce(a.attstattarget::int4, -1) AS statistics, coalesce(a.attoptions, '{}') AS options,
    idn.schema AS identity_schema, idn.name AS identity_name, idn.seqstart AS identity_start,
    idn.seqincrement AS identity_increment, idn.seqmin AS identity_min,
    idn.seqmax AS identity_max, idn.seqcache AS identity_cache, idn.seqcycle AS identity_cycle,
    coalesce(a.attfdwoptions, '{}') AS fdw_options
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation cl ON cl.oid = a.attcollation AND a.attcollation <> t.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = cl.collnamespace
LEFT JOIN LATERAL (
    SELECT sn.nspname AS schema, sc.relname AS name, s.seqstart, s.seqincrement, s.seqmin,
        s.seqmax, s.seqcache, s.seqcycle
    FROM pg_depend sd
    JOIN pg_class sc ON sc.oid = sd.objid
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace
    JOIN pg_sequence s ON s.seqrelid = sc.oid
    WHERE a.attidentity <> '' AND sd.classid = 'pg_class'::regclass
        AND sd.refclassid = 'pg_class'::regclass AND sd.refobjid = a.attrelid
        AND sd.refobjsubid = a.attnum AND sd.deptype = 'i' AND sc.relkind = 'S'
) idn ON true
WHERE c.relkind IN ('r', 'p', 'c', 'f') AND c.relnamespace = ANY($1)
    AND a.attnum > 0 AND NOT a.attisdropped

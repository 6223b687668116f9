-- Stand-alone sequences in the kept schemas ($1) with their options and the column that owns
-- them (OWNED BY). Identity sequences (internal dependency on their column) belong to the
-- column and extension members to their extension. The sequence's position is never read.
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relpersistence = 'u' AS unlogged,
    format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start, s.seqincrement AS increment,
    s.seqmin AS min_value, s.seqmax AS max_value, s.seqcache AS cache, s.seqcycle AS cycle,
    owner.oid AS owner_oid, owner.schema AS owner_schema, owner.name AS owner_table,
    owner.attname AS owner_column
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN LATERAL (
    SELECT t.oid, tn.nspname AS schema, t.relname AS name, a.attname
    FROM pg_depend d
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
        AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refobjsubid > 0
) owner ON true
WHERE c.relkind = 'S' AND c.relnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype IN ('e', 'i')
    )

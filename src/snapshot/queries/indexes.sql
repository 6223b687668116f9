-- Indexes in the kept schemas ($1) that no constraint implements (the constraint renders
-- those) and that are not partitions of a partitioned index (the parent index creates them).
-- valid/ready/live: what an interrupted CONCURRENTLY statement leaves (an INVALID index,
-- maintained by writes or not, or one half dropped); see render/attached.rs.
-- stat_columns/stat_targets: the index columns (expressions: the server refuses it on a
-- plain column) given a statistics target (ALTER INDEX ... ALTER COLUMN n SET STATISTICS).
SELECT i.indexrelid AS oid, i.indrelid AS relation_oid, n.nspname AS schema,
    ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
    t.relkind = 'p' AS on_partitioned, i.indisclustered AS clustered,
    i.indisreplident AS replica_identity, tn.nspname AS table_schema, t.relname AS table_name,
    i.indisvalid AS valid, i.indisready AS ready, i.indislive AS live,
    coalesce(st.columns, '{}') AS stat_columns, coalesce(st.targets, '{}') AS stat_targets
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN LATERAL (
    SELECT array_agg(a.attnum::int4 ORDER BY a.attnum) AS columns,
        array_agg(a.attstattarget::int4 ORDER BY a.attnum) AS targets
    FROM pg_attribute a
    WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0
) st ON true
WHERE ic.relnamespace = ANY($1) AND NOT ic.relispartition
    AND NOT EXISTS (
        SELECT FROM pg_constraint co
        WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid
            AND co.contype IN ('p', 'u', 'x')
    )

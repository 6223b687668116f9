-- Every invalid index (pg_index.indisvalid false) outside the system catalogs, for `status`
-- and `repair` (invalid_index.rs): what an interrupted CONCURRENTLY statement leaves.
-- The table is the one the index belongs to; for an index of a TOAST table, the table owning
-- that TOAST table (what `REINDEX TABLE` names). `ready`: writes maintain it; `live`: false
-- while it is being dropped; `partitioned`: an index created ON ONLY a partitioned table whose
-- partitions are not all attached. The ancestors are the partitioned tables above the table,
-- nearest first (what `REINDEX TABLE` of a partitioned table names).
SELECT n.nspname::text AS schema, c.relname::text AS name,
       tn.nspname::text AS table_schema, t.relname::text AS table_name,
       i.indisready AS ready, i.indislive AS live, c.relkind = 'I' AS partitioned,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       ARRAY(SELECT an.nspname::text
               FROM pg_catalog.pg_partition_ancestors(t.oid) WITH ORDINALITY AS a (oid, depth)
               JOIN pg_catalog.pg_class AS ac ON ac.oid = a.oid
               JOIN pg_catalog.pg_namespace AS an ON an.oid = ac.relnamespace
              WHERE a.oid <> t.oid
              ORDER BY a.depth) AS ancestor_schemas,
       ARRAY(SELECT ac.relname::text
               FROM pg_catalog.pg_partition_ancestors(t.oid) WITH ORDINALITY AS a (oid, depth)
               JOIN pg_catalog.pg_class AS ac ON ac.oid = a.oid
              WHERE a.oid <> t.oid
              ORDER BY a.depth) AS ancestor_names
  FROM pg_catalog.pg_index AS i
  JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_class AS r ON r.oid = i.indrelid
  LEFT JOIN pg_catalog.pg_class AS owner ON r.relkind = 't' AND owner.reltoastrelid = r.oid
  JOIN pg_catalog.pg_class AS t ON t.oid = COALESCE(owner.oid, r.oid)
  JOIN pg_catalog.pg_namespace AS tn ON tn.oid = t.relnamespace
 WHERE NOT i.indisvalid
   AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
   AND tn.nspname NOT LIKE 'pg\_toast%'
   AND tn.nspname NOT LIKE 'pg\_temp\_%'
 ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"

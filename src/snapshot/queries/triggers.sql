-- User triggers on relations in the kept schemas ($1): not the internal ones behind foreign
-- keys, not the clones a partitioned table's trigger puts on its partitions.
SELECT tg.oid, tg.tgrelid AS relation_oid, n.nspname AS schema, c.relname AS table_name,
    tg.tgname AS name, pg_get_triggerdef(tg.oid) AS definition, tg.tgenabled::text AS enabled
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY($1) AND NOT tg.tgisinternal AND tg.tgparentid = 0

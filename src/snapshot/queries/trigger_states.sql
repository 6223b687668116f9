-- Triggers a partition inherits from its partitioned parent (clones: tgparentid <> 0) whose
-- enabled state differs from their parent trigger's, in the kept schemas ($1). ALTER TABLE
-- ... ENABLE/DISABLE TRIGGER on a partitioned table recurses to its partitions, and a new
-- clone takes its parent's state, so only a clone set apart from its parent needs a line of
-- its own. root_oid is the trigger CREATE TRIGGER made (whose block carries the line); depth
-- orders the lines so that a partition's comes before its own partitions'.
WITH RECURSIVE clones AS (
    SELECT tg.oid, tg.oid AS root_oid, 0 AS depth, tg.tgenabled, tg.tgenabled AS parent_enabled
    FROM pg_trigger tg
    JOIN pg_class c ON c.oid = tg.tgrelid
    WHERE c.relnamespace = ANY($1) AND c.relkind = 'p' AND tg.tgparentid = 0
        AND NOT tg.tgisinternal
    UNION ALL
    SELECT tg.oid, p.root_oid, p.depth + 1, tg.tgenabled, p.tgenabled
    FROM pg_trigger tg
    JOIN clones p ON tg.tgparentid = p.oid
)
SELECT cl.root_oid, cl.depth, tg.tgrelid AS relation_oid, n.nspname AS schema,
    c.relname AS table_name, tg.tgname AS name, cl.tgenabled::text AS enabled
FROM clones cl
JOIN pg_trigger tg ON tg.oid = cl.oid
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE cl.depth > 0 AND cl.tgenabled <> cl.parent_enabled

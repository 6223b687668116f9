-- What publications list in the kept schemas ($1): tables (FOR TABLE, with their column
-- list and row filter) and schemas (FOR TABLES IN SCHEMA, table NULL). Column names come
-- unordered here and are sorted in Rust: a column list is a set.
SELECT pr.prpubid AS publication_oid, n.nspname AS schema, c.relname AS table_name,
    CASE WHEN pr.prattrs IS NOT NULL THEN ARRAY(
        SELECT a.attname::text FROM pg_attribute a
        WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs::int2[]))
    END AS columns,
    pg_get_expr(pr.prqual, pr.prrelid) AS row_filter
FROM pg_publication_rel pr
JOIN pg_class c ON c.oid = pr.prrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY($1)
UNION ALL
SELECT pn.pnpubid, n.nspname, NULL, NULL, NULL
FROM pg_publication_namespace pn
JOIN pg_namespace n ON n.oid = pn.pnnspid
WHERE pn.pnnspid = ANY($1)

-- A table's live columns in order: name, type as the server spells it (schema-qualified
-- where the session's search_path, set to pg_catalog by the caller, does not reach), whether
-- the column is generated (a copy cannot be written into one), its default expression (not a
-- generated column's), and the schemas of its type (of a domain's base type and of an
-- array's element type too): the generated functions' search_path must reach their
-- operators (citext's `=` lives with citext, not in pg_catalog).
SELECT a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attgenerated <> '',
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
       ARRAY(SELECT DISTINCT n.nspname::text
             FROM pg_catalog.pg_type AS t
             LEFT JOIN pg_catalog.pg_type AS b ON b.oid = t.typbasetype
             LEFT JOIN pg_catalog.pg_type AS e
                    ON e.oid IN (t.typelem, b.typelem) AND e.oid <> 0
             JOIN pg_catalog.pg_namespace AS n
               ON n.oid IN (t.typnamespace, b.typnamespace, e.typnamespace)
             WHERE t.oid = a.atttypid
             ORDER BY 1)
FROM pg_catalog.pg_attribute AS a
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

-- The schemas of a type (as the server spells it), of a domain's base type and of an array's
-- element type, but pg_catalog: where the generated functions' search_path must reach.
SELECT ARRAY(SELECT DISTINCT n.nspname::text
             FROM pg_catalog.pg_type AS t
             LEFT JOIN pg_catalog.pg_type AS b ON b.oid = t.typbasetype
             LEFT JOIN pg_catalog.pg_type AS e
                    ON e.oid IN (t.typelem, b.typelem) AND e.oid <> 0
             JOIN pg_catalog.pg_namespace AS n
               ON n.oid IN (t.typnamespace, b.typnamespace, e.typnamespace)
             WHERE t.oid = $1::text::pg_catalog.regtype
               AND n.nspname <> 'pg_catalog'
             ORDER BY 1)

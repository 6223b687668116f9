-- Text search configurations in the kept schemas ($1), leaving out extension members: the
-- parser, and the mappings as (token type, its dictionaries in the order they are tried).
-- Token types by the alias ADD MAPPING takes (the parser's ts_token_type), dictionaries as
-- the server prints them with the empty search path.
SELECT c.oid, n.nspname AS schema, c.cfgname AS name, pn.nspname AS parser_schema,
    p.prsname AS parser,
    coalesce(array_agg(m.alias ORDER BY m.alias), '{}') AS tokens,
    coalesce(array_agg(m.dictionaries ORDER BY m.alias), '{}') AS dictionaries
FROM pg_ts_config c
JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser
JOIN pg_namespace pn ON pn.oid = p.prsnamespace
LEFT JOIN LATERAL (
    SELECT t.alias, string_agg(cm.mapdict::regdictionary::text, ', ' ORDER BY cm.mapseqno)
        AS dictionaries
    FROM pg_ts_config_map cm
    JOIN ts_token_type(c.cfgparser) t ON t.tokid = cm.maptokentype
    WHERE cm.mapcfg = c.oid
    GROUP BY t.alias
) m ON true
WHERE c.cfgnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_ts_config'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )
GROUP BY c.oid, n.nspname, c.cfgname, pn.nspname, p.prsname

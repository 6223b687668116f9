-- Text search parsers in the kept schemas ($1), leaving out extension members. Functions by
-- name alone, as CREATE TEXT SEARCH PARSER takes them (qualified where not in pg_catalog).
SELECT p.oid, n.nspname AS schema, p.prsname AS name, p.prsstart::text AS start,
    p.prstoken::text AS gettoken, p.prsend::text AS "end",
    CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::text END AS headline,
    p.prslextype::text AS lextypes
FROM pg_ts_parser p
JOIN pg_namespace n ON n.oid = p.prsnamespace
WHERE p.prsnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_ts_parser'::regclass AND x.objid = p.oid AND x.deptype = 'e'
    )

-- Casts a user made (oid from 16384, FirstNormalObjectId): not by an extension (its
-- CREATE EXTENSION makes them), not as an internal part of another object (the cast
-- CREATE TYPE ... AS RANGE makes to its multirange). A cast belongs to no schema: it is kept
-- when its types and function all lie in the kept schemas ($1) or in pg_catalog, so that
-- the snapshot can create it. Names are as the server prints them with the empty search
-- path (qualified where not in pg_catalog).
SELECT ca.oid, format_type(ca.castsource, NULL) AS source,
    format_type(ca.casttarget, NULL) AS target,
    CASE WHEN ca.castfunc <> 0 THEN ca.castfunc::regprocedure::text END AS function,
    ca.castmethod::text AS method, ca.castcontext::text AS context
FROM pg_cast ca
JOIN pg_type s ON s.oid = ca.castsource
JOIN pg_type t ON t.oid = ca.casttarget
LEFT JOIN pg_proc p ON p.oid = ca.castfunc
WHERE ca.oid >= 16384
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_cast'::regclass AND x.objid = ca.oid AND x.deptype IN ('e', 'i')
    )
    AND (s.typnamespace = ANY($1) OR s.typnamespace = 'pg_catalog'::regnamespace)
    AND (t.typnamespace = ANY($1) OR t.typnamespace = 'pg_catalog'::regnamespace)
    AND (p.oid IS NULL OR p.pronamespace = ANY($1)
        OR p.pronamespace = 'pg_catalog'::regnamespace)

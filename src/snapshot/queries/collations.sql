-- Collations in the kept schemas ($1), leaving out extension members. The ICU locale's
-- column is colliculocale up to PostgreSQL 16 and colllocale from 17; reading the row
-- through jsonb lets one query serve both.
SELECT c.oid, n.nspname AS schema, c.collname AS name, c.collprovider::text AS provider,
    c.collisdeterministic AS deterministic, c.collcollate AS lc_collate,
    c.collctype AS lc_ctype,
    coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale') AS locale
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE c.collnamespace = ANY($1)
    AND NOT EXISTS (
        SELECT FROM pg_depend x
        WHERE x.classid = 'pg_collation'::regclass AND x.objid = c.oid AND x.deptype = 'e'
    )

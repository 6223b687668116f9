-- Extended statistics objects (CREATE STATISTICS) in the kept schemas ($1): their definition
-- and statistics target (-1, or NULL from PostgreSQL 17 on, is the default). Not the
-- statistics they gather: that is data.
SELECT s.oid, s.stxrelid AS relation_oid, n.nspname AS schema, s.stxname AS name,
    pg_get_statisticsobjdef(s.oid) AS definition,
    coalesce(s.stxstattarget::integer, -1) AS target
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxnamespace = ANY($1)

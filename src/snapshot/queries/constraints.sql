-- Check, unique, primary-key, foreign-key and exclusion constraints of tables, and check
-- constraints of domains, in the kept schemas ($1). Constraints a partition or child table
-- inherits are left out, even when also marked local (a partition detached and attached
-- again): its parent's constraint creates them. pg_get_constraintdef gives
-- NOT VALID, DEFERRABLE, NULLS NOT DISTINCT, MATCH and the referential actions; it omits
-- the storage parameters of the constraint's index, read here from the index.
SELECT co.oid, co.conname AS name, co.contype::text AS kind,
    co.conrelid AS relation_oid, co.contypid AS domain_oid,
    CASE WHEN co.contype IN ('p', 'u', 'x') THEN co.conindid END AS index_oid,
    pg_get_constraintdef(co.oid) AS definition,
    ic.relname AS index_name, coalesce(ic.reloptions, '{}') AS index_options,
    coalesce(ix.indisclustered, false) AS clustered,
    coalesce(ix.indisreplident, false) AS replica_identity
FROM pg_constraint co
LEFT JOIN pg_class ic ON co.contype IN ('p', 'u', 'x') AND ic.oid = co.conindid
LEFT JOIN pg_index ix ON ix.indexrelid = ic.oid
WHERE co.connamespace = ANY($1) AND co.contype IN ('c', 'f', 'p', 'u', 'x')
    AND co.coninhcount = 0 AND co.conparentid = 0

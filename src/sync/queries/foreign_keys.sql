-- The foreign keys from the child ($1) to the parent ($2): name, then the referencing and
-- referenced columns, pair by pair in the constraint's own order (composite keys included),
-- and whether it is DEFERRABLE.
SELECT con.conname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_catalog.pg_attribute AS a
               ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.i),
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_catalog.pg_attribute AS a
               ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.i),
       con.condeferrable
FROM pg_catalog.pg_constraint AS con
WHERE con.contype = 'f' AND con.conrelid = $1::oid AND con.confrelid = $2::oid
ORDER BY con.conname

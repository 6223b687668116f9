-- The foreign keys of one table ($1, its quoted name): the constraint's name, the
-- table it references (as regclass prints it, and its oid), the referencing and referenced
-- columns pair by pair in the constraint's own order (composite keys included), and whether
-- it is DEFERRABLE. `sync new` picks the key to follow among them; `sync verify` fills the
-- tables they reference.
SELECT con.conname::text AS name,
       con.confrelid::regclass::text AS referenced,
       con.confrelid AS referenced_oid,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_catalog.pg_attribute AS a
               ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_catalog.pg_attribute AS a
               ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS referenced_columns,
       con.condeferrable AS deferrable
FROM pg_catalog.pg_constraint AS con
WHERE con.contype = 'f' AND con.conrelid = $1::text::regclass
ORDER BY con.conname

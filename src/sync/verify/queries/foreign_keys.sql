-- The foreign keys of one table: their columns, in key order, and the columns they reference.
SELECT c.conname::text AS name,
       c.confrelid::regclass::text AS referenced,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS referenced_columns
FROM pg_constraint AS c
WHERE c.contype = 'f'
  AND c.conrelid = $1::text::regclass
ORDER BY c.conname

-- The primary key columns of one table, in key order (no row when it has none).
SELECT ARRAY(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns
FROM pg_constraint AS c
WHERE c.contype = 'p'
  AND c.conrelid = $1::text::regclass

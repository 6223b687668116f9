-- The columns of one table that take part in a unique index (its primary key included):
-- where generated rows could collide with rows the project's migrations inserted.
SELECT DISTINCT a.attname::text AS name
FROM pg_index AS i
JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = $1::text::regclass
  AND i.indisunique
  AND a.attnum > 0
ORDER BY 1

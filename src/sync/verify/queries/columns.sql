-- The columns of one table, in order, with what the row generator needs to know of each.
SELECT a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS type_sql,
       a.attnotnull AS not_null,
       (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS has_default,
       a.attgenerated <> '' AS generated,
       a.attidentity = 'a' AS identity_always,
       t.typcategory::text AS category,
       coalesce(b.typname, t.typname)::text AS base_type
FROM pg_attribute AS a
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_type AS b ON t.typtype = 'd' AND b.oid = t.typbasetype
WHERE a.attrelid = $1::text::regclass
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum

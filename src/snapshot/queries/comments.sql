-- Comments on user objects (oids from 16384, FirstNormalObjectId, on) and on schemas (public
-- is older). Which of them belong to a kept object is decided in Rust; a column comment
-- carries the column's name and position.
SELECT d.classoid::regclass::text AS catalog, d.objoid AS oid, d.objsubid AS position,
    a.attname AS column_name, d.description
FROM pg_description d
LEFT JOIN pg_attribute a
    ON d.objsubid > 0 AND d.classoid = 'pg_class'::regclass
    AND a.attrelid = d.objoid AND a.attnum = d.objsubid
WHERE d.objoid >= 16384 OR d.classoid = 'pg_namespace'::regclass

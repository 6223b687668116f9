-- Security labels on user objects (oids from 16384, FirstNormalObjectId, on) and on schemas,
-- as for comments: which belong to a kept object is decided in Rust. No label provider is
-- loaded on a stock server, so this is most often empty.
SELECT l.classoid::regclass::text AS catalog, l.objoid AS oid, l.objsubid AS position,
    a.attname AS column_name, l.provider, l.label
FROM pg_seclabel l
LEFT JOIN pg_attribute a
    ON l.objsubid > 0 AND l.classoid = 'pg_class'::regclass
    AND a.attrelid = l.objoid AND a.attnum = l.objsubid
WHERE l.objoid >= 16384 OR l.classoid = 'pg_namespace'::regclass

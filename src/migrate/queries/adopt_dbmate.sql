-- dbmate's history: version varchar (the file's leading digits), nothing else.
SELECT version::text, NULL::text FROM {table} ORDER BY version

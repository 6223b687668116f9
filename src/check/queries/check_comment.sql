-- COMMENT takes no parameters: the server quotes the name and the text itself.
SELECT pg_catalog.format('COMMENT ON DATABASE %I IS %L', $1::text, $2::text)

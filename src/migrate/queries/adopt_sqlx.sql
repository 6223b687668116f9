-- sqlx's history: version bigint, description text, installed_on timestamptz, success boolean,
-- checksum bytea (SHA-384 of the file); each cast to what pgstrata reads.
SELECT version::text, description::text, installed_on::text, success::boolean, checksum::bytea
FROM {table}
ORDER BY version

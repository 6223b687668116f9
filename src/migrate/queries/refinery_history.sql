-- refinery's history: version int4 (int8 with its int8-versions feature), the rest text
-- (varchar(255)); each cast to what pgstrata reads, so a hand-altered column type cannot
-- make the reader fail.
SELECT version::bigint, name::text, applied_on::text, checksum::text FROM {table} ORDER BY version

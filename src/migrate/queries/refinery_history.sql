-- refinery's history: version int4 (int8 with its int8-versions feature), the rest text.
SELECT version::bigint, name, applied_on, checksum FROM {table} ORDER BY version

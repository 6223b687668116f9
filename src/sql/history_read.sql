-- Every history row. Unordered: the caller sorts by version (an ORDER BY costs a fresh
-- session about a millisecond of catalog lookups, a third of a no-op `up`'s queries).
SELECT version,
       name,
       checksum,
       rollback_checksum,
       to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       applied_by,
       execution_ms,
       state
FROM {schema}.history

SELECT version,
       name,
       checksum,
       rollback_checksum,
       to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       applied_by,
       execution_ms,
       state
FROM {schema}.history
ORDER BY version

-- Every history row of a schema whose format is not recorded (made before pgstrata.meta
-- existed): read only when queries/history_read.sql finds no meta table, so once per database.
SELECT NULL::integer AS format,
       true AS present,
       version,
       name,
       checksum,
       rollback_checksum,
       to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at,
       applied_by,
       execution_ms,
       state
FROM {schema}.history

-- Every history row of a schema whose format is not recorded (made before pgstrata.meta
-- existed): read only when queries/history_read.sql finds no meta table, so once per database.
SELECT NULL::integer AS format,
       true AS present,
       version,
       name,
       checksum,
       rollback_checksum,
       -- to_char gives NULL for 'infinity' and '-infinity', which a hand-edited row can hold:
       -- those are shown as the server spells them, not refused as NULLs.
       CASE WHEN isfinite(applied_at)
            THEN to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            ELSE applied_at::text
       END AS applied_at,
       applied_by,
       execution_ms,
       state,
       -- As in queries/history_read.sql: format 1 has no such column, and its rows were all
       -- applied in order.
       coalesce((to_jsonb(h) ->> 'out_of_order')::boolean, false) AS out_of_order
FROM {schema}.history h

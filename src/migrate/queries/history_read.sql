-- The format of pgstrata's tables, then every history row, in one query: checking the format
-- costs no round trip. Always one row at least (`present` is false when the history is
-- empty), none only when meta is empty. Unordered: the caller sorts by version (an ORDER BY
-- costs a fresh session about a millisecond of catalog lookups, a third of a no-op `up`'s
-- queries).
SELECT m.format,
       h.tableoid IS NOT NULL AS present,
       h.version,
       h.name,
       h.checksum,
       h.rollback_checksum,
       -- to_char gives NULL for 'infinity' and '-infinity', which a hand-edited row can hold:
       -- those are shown as the server spells them, not refused as NULLs.
       CASE WHEN isfinite(h.applied_at)
            THEN to_char(h.applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            ELSE h.applied_at::text
       END AS applied_at,
       h.applied_by,
       h.execution_ms,
       h.state,
       -- Read through the row's jsonb, not as h.out_of_order: a format-1 table, which the next
       -- locked run upgrades (queries/history_upgrade.sql), has no such column, and until then
       -- its rows, all applied in order, read as false in this same query.
       coalesce((to_jsonb(h) ->> 'out_of_order')::boolean, false) AS out_of_order
FROM {schema}.meta m
LEFT JOIN {schema}.history h ON true

INSERT INTO {schema}.history
    (version, name, checksum, rollback_checksum, applied_at, applied_by, execution_ms, state)
VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6, 0, 'applied')

INSERT INTO {schema}.history (version, name, checksum, rollback_checksum, execution_ms, state)
VALUES ($1, $2, $3, $4, $5, $6)

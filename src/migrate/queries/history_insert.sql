INSERT INTO {schema}.history (version, name, checksum, rollback_checksum, execution_ms, state, out_of_order)
VALUES ($1, $2, $3, $4, $5, $6, $7)

UPDATE {schema}.history
SET state = $2, execution_ms = coalesce($3, execution_ms)
WHERE version = $1

-- Sent in the same simple-query batch as the migration it records (see
-- History::record_statement), so its values are literals, each checked to be digits, hex
-- digits or [A-Za-z0-9_], or written by pgstrata (`true`/`false`). The time is measured by the
-- server: from the receipt of the batch to this statement.
INSERT INTO {schema}.history (version, name, checksum, rollback_checksum, execution_ms, state, out_of_order)
VALUES ({version}, '{name}', '{checksum}', '{rollback_checksum}',
        (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint,
        'applied', {out_of_order})

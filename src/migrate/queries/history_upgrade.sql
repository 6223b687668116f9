-- Upgrades pgstrata's tables to the current format, in place: sent after history_meta.sql
-- (which records format 1 where no format was recorded), under the migration lock and in one
-- transaction with it, so a run sees the old tables or the new ones, never a mix. Each step
-- is idempotent and only raises the recorded format.

-- Format 2: history.out_of_order, true for a migration `up --allow-out-of-order` applied after
-- a newer one. Format 1 refused that, so its rows take false. A constant default adds the
-- column without rewriting the table.
ALTER TABLE {schema}.history
    ADD COLUMN IF NOT EXISTS out_of_order boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN {schema}.history.out_of_order IS
    'Applied after a newer version was already applied (pgstrata up --allow-out-of-order).';
UPDATE {schema}.meta SET format = 2 WHERE format < 2;

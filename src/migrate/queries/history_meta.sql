-- The format of pgstrata's tables (queries/history_create.sql), read with every history read
-- (queries/history_read.sql): a later pgstrata upgrades an older format, and an older pgstrata
-- refuses a newer one. One row at most (the primary key on a constant). Sent after
-- history_create.sql, and alone to adopt a schema from before this table existed as format 1,
-- which is what it holds.
CREATE TABLE IF NOT EXISTS {schema}.meta (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    format integer NOT NULL
);
COMMENT ON TABLE {schema}.meta IS
    'The format of pgstrata''s tables in this schema; pgstrata refuses a format newer than it knows.';
INSERT INTO {schema}.meta (format) VALUES (1) ON CONFLICT DO NOTHING;

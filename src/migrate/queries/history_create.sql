-- pgstrata's own bookkeeping; {schema} is the configured history schema, quoted.
-- These are the tables of format 1; history_upgrade.sql brings them (new, or made by an older
-- pgstrata) to the current format, so every database goes the same one way.
CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.history (
    version           bigint      PRIMARY KEY,
    name              text        NOT NULL,
    checksum          text        NOT NULL,
    rollback_checksum text        NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT now(),
    applied_by        text        NOT NULL DEFAULT current_user,
    execution_ms      bigint      NOT NULL DEFAULT 0,
    state             text        NOT NULL DEFAULT 'applied'
        CHECK (state IN ('applied', 'running', 'reverting'))
);
COMMENT ON TABLE {schema}.history IS
    'Migrations applied by pgstrata. state running/reverting: a no-transaction migration or rollback in flight or interrupted; see pgstrata repair.';

CREATE TABLE IF NOT EXISTS {schema}.views (
    file        text        PRIMARY KEY,
    schema_name text        NOT NULL,
    view_name   text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {schema}.views IS
    'Views created by pgstrata from views/*.sql, with the checksum of the file that made them.';

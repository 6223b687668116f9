-- The view files whose last rebuild failed, for `status`. Optional: made by the first failure
-- (or with the history), and a pgstrata that does not know it ignores it safely (a failure is
-- only shown for a file whose checksum still matches and whose view is not current).
CREATE TABLE IF NOT EXISTS {schema}.view_failures (
    file      text        PRIMARY KEY,
    checksum  text        NOT NULL,
    error     text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {schema}.view_failures IS
    'View files (views/*.sql) whose last rebuild failed, with the checksum of the file that failed and the error.';

-- golang-migrate's history: one row, the version applied (bigint) and whether its last run
-- was interrupted (dirty).
SELECT version::text, dirty::boolean FROM {table}

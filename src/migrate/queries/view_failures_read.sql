-- The view files whose last rebuild failed (queries/view_failures_create.sql).
SELECT file, checksum, error FROM {schema}.view_failures

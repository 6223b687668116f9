-- Records that the rebuild of view file $1 (checksum $2) failed with error $3.
INSERT INTO {schema}.view_failures (file, checksum, error)
VALUES ($1, $2, $3)
ON CONFLICT (file) DO UPDATE
SET checksum = EXCLUDED.checksum,
    error = EXCLUDED.error,
    failed_at = now()

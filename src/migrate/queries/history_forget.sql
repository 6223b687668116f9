-- Sent in the same simple-query batch as the rollback it records (see
-- History::forget_statement), so the version is a literal: an integer pgstrata formats.
DELETE FROM {schema}.history WHERE version = {version}

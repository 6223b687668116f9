-- diesel's history: version varchar(50) (the folder's version without dashes), run_on
-- timestamp; each cast to what pgstrata reads.
SELECT version::text, run_on::text FROM {table} ORDER BY version

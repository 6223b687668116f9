-- flyway's history, in the order it ran: version (NULL for a repeatable migration),
-- description, type (SQL, BASELINE, SCHEMA, UNDO_SQL, ...), script, checksum (CRC32 as int4),
-- installed_on, success.
SELECT version::text, description::text, type::text, script::text, checksum::int4,
       installed_on::text, success::boolean
FROM {table}
ORDER BY installed_rank

-- Undoes V4 (seed 002): drops upsert_image_metadata() and image_metadata with its rows; the
-- schema before V4 has no place for them.
DROP FUNCTION upsert_image_metadata(text, text, text, text, text, text, text);
DROP TABLE image_metadata;

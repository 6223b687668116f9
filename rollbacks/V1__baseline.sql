-- Undoes V1 baseline: drops every table it created (and their data) and the updated_at trigger
-- function; an empty database again.
DROP TABLE content_creation_requests;
DROP TABLE album_images;
DROP TABLE images;
DROP TABLE offerings;
DROP TABLE albums;
DROP TABLE books;
DROP FUNCTION set_updated_at();

-- Undoes V2 (seed 000): removes the sync triggers and album_images.alt_text/description.
-- Nothing is lost: the values live on in images, which the triggers kept equal.
DROP TRIGGER copy_image_details_to_album_image ON album_images;
DROP TRIGGER sync_album_image_details_to_images ON album_images;
DROP TRIGGER sync_image_details_to_album_images ON images;
DROP FUNCTION copy_image_details_to_album_image();
DROP FUNCTION sync_album_image_details_to_images();
DROP FUNCTION sync_image_details_to_album_images();
DROP INDEX album_images_missing_alt_text_idx;
ALTER TABLE album_images
    DROP COLUMN alt_text,
    DROP COLUMN description;

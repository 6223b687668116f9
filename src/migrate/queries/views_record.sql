-- Records a managed view after its file ran; views_forget.sql first cleared the file's and the
-- view's earlier records.
INSERT INTO {schema}.views (file, schema_name, view_name, checksum)
VALUES ($1, $2, $3, $4)

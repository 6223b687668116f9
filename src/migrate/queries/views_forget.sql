-- Forgets the record of a managed view: the one made from file $1 (NULL: any file) and the one
-- of the view $2.$3 (a view is matched by name: a renamed file keeps its view).
DELETE FROM {schema}.views
WHERE file = $1 OR (schema_name = $2 AND view_name = $3)

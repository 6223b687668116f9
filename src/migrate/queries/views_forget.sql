DELETE FROM {schema}.views WHERE schema_name = $1 AND view_name = $2

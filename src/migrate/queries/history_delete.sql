DELETE FROM {schema}.history WHERE version = $1

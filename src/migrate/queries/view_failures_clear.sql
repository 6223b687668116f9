-- After a rebuild that succeeded, every wanted view is built: no failure stands.
DELETE FROM {schema}.view_failures

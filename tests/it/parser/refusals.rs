//! Statements the parser accepts but pgstrata cannot run the way it runs their file.

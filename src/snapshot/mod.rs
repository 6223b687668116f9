//! Schema snapshots: the database's schema as deterministic, executable SQL text.

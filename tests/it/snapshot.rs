//! Schema snapshots: determinism, coverage of every object kind, the executable round trip.

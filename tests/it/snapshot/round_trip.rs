//! The executable round trip: a snapshot loaded into an empty database snapshots the same.

use pgstrata::snapshot::{HEADER_KINDS, split_blocks};

use super::{assert_round_trip, every_kind_sql, run_sql, snapshot};
use crate::harness::TestDb;

#[test]
fn a_schema_with_every_kind_survives_load_and_snapshot() {
    let db = TestDb::new();
    run_sql(&db, &every_kind_sql(&db));
    let text = snapshot(&db);
    if std::env::var_os("PGSTRATA_SHOW_SNAPSHOT").is_some() {
        eprintln!("{text}");
    }
    // Every kind is really there, so the round trip below covers all of them.
    let blocks = split_blocks(&text).blocks;
    for kind in HEADER_KINDS {
        assert!(
            blocks.iter().any(|b| b
                .object
                .strip_prefix(kind)
                .is_some_and(|r| r.starts_with(' '))),
            "no {kind} block in:\n{text}"
        );
    }
    assert_round_trip(&text);
}

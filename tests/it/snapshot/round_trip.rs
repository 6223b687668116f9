//! The executable round trip: a snapshot loaded into an empty database snapshots the same.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pgstrata::snapshot::{HEADER_KINDS, compare, split_blocks, take_parallel};

use super::{assert_round_trip, every_kind_sql, options, run_sql, snapshot};
use crate::harness::{TestDb, fixture};

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

#[test]
fn unusual_definitions_survive_load_and_snapshot() {
    let db = TestDb::new();
    let path = fixture("snapshot_unusual/schema.sql");
    run_sql(&db, &std::fs::read_to_string(&path).unwrap());
    let text = snapshot(&db);
    if std::env::var_os("PGSTRATA_SHOW_SNAPSHOT").is_some() {
        eprintln!("{text}");
    }
    // The comment that looks like a header stays inside its block.
    let objects: Vec<&str> = split_blocks(&text)
        .blocks
        .iter()
        .map(|b| b.object)
        .collect();
    assert!(
        objects.contains(&"type \"Weird \"\"Schema\"\"\".\"Label's\""),
        "{objects:?}"
    );
    assert!(!objects.iter().any(|o| o.contains("looks like")));
    for object in [
        "table public.readings_ab_1",
        "procedure public.fill(integer, boolean)",
    ] {
        assert!(
            objects.contains(&object),
            "{object} missing from {objects:?}"
        );
    }
    assert_round_trip(&text);
}

#[test]
fn two_connections_give_the_same_text_as_one() {
    let db = TestDb::new();
    run_sql(&db, &every_kind_sql(&db));
    let parallel = take_parallel(
        &pgstrata::conninfo::ConnInfo::parse(&db.conninfo).unwrap(),
        &options(),
    )
    .expect("taking a snapshot over two connections")
    .render();
    let comparison = compare(
        &snapshot(&db),
        &parallel,
        "one connection",
        "two connections",
    );
    assert!(comparison.is_same(), "{}", comparison.unified);
    assert!(parallel.contains("\n-- table app.images\n"));
}

#[test]
fn two_connections_see_one_snapshot_while_the_schema_changes() {
    let db = TestDb::new();
    run_sql(&db, &every_kind_sql(&db));
    // A writer flips app.cache between two states, each in one transaction: with a column
    // "churn" and the comment 'B', or without both. Columns are read by one connection and
    // comments by the other, so a snapshot with one and not the other mixed two moments.
    let stop = AtomicBool::new(false);
    let flips = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut writer = db.connect();
            while !stop.load(Ordering::Relaxed) {
                writer
                    .batch_execute(
                        "BEGIN; ALTER TABLE app.cache ADD COLUMN churn integer;
                         COMMENT ON TABLE app.cache IS 'B'; COMMIT;
                         BEGIN; ALTER TABLE app.cache DROP COLUMN churn;
                         COMMENT ON TABLE app.cache IS NULL; COMMIT;",
                    )
                    .unwrap();
                flips.fetch_add(1, Ordering::Relaxed);
            }
        });
        for _ in 0..20 {
            let text = take_parallel(
                &pgstrata::conninfo::ConnInfo::parse(&db.conninfo).unwrap(),
                &options(),
            )
            .unwrap()
            .render();
            let column = text.contains("\"churn\" integer");
            let comment = text.contains("COMMENT ON TABLE \"app\".\"cache\" IS 'B';");
            assert_eq!(
                column, comment,
                "the two connections read different moments"
            );
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(flips.load(Ordering::Relaxed) > 0, "the writer never ran");
}

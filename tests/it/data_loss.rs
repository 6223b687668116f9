//! The data-loss guard: `down` and `redo` rehearse every rollback they will run and refuse,
//! changing nothing, when one would drop a table, a materialized view or a column that holds
//! data, unless given `--allow-data-loss`; a dry run reports the same figures.

use crate::harness::{TempDir, TestDb, history, pgstrata_for, relation_exists, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__images.sql",
            "CREATE TABLE images (id int PRIMARY KEY, url text);\n",
        ),
        ("rollbacks/V1__images.sql", "DROP TABLE images;\n"),
        (
            "migrations/V2__explicit.sql",
            "ALTER TABLE images ADD COLUMN explicit boolean;\n\
             CREATE TABLE offering_images (offering int, image int);\n",
        ),
        (
            "rollbacks/V2__explicit.sql",
            "ALTER TABLE images DROP COLUMN explicit;\nDROP TABLE offering_images;\n",
        ),
    ])
}

fn pgstrata(db: &TestDb, p: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata_for(db, &p.path).args(args))
}

fn fill(db: &TestDb, sql: &str) {
    db.connect().batch_execute(sql).unwrap();
}

fn applied(db: &TestDb) -> Vec<i64> {
    history(&mut db.connect())
        .into_iter()
        .map(|(v, _)| v)
        .collect()
}

#[test]
fn a_rollback_dropping_data_is_refused_with_every_object_and_its_count() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    fill(
        &db,
        "INSERT INTO images SELECT g, 'u' || g, g % 2 = 0 FROM generate_series(1, 10000) g;\n\
         INSERT INTO offering_images SELECT g, g FROM generate_series(1, 10000) g;",
    );
    let (code, out, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains(
            "rolling back V2 drops column public.images.explicit (10,000 values) and table \
             public.offering_images (10,000 rows); nothing was changed; rerun with \
             --allow-data-loss"
        ),
        "{err}"
    );
    // Untouched.
    assert_eq!(applied(&db), [1, 2]);
    assert!(relation_exists(&mut db.connect(), "offering_images"));
    // JSON carries the objects and counts.
    let (code, out, _) = pgstrata(&db, &p, &["down", "--format", "json"]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["kind"], "data_loss", "{report:#}");
    assert_eq!(report["data_loss"][0]["version"], 2, "{report:#}");
    assert_eq!(
        report["data_loss"][0]["losses"][1]["object"],
        "table public.offering_images"
    );
    assert_eq!(report["data_loss"][0]["losses"][1]["count"], 10000);
    // The dry run says the same and changes nothing.
    let (code, out, err) = pgstrata(&db, &p, &["down", "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("rolling back V2 drops column public.images.explicit (10,000 values)"),
        "{err}"
    );
    assert_eq!(applied(&db), [1, 2]);
    // With the flag, it runs.
    let (code, out, err) = pgstrata(&db, &p, &["down", "--allow-data-loss"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(applied(&db), [1]);
    assert!(!relation_exists(&mut db.connect(), "offering_images"));
}

#[test]
fn empty_tables_and_null_columns_are_no_loss() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    // Rows in images, but `explicit` is NULL everywhere and offering_images is empty.
    fill(
        &db,
        "INSERT INTO images (id, url) VALUES (1, 'a'), (2, 'b');",
    );
    let (code, out, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(applied(&db), [1]);
    // Now V1's rollback would drop two rows.
    let (code, _, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 2);
    assert!(err.contains("drops table public.images (2 rows)"), "{err}");
}

#[test]
fn down_to_zero_refuses_before_any_rollback_runs() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    // V2's rollback loses nothing; V1's would: nothing runs, V2 included.
    fill(&db, "INSERT INTO images (id, url) VALUES (1, 'a');");
    let (code, _, err) = pgstrata(&db, &p, &["down", "--to", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("rolling back V1 drops table public.images (1 row)"),
        "{err}"
    );
    assert_eq!(applied(&db), [1, 2]);
    assert!(relation_exists(&mut db.connect(), "offering_images"));
}

#[test]
fn a_rollback_that_drops_and_recreates_a_table_is_reported() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE t (id int PRIMARY KEY, note text);\n",
        ),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        (
            "migrations/V2__wide.sql",
            "ALTER TABLE t ADD COLUMN wide int;\n",
        ),
        (
            "rollbacks/V2__wide.sql",
            "DROP TABLE t;\nCREATE TABLE t (id int PRIMARY KEY, note text);\n",
        ),
    ]);
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    fill(&db, "INSERT INTO t VALUES (1, 'kept?', 7);");
    let (code, _, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 2);
    assert!(err.contains("drops table public.t (1 row)"), "{err}");
    assert_eq!(applied(&db), [1, 2]);
}

#[test]
fn redo_is_guarded_and_an_irreversible_rollback_is_refused_first() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    fill(&db, "INSERT INTO offering_images VALUES (1, 1);");
    let (code, _, err) = pgstrata(&db, &p, &["redo"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("drops table public.offering_images (1 row)"),
        "{err}"
    );
    assert_eq!(
        pgstrata(&db, &p, &["redo", "--allow-data-loss"]).0,
        0,
        "redo runs with the flag"
    );
    p.write(
        "rollbacks/V2__explicit.sql",
        "-- pgstrata:irreversible the links cannot be rebuilt\nSELECT 1;\n",
    );
    fill(&db, "INSERT INTO offering_images VALUES (1, 1);");
    let (code, _, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 2);
    assert!(err.contains("the links cannot be rebuilt"), "{err}");
    assert!(!err.contains("--allow-data-loss"), "{err}");
}

#[test]
fn materialized_views_and_no_transaction_rollbacks_are_rehearsed_too() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2), (3);\n\
             CREATE MATERIALIZED VIEW t_ids AS SELECT id FROM t;\n\
             CREATE INDEX t_id ON t (id);\n",
        ),
        (
            "rollbacks/V1__t.sql",
            "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY t_id;\n\
             DROP MATERIALIZED VIEW t_ids;\nDROP TABLE t;\n",
        ),
    ]);
    assert_eq!(pgstrata(&db, &p, &["up"]).0, 0);
    let (code, _, err) = pgstrata(&db, &p, &["down"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("materialized view public.t_ids (3 rows)")
            && err.contains("table public.t (3 rows)"),
        "{err}"
    );
    assert!(relation_exists(&mut db.connect(), "t_id"), "nothing ran");
    assert_eq!(pgstrata(&db, &p, &["down", "--allow-data-loss"]).0, 0);
    assert!(!relation_exists(&mut db.connect(), "t"));
}

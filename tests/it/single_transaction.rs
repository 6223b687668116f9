//! `up --single-transaction`: every pending migration, its history row and the view rebuild in
//! one transaction. A failure anywhere leaves nothing of the run (schema, history, views, not
//! even a history table on a fresh database); a pending no-transaction file is refused before
//! anything runs; a lost lock race retries the whole transaction; a dry run shows one
//! BEGIN … COMMIT.

use crate::harness::{TempDir, TestDb, history, pgstrata_for, relation_exists, run};

/// V1 and a view on it; V2..V5 pending on top of V1, V4 (the 3rd of the 4) failing at its
/// second statement when `broken`.
fn project(broken: bool) -> TempDir {
    let v4 = if broken {
        "CREATE TABLE d (id int);\nINSERT INTO missing_table VALUES (1);\n"
    } else {
        "CREATE TABLE d (id int);\n"
    };
    TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        (
            "migrations/V2__b.sql",
            "CREATE TABLE b (id int);\nINSERT INTO a VALUES (2);\n",
        ),
        ("rollbacks/V2__b.sql", "DROP TABLE b;\n"),
        (
            "migrations/V3__c.sql",
            "-- pgstrata:lock-timeout 3s\nALTER TABLE a ADD COLUMN note text;\n",
        ),
        ("rollbacks/V3__c.sql", "ALTER TABLE a DROP COLUMN note;\n"),
        ("migrations/V4__d.sql", v4),
        ("rollbacks/V4__d.sql", "DROP TABLE d;\n"),
        ("migrations/V5__e.sql", "CREATE TABLE e (id int);\n"),
        ("rollbacks/V5__e.sql", "DROP TABLE e;\n"),
        (
            "views/b_ids.sql",
            "-- pgstrata:requires V2\nCREATE OR REPLACE VIEW b_ids AS SELECT id FROM b;\n",
        ),
    ])
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn the_third_of_four_pending_failing_leaves_history_and_schema_as_they_were() {
    let db = TestDb::new();
    let p = project(true);
    let (code, _, err) = run(pgstrata_for(&db, &p.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    let mut client = db.connect();
    let before = history(&mut client);
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction", "--format", "json"]));
    assert_eq!(code, 2, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["single_transaction"], true, "{out}");
    assert_eq!(report["kind"], "database", "{out}");
    assert_eq!(report["file"], "migrations/V4__d.sql", "{out}");
    assert_eq!(report["line"], 2, "{out}");
    // Nothing of the run is reported as applied: it is not.
    assert_eq!(report["steps"], serde_json::json!([]), "{out}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("the single transaction was rolled back"),
        "{out}"
    );
    assert_eq!(history(&mut client), before);
    for gone in ["b", "c", "d", "e", "b_ids"] {
        assert!(!relation_exists(&mut client, gone), "{gone} was left");
    }
    let rows: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "V2's insert was left");
    let note: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'note'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(note, 0, "V3's column was left");

    // Fixed, the same run applies all four and builds the view, in one transaction.
    let fixed = project(false);
    let (code, out, err) = run(pgstrata_for(&db, &fixed.path).args([
        "up",
        "--single-transaction",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["single_transaction"], true, "{out}");
    assert_eq!(report["steps"].as_array().unwrap().len(), 4, "{out}");
    assert_eq!(report["views"][0]["view"], "public.b_ids", "{out}");
    let versions: Vec<i64> = history(&mut client).iter().map(|r| r.0).collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5]);
    assert!(relation_exists(&mut client, "b_ids"));
    // The four rows were written by one transaction (applied_at is its start), V1's by an
    // earlier one.
    let starts: i64 = client
        .query_one(
            "SELECT count(DISTINCT applied_at) FROM pgstrata.history WHERE version > 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(starts, 1);
    // A no-op says so too.
    let (code, out, _) = run(pgstrata_for(&db, &fixed.path).args([
        "up",
        "--single-transaction",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(json(&out)["single_transaction"], true, "{out}");
}

#[test]
fn a_failed_first_deploy_leaves_no_history_table() {
    let db = TestDb::new();
    let p = project(true);
    let (code, _, err) = run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("migrations/V4__d.sql:2"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    let mut client = db.connect();
    let schemas: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgstrata'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0, "the history schema was left");
    assert!(!relation_exists(&mut client, "a"));
    // A fixed first deploy creates the history in its transaction.
    let (code, _, err) =
        run(pgstrata_for(&db, &project(false).path).args(["up", "--single-transaction"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(history(&mut client).len(), 5);
}

#[test]
fn a_pending_no_transaction_file_is_refused_before_anything_runs() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        (
            "migrations/V2__a_id.sql",
            "-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
        ),
        (
            "rollbacks/V2__a_id.sql",
            "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY a_id;\n",
        ),
    ]);
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction", "--format", "json"]));
    assert_eq!(code, 2, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["kind"], "no_transaction", "{out}");
    let message = report["error"].as_str().unwrap();
    assert!(message.contains("migrations/V2__a_id.sql"), "{message}");
    assert!(
        message.contains("pgstrata up --single-transaction --to 1"),
        "{message}"
    );
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "a"), "V1 ran");
    assert!(history(&mut client).is_empty());
    // Up to the file before it, the single transaction is fine.
    let (code, _, err) =
        run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(history(&mut client).len(), 1);
}

#[test]
fn a_lost_lock_race_retries_the_whole_transaction() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__counter.sql",
            "CREATE SEQUENCE attempts;\nCREATE TABLE done (n int);\n",
        ),
        (
            "rollbacks/V1__counter.sql",
            "DROP TABLE done;\nDROP SEQUENCE attempts;\n",
        ),
        ("migrations/V2__one.sql", "INSERT INTO done VALUES (1);\n"),
        ("rollbacks/V2__one.sql", "DELETE FROM done WHERE n = 1;\n"),
        (
            "migrations/V3__flaky.sql",
            "INSERT INTO done VALUES (2);\n\
             DO $$ BEGIN IF nextval('attempts') <= 2 THEN \
             RAISE EXCEPTION 'lost a race' USING ERRCODE = '55P03'; END IF; END $$;\n",
        ),
        ("rollbacks/V3__flaky.sql", "DELETE FROM done WHERE n = 2;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &p.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction", "--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        err.matches("lock wait: the single transaction").count(),
        2,
        "{err}"
    );
    let report = json(&out);
    assert_eq!(report["steps"][0]["attempts"], 3, "{out}");
    assert_eq!(report["steps"][1]["attempts"], 3, "{out}");
    // V2 ran in each attempt, and only the last one's row is left.
    let rows: Vec<i32> = db
        .connect()
        .query("SELECT n FROM done ORDER BY n", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, vec![1, 2]);
}

#[test]
fn a_dry_run_shows_one_begin_and_one_commit_and_changes_nothing() {
    let db = TestDb::new();
    let p = project(false);
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["up", "--single-transaction", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("BEGIN;").count(), 1, "{out}");
    assert_eq!(out.matches("COMMIT;").count(), 1, "{out}");
    let begin = out.find("BEGIN;").unwrap();
    let commit = out.find("COMMIT;").unwrap();
    let last_file = out.find("CREATE TABLE e").unwrap();
    let view = out.find("CREATE OR REPLACE VIEW b_ids").unwrap();
    assert!(
        begin < last_file && last_file < view && view < commit,
        "{out}"
    );
    // Each file sets its own limits, the run's or its directive's.
    assert!(out.contains("SET LOCAL lock_timeout = '3000ms';"), "{out}");
    assert!(err.contains("--single-transaction"), "{err}");
    let mut client = db.connect();
    assert!(history(&mut client).is_empty());
    assert!(!relation_exists(&mut client, "a"));
}

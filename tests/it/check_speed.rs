//! What makes `check` fast on a long history must not change what it finds: row counts that
//! skip empty tables still count the others, snapshots taken with prepared catalog queries
//! are the same text as one-off snapshots (and survive a session that dropped its prepared
//! statements), and the JSON report says where the time went.

use pgstrata::check::rows;
use pgstrata::snapshot::{self, Reader, SnapshotOptions};

use crate::harness::{TempDir, TestDb, pgstrata, run};

#[test]
fn row_counts_skip_no_table_that_holds_rows() {
    let db = TestDb::new();
    let mut client = db.connect();
    client
        .batch_execute(
            "CREATE TABLE empty (id int);
             CREATE TABLE full_one (id int);
             INSERT INTO full_one SELECT generate_series(1, 3);
             CREATE TABLE emptied (id int);
             INSERT INTO emptied VALUES (1);
             DELETE FROM emptied;
             CREATE UNLOGGED TABLE unlogged (id int);
             INSERT INTO unlogged VALUES (1), (2);",
        )
        .unwrap();
    let counts = rows::count(&mut client, &[]).unwrap();
    assert_eq!(counts.get("public.empty"), Some(0));
    assert_eq!(counts.get("public.full_one"), Some(3));
    assert_eq!(counts.get("public.emptied"), Some(0));
    assert_eq!(counts.get("public.unlogged"), Some(2));
}

fn options() -> SnapshotOptions {
    SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    }
}

#[test]
fn a_reader_snapshots_as_take_does_after_changes_and_a_deallocate_all() {
    let db = TestDb::new();
    let mut client = db.connect();
    let take = |client: &mut postgres::Client| snapshot::take(client, &options()).unwrap().render();
    let mut reader = Reader::default();
    let mut read =
        |client: &mut postgres::Client| reader.take(client, &options()).unwrap().render();
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY, note text DEFAULT 'x')")
        .unwrap();
    // More than five times: the server switches a prepared statement to its generic plan
    // after five executions.
    for round in 0..7 {
        client
            .batch_execute(&format!(
                "CREATE INDEX a_note_{round} ON a (note);
                 CREATE VIEW v_{round} AS SELECT id FROM a;
                 COMMENT ON TABLE a IS 'round {round}'"
            ))
            .unwrap();
        let expected = take(&mut client);
        assert!(expected.contains(&format!("a_note_{round}")), "{expected}");
        assert_eq!(read(&mut client), expected, "round {round}");
    }
    // A migration may drop every prepared statement of the session.
    client.batch_execute("DEALLOCATE ALL").unwrap();
    client.batch_execute("DROP VIEW v_0").unwrap();
    let expected = take(&mut client);
    assert_eq!(read(&mut client), expected);
    assert_eq!(read(&mut client), expected);
}

#[test]
fn check_reports_where_its_time_went() {
    let p = TempDir::with_files(&[
        (
            "migrations/V1__a.sql",
            "CREATE TABLE a (id int PRIMARY KEY);\n",
        ),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        (
            "migrations/V2__b.sql",
            "CREATE TABLE b (id int REFERENCES a);\n",
        ),
        ("rollbacks/V2__b.sql", "DROP TABLE b;\n"),
    ]);
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&p.path).args([
        "--format",
        "json",
        "check",
        "--write-snapshots",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let timings = &report["timings"];
    let ms = |key: &str| {
        timings[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {out}"))
    };
    for key in [
        "apply_ms",
        "introspect_ms",
        "render_ms",
        "compare_ms",
        "rows_ms",
    ] {
        assert!(ms(key) >= 0.0 && ms(key) <= ms("total_ms"), "{key}: {out}");
    }
    assert!(ms("apply_ms") > 0.0 && ms("introspect_ms") > 0.0, "{out}");
    // The schema before V1, three per migration (applied, rolled back, applied again), and
    // two for the round trip (all rolled back, all applied again).
    assert_eq!(timings["snapshots"], 1 + 3 * 2 + 2, "{out}");
}

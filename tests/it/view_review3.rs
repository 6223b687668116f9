//! A third hostile review of managed views: files that resolve to one view on a database with
//! no recorded views, a recorded view whose name a table took, and the JSON report of a
//! migration refused because a view cannot come back. Each test states what is expected and
//! why, and what the review observed (every test here failed when it was written).

use crate::harness::{TempDir, TestDb, history, pgstrata_for, run};

fn go(db: &TestDb, p: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata_for(db, &p.path).args(args))
}

/// Expected: README, "Deleting and renaming": "Two files defining one view are an error naming
/// both (`report` and `public.report` once resolved to the same schema included), before
/// anything runs." Why: the duplicate can only be resolved against the database
/// (current_schema), but that is known before the migrations run.
/// Observed: on a database where no view is recorded yet (a fresh one, or a project adding its
/// first views), the duplicate is found only by the rebuild after the migrations: V1 is
/// applied and committed, then `up` exits 2 naming both files.
#[test]
fn one_view_in_two_files_is_refused_before_migrations_even_with_no_view_recorded() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("views/report.sql", "CREATE VIEW report AS SELECT 1 AS x;\n"),
        (
            "views/public.report.sql",
            "CREATE VIEW public.report AS SELECT 2 AS x;\n",
        ),
    ]);
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("views/report.sql") && err.contains("views/public.report.sql"),
        "{err}"
    );
    assert_eq!(
        history(&mut db.connect()),
        vec![],
        "nothing may run before the duplicate is refused\n{out}\n{err}"
    );
}

/// A managed view that a migration replaced with a table of the same name (`DROP VIEW report;
/// CREATE TABLE report`), whose file is then deleted.
fn view_become_table(db: &TestDb) -> TempDir {
    let p = TempDir::with_files(&[
        ("migrations/V1__base.sql", "CREATE TABLE base (id int);\n"),
        ("rollbacks/V1__base.sql", "DROP TABLE base;\n"),
        (
            "views/report.sql",
            "-- pgstrata:requires V1\nCREATE VIEW report AS SELECT id FROM base;\n",
        ),
    ]);
    let (code, out, err) = go(db, &p, &["up"]);
    assert_eq!(code, 0, "{out}\n{err}");
    p.write(
        "migrations/V2__report_table.sql",
        "DROP VIEW report;\nCREATE TABLE report (id int);\n",
    );
    p.write("rollbacks/V2__report_table.sql", "DROP TABLE report;\n");
    // The rebuild refuses the table where the view was (as documented), V2 stays applied.
    let (code, out, err) = go(db, &p, &["up"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("is a table"), "{err}");
    // What the error asks for: the view is gone for good, so its file goes.
    std::fs::remove_file(p.path.join("views/report.sql")).unwrap();
    p
}

/// Expected: once the file of a view is deleted, a recorded view whose name is now taken by a
/// table is simply forgotten (there is no view to drop, and pgstrata never drops a table):
/// `up` exits 0. Why: the README says persisted state fails closed with a clear error, and a
/// `status` calling the database clean must not hide an `up` that can never succeed.
/// Observed: every later `up` exits 2 with `dropping public.report: "report" is not a view`
/// (pgstrata runs DROP VIEW on the table), forever, while `status` lists no view and says
/// "clean"; the only way out is deleting the row of `pgstrata.views` by hand.
#[test]
fn a_recorded_view_whose_name_a_table_took_does_not_block_every_up_once_its_file_is_gone() {
    let db = TestDb::new();
    let p = view_become_table(&db);
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 0, "a second up is a no-op\n{out}\n{err}");
    assert!(
        db.connect()
            .query_one("SELECT to_regclass('public.report') IS NOT NULL", &[])
            .unwrap()
            .get::<_, bool>(0),
        "the table stays"
    );
}

/// Expected: `status --exit-code` agrees with `up`: if `up` cannot get past a recorded view,
/// status is not clean (exit 1) and says why. Observed: exit 0, "clean", no view listed.
#[test]
fn status_is_not_clean_while_a_recorded_view_blocks_up() {
    let db = TestDb::new();
    let p = view_become_table(&db);
    let (up, ..) = go(&db, &p, &["up"]);
    let (code, out, err) = go(&db, &p, &["status", "--exit-code"]);
    if up != 0 {
        assert_eq!(
            code, 1,
            "up fails ({up}) but status says the database is clean\n{out}\n{err}"
        );
    }
}

/// Expected: the JSON report of a migration refused because a managed view cannot come back
/// (README: "the migration is refused and nothing is committed") names the refused migration,
/// as the report of any other failing migration does (`file` is the migration's file, and
/// `version`). Why: in JSON mode the progress lines ("up V2 drop …") are not printed, so the
/// report is the only place a CI job can learn which migration was refused.
/// Observed: `file` is `views/a.sql`, `steps` is empty, and neither the migration's file nor
/// its version appears anywhere in the document (the error says "the file drops or changes
/// what managed views read").
#[test]
fn the_json_report_of_a_migration_refused_for_a_view_names_the_migration() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int, k int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        (
            "views/a.sql",
            "-- pgstrata:requires V1\nCREATE VIEW a AS SELECT id FROM t;\n",
        ),
    ]);
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 0, "{out}\n{err}");
    p.write(
        "migrations/V2__drop_id.sql",
        "ALTER TABLE t DROP COLUMN id;\n",
    );
    p.write(
        "rollbacks/V2__drop_id.sql",
        "ALTER TABLE t ADD COLUMN id int;\n",
    );
    let (code, out, err) = go(&db, &p, &["up", "--format", "json"]);
    assert_eq!(code, 2, "{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(report["ok"], false, "{out}");
    assert!(
        out.contains("migrations/V2__drop_id.sql"),
        "the refused migration is named nowhere in the report:\n{out}"
    );
    assert_eq!(history(&mut db.connect()), vec![(1, "applied".to_string())]);
}

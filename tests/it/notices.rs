//! The server's own words (issue 9, part 5): NOTICE and WARNING messages raised by
//! migrations, rollbacks, no-transaction files and views are shown on stderr with the file
//! they came from (and line:col where the server gives a position), kept per step in JSON,
//! and `--quiet` hides NOTICE but never WARNING. pgstrata's own statements raise none.

use serde_json::Value;

use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, run};

const WARNS: &str = "DO $$ BEGIN RAISE WARNING 'mind the gap' USING DETAIL = 'a detail', \
                     HINT = 'a hint'; END $$;\n";
const LONG: &str = "a_name_that_is_far_longer_than_the_sixty_three_bytes_postgresql_keeps";

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            &format!(
                "CREATE TABLE items (id int);\nCREATE TABLE IF NOT EXISTS items (id int);\n\
                 {WARNS}CREATE TABLE {LONG} (id int);\n"
            ),
        ),
        (
            "rollbacks/V1__items.sql",
            &format!("DROP TABLE {LONG};\nDROP TABLE items;\nDROP TABLE IF EXISTS nowhere;\n"),
        ),
    ])
}

/// Runs pgstrata on `db` and `dir` with `args`, expecting success; returns stdout, stderr.
fn ok(db: &TestDb, dir: &TempDir, args: &[&str]) -> (String, String) {
    let (code, out, err) = run(pgstrata_for(db, &dir.path).args(args));
    assert_eq!(code, 0, "{args:?}\nstdout:\n{out}\nstderr:\n{err}");
    (out, err)
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_raise_warning_is_shown_with_its_file_detail_and_hint() {
    let (db, p) = (TestDb::new(), project());
    let (out, err) = ok(&db, &p, &["up"]);
    assert!(
        err.contains(
            "migrations/V1__items.sql: WARNING: mind the gap\n  detail: a detail\n  hint: a hint\n"
        ),
        "{err}"
    );
    // Reports stay on stdout, the server's words on stderr.
    assert!(!out.contains("mind the gap"), "{out}");
}

#[test]
fn already_exists_skipping_and_identifier_truncation_are_shown() {
    let (db, p) = (TestDb::new(), project());
    let (_, err) = ok(&db, &p, &["up"]);
    assert!(
        err.contains(
            "migrations/V1__items.sql: NOTICE: relation \"items\" already exists, skipping"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "migrations/V1__items.sql: NOTICE: identifier \"{LONG}\" will be truncated to \"{}\"",
            &LONG[..63]
        )),
        "{err}"
    );
}

#[test]
fn a_notice_in_a_rollback_names_the_rollback() {
    let (db, p) = (TestDb::new(), project());
    ok(&db, &p, &["up"]);
    let (_, err) = ok(&db, &p, &["down"]);
    assert!(
        err.contains("rollbacks/V1__items.sql: NOTICE: table \"nowhere\" does not exist, skipping"),
        "{err}"
    );
    // Only the rollback ran: the migration's notices are not repeated.
    assert!(!err.contains("mind the gap"), "{err}");
}

/// A rollback that drops the views requiring its version runs apart from its history row
/// (see runner::roll_back_in_transaction): its notices still name it, and the views' own
/// drops are not among them.
#[test]
fn a_notice_in_a_rollback_that_drops_views_names_the_rollback() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", &format!("{WARNS}DROP TABLE t;\n")),
        (
            "views/t_ids.sql",
            "-- pgstrata:requires V1\nCREATE OR REPLACE VIEW t_ids AS SELECT id FROM t;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    let (out, _) = ok(&db, &p, &["down", "--format", "json"]);
    let report = json(&out);
    let notices = &report["steps"][0]["notices"];
    assert_eq!(notices.as_array().map(Vec::len), Some(1), "{report:#}");
    assert_eq!(notices[0]["file"], "rollbacks/V1__t.sql");
    assert_eq!(notices[0]["message"], "mind the gap");
}

#[test]
fn a_notice_in_a_no_transaction_file_is_placed_at_its_statement() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__idx.sql",
            "-- pgstrata:no-transaction\nCREATE TABLE t (id int);\n\
             DROP INDEX IF EXISTS no_such_index;\n",
        ),
        (
            "rollbacks/V1__idx.sql",
            &format!("-- pgstrata:no-transaction\nDROP TABLE t;\n{WARNS}"),
        ),
    ]);
    let (_, err) = ok(&db, &p, &["up"]);
    assert!(
        err.contains(
            "migrations/V1__idx.sql:3:1: NOTICE: index \"no_such_index\" does not exist, skipping\n \
             3 | DROP INDEX IF EXISTS no_such_index;\n   | ^\n"
        ),
        "{err}"
    );
    let (_, err) = ok(&db, &p, &["down"]);
    assert!(
        err.contains("rollbacks/V1__idx.sql:3:1: WARNING: mind the gap"),
        "{err}"
    );
}

/// The server gives a position for few notices; plpgsql's extra warnings are one. It counts
/// characters of what was sent (pgstrata's `BEGIN;` included), not bytes of the file.
#[test]
fn a_notice_with_a_position_is_shown_at_its_line_and_column() {
    let db = TestDb::new();
    let function = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE a int; BEGIN RETURN a; END $$;";
    let p = TempDir::with_files(&[
        (
            "migrations/V1__f.sql",
            &format!(
                "-- café, naïve: characters are not bytes\nDO $$ BEGIN END $$;\n\
                 SET plpgsql.extra_warnings = 'shadowed_variables';\n{function}\n"
            ),
        ),
        ("rollbacks/V1__f.sql", "DROP FUNCTION f(int);\n"),
    ]);
    let (_, err) = ok(&db, &p, &["up"]);
    let column = function.find("a int; BEGIN").unwrap() + 1;
    assert!(
        err.contains(&format!(
            "migrations/V1__f.sql:4:{column}: WARNING: variable \"a\" shadows a previously defined variable\n \
             4 | {function}\n   | {}^\n",
            " ".repeat(column - 1)
        )),
        "{err}"
    );
}

#[test]
fn json_reports_the_notices_of_each_step() {
    let (db, p) = (TestDb::new(), project());
    // --quiet changes what stderr shows, never what the report holds.
    let (out, _) = ok(&db, &p, &["up", "--format", "json", "--quiet"]);
    let report = json(&out);
    let notices = report["steps"][0]["notices"].as_array().expect("an array");
    let warning = notices
        .iter()
        .find(|n| n["severity"] == "WARNING")
        .expect("the warning");
    assert_eq!(warning["code"], "01000");
    assert_eq!(warning["message"], "mind the gap");
    assert_eq!(warning["detail"], "a detail");
    assert_eq!(warning["hint"], "a hint");
    assert_eq!(warning["file"], "migrations/V1__items.sql");
    // No position from the server: null, like every absent value in the reports.
    assert_eq!(warning["line"], Value::Null);
    assert_eq!(warning["column"], Value::Null);
    let codes: Vec<&str> = notices.iter().filter_map(|n| n["code"].as_str()).collect();
    assert!(codes.contains(&"42P07"), "already exists: {codes:?}");
    assert!(codes.contains(&"42622"), "truncated: {codes:?}");
    assert_eq!(report["notices"], serde_json::json!([]), "{report:#}");
}

#[test]
fn quiet_hides_notice_info_and_log_but_never_warning() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__talk.sql",
            &format!(
                "CREATE TABLE IF NOT EXISTS talk (id int);\nCREATE TABLE IF NOT EXISTS talk (id int);\n\
                 DO $$ BEGIN RAISE INFO 'for your information'; END $$;\n\
                 SET LOCAL client_min_messages = log;\n\
                 DO $$ BEGIN RAISE LOG 'for the log'; END $$;\n{WARNS}"
            ),
        ),
        ("rollbacks/V1__talk.sql", "DROP TABLE talk;\n"),
    ]);
    let (_, loud) = ok(&db, &p, &["up"]);
    for said in [
        "NOTICE: relation \"talk\" already exists",
        "INFO: for your information",
        "LOG: for the log",
        "WARNING: mind the gap",
    ] {
        assert!(loud.contains(said), "{said}: {loud}");
    }
    ok(&db, &p, &["down"]);
    let (_, quiet) = ok(&db, &p, &["--quiet", "up"]);
    assert!(quiet.contains("WARNING: mind the gap"), "{quiet}");
    for hidden in ["NOTICE", "INFO", "LOG:"] {
        assert!(!quiet.contains(hidden), "{hidden}: {quiet}");
    }
}

/// `CREATE SCHEMA IF NOT EXISTS pgstrata` says "already exists, skipping" when the schema is
/// there without the history: pgstrata's statement, not the user's file.
#[test]
fn pgstrata_s_own_statements_raise_no_notices() {
    let db = TestDb::new();
    db.connect()
        .batch_execute("CREATE SCHEMA pgstrata")
        .unwrap();
    let p = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
    ]);
    let (out, err) = ok(&db, &p, &["up", "--format", "json"]);
    assert!(!err.contains("skipping"), "{err}");
    let report = json(&out);
    assert_eq!(
        report["steps"][0]["notices"],
        serde_json::json!([]),
        "{report:#}"
    );
    assert_eq!(report["notices"], serde_json::json!([]), "{report:#}");
}

#[test]
fn a_view_file_s_notices_are_shown_with_the_view_file() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        (
            "views/long.sql",
            &format!("CREATE OR REPLACE VIEW long AS SELECT id AS {LONG} FROM t;\n"),
        ),
    ]);
    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["up", "--format", "json"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!(
            "views/long.sql: NOTICE: identifier \"{LONG}\" will be truncated"
        )),
        "{err}"
    );
    let report = json(&out);
    let notices = report["notices"].as_array().expect("an array");
    assert_eq!(notices.len(), 1, "{report:#}");
    assert_eq!(notices[0]["file"], "views/long.sql");
    assert_eq!(notices[0]["code"], "42622");
    assert_eq!(report["steps"][0]["notices"], serde_json::json!([]));
}

/// What the server said before a migration failed may say why: shown before the error, and
/// in JSON beside it.
#[test]
fn a_failing_migration_s_notices_are_shown_before_its_error() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__bad.sql",
            &format!("{WARNS}SELECT no_such_column FROM pg_class;\n"),
        ),
        ("rollbacks/V1__bad.sql", "SELECT 1;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    let warning = err.find("migrations/V1__bad.sql: WARNING: mind the gap");
    let error = err.find("error: ");
    assert!(warning.is_some() && warning < error, "{err}");
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["up", "--format", "json"]));
    assert_eq!(code, 2);
    let report = json(&out);
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["notices"][0]["message"], "mind the gap",
        "{report:#}"
    );
    assert_eq!(report["notices"][0]["file"], "migrations/V1__bad.sql");
}

/// check runs each file up to four times: each distinct WARNING is shown once, NOTICEs are
/// counted in one note, and JSON lists each distinct message once.
#[test]
fn check_shows_each_warning_once_and_counts_the_notices() {
    let p = project();
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(err.matches("WARNING: mind the gap").count(), 1, "{err}");
    assert!(!err.contains(": NOTICE:"), "{err}");
    assert!(
        err.contains("note: the server sent 4 distinct messages below WARNING"),
        "{err}"
    );
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--format", "json", "--quiet"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("note: the server sent"), "--quiet: {err}");
    let report = json(&out);
    let messages: Vec<&str> = report["notices"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    assert_eq!(messages.iter().filter(|m| **m == "mind the gap").count(), 1);
}

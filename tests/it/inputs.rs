//! Bad input of every kind is refused with exit 2 and a message that names it, never a panic,
//! a hang or a change to the database: the fixtures under tests/fixtures/invalid/ (see its
//! README), files that git cannot store (FIFOs, devices, oversized files), near-miss names,
//! and settings that would make `check` and `drift` blind.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{
    TempDir, TestDb, fixture, history, pgstrata_for, query_text, relation_exists, run,
};

const ALL_COMMANDS: &[&str] = &["up", "down --dry-run", "status", "drift", "check"];

/// The schemas and relations of a database, to prove a refused command changed nothing.
fn fingerprint(db: &TestDb) -> String {
    query_text(
        &mut db.connect(),
        "SELECT coalesce(string_agg(n.nspname || '.' || coalesce(c.relname, ''), ',' \
                 ORDER BY n.nspname, c.relname), '') \
         FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
    )
}

/// Lines of a fixture's text file, without blank ones.
fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

// Every folder under tests/fixtures/invalid/, through every command that loads it.
#[test]
fn every_invalid_fixture_is_refused_by_every_command() {
    let root = fixture("invalid");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expect = lines(&case.join("expect.txt"));
        assert!(!expect.is_empty(), "{name}/expect.txt is empty");
        let commands = if case.join("commands.txt").exists() {
            lines(&case.join("commands.txt"))
        } else {
            ALL_COMMANDS.iter().map(|c| c.to_string()).collect()
        };
        let db = TestDb::new();
        let before = fingerprint(&db);
        for command in &commands {
            let (code, out, err) = run(pgstrata_for(&db, case).args(command.split_whitespace()));
            let mut wrong = Vec::new();
            if code != 2 {
                wrong.push(format!("exit {code}"));
            }
            if out.contains("panicked") || err.contains("panicked") {
                wrong.push("panicked".to_string());
            }
            for line in expect.iter().filter(|line| !err.contains(line.as_str())) {
                wrong.push(format!("no `{line}` on stderr"));
            }
            if fingerprint(&db) != before {
                wrong.push("the database changed".to_string());
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{name}: `{command}`: {}\n  stderr: {err}",
                    wrong.join(", ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn valid_project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
    ])
}

/// Runs a command, killing it if it takes longer than `limit` (a FIFO used to hang forever).
fn run_within(command: &mut Command, limit: Duration) -> (i32, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pgstrata");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("pgstrata still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our own temporary directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

// A FIFO hung every command in open(); /dev/zero behind a symlink was read until memory ran
// out. Both, an oversized (sparse) file and a dangling symlink are load errors naming the file.
#[test]
fn non_regular_and_oversized_files_are_refused_without_reading_them() {
    let db = TestDb::new();
    let project = valid_project();
    let p = &project.path;
    project.write("rollbacks/V2__fifo.sql", "SELECT 1;\n");
    mkfifo(&p.join("migrations/V2__fifo.sql"));
    project.write("migrations/V3__zero.sql", "SELECT 1;\n");
    std::os::unix::fs::symlink("/dev/zero", p.join("rollbacks/V3__zero.sql")).unwrap();
    project.write("rollbacks/V4__big.sql", "SELECT 1;\n");
    let big = fs::File::create(p.join("migrations/V4__big.sql")).unwrap();
    big.set_len(64 * 1024 * 1024 + 1).unwrap();
    project.write("rollbacks/V5__gone.sql", "SELECT 1;\n");
    std::os::unix::fs::symlink(p.join("nowhere.sql"), p.join("migrations/V5__gone.sql")).unwrap();
    for command in ALL_COMMANDS {
        let (code, out, err) = run_within(
            pgstrata_for(&db, p).args(command.split_whitespace()),
            Duration::from_secs(20),
        );
        assert_eq!(code, 2, "{command}: {out}{err}");
        for expected in [
            "migrations/V2__fifo.sql: is a FIFO (named pipe), not a regular file",
            "rollbacks/V3__zero.sql: is a character device, not a regular file",
            "migrations/V4__big.sql: is 67108865 bytes, more than the 64 MiB pgstrata reads from one file",
            "migrations/V5__gone.sql: cannot be read: it does not exist (a dangling symlink?)",
        ] {
            assert!(
                err.contains(expected),
                "{command}: no `{expected}` in {err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!relation_exists(&mut db.connect(), "t1"));
}

// The choice: a symlink to a regular file is followed (projects share migrations that way).
#[test]
fn a_symlink_to_a_regular_file_is_followed() {
    let db = TestDb::new();
    let project = valid_project();
    let shared = TempDir::with_files(&[("V2__shared.sql", "CREATE TABLE shared (id int);\n")]);
    std::os::unix::fs::symlink(
        shared.path.join("V2__shared.sql"),
        project.path.join("migrations/V2__shared.sql"),
    )
    .unwrap();
    project.write("rollbacks/V2__shared.sql", "DROP TABLE shared;\n");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert!(relation_exists(&mut db.connect(), "shared"));
}

// A FIFO named pgstrata.toml was skipped (is_file() is false), silently dropping settings.
#[test]
fn a_settings_file_that_is_not_regular_is_refused() {
    let db = TestDb::new();
    let project = valid_project();
    mkfifo(&project.path.join("pgstrata.toml"));
    let (code, _, err) = run_within(
        pgstrata_for(&db, &project.path).arg("status"),
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pgstrata.toml: is a FIFO (named pipe), not a regular file"),
        "{err}"
    );
}

// Editor and backup copies are ignored, with a warning on every command; they never run.
#[test]
fn editor_and_backup_copies_are_warned_about_on_every_command() {
    let db = TestDb::new();
    let project = valid_project();
    for copy in [
        "migrations/V1__t1.sql~",
        "migrations/.V1__t1.sql.swp",
        "migrations/#V2__next.sql#",
        "rollbacks/V1__t1.sql.bak",
        "migrations/V1__t1.sql.orig",
    ] {
        project.write(copy, "CREATE TABLE must_not_run (id int);\n");
    }
    // An emacs lock file: a dangling symlink whose name ends in .sql.
    std::os::unix::fs::symlink(
        "user@host.1234",
        project.path.join("migrations/.#V1__t1.sql"),
    )
    .unwrap();
    project.write("migrations/README.md", "notes\n");
    for command in ["up", "status", "down --dry-run", "up --dry-run"] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path).args(command.split_whitespace()));
        assert_eq!(code, 0, "{command}: {err}");
        for copy in [
            "migrations/V1__t1.sql~",
            "migrations/.V1__t1.sql.swp",
            "migrations/#V2__next.sql#",
            "migrations/.#V1__t1.sql",
            "rollbacks/V1__t1.sql.bak",
            "migrations/V1__t1.sql.orig",
        ] {
            let warning = format!("warning: {copy} is ignored: it looks like an editor");
            assert!(err.contains(&warning), "{command}: no `{warning}` in {err}");
        }
        assert!(!err.contains("README"), "{err}");
    }
    let mut client = db.connect();
    assert!(relation_exists(&mut client, "t1"));
    assert!(!relation_exists(&mut client, "must_not_run"));
}

// History in the same schema as the objects it should compare: drift saw nothing and passed.
#[test]
fn drift_refuses_a_history_schema_that_holds_the_project_objects() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__app.sql",
            "CREATE SCHEMA IF NOT EXISTS app;\nCREATE TABLE app.t (id int);\n",
        ),
        ("rollbacks/V1__app.sql", "DROP TABLE app.t;\n"),
        ("schema-snapshots/V1__app.sql", "\n"),
    ]);
    let with_app = |extra: &[&str]| {
        let mut command = pgstrata_for(&db, &project.path);
        command.args(["--history-schema", "app"]).args(extra);
        command
    };
    assert_eq!(run(&mut with_app(&["up"])).0, 0);
    for format in ["text", "json"] {
        let (code, out, err) = run(&mut with_app(&["--format", format, "drift"]));
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains(
                "the history schema app also holds objects that are not pgstrata's (table app.t)"
            ),
            "{err}"
        );
        assert!(!out.contains("no drift"), "{out}");
    }
    let (code, _, err) = run(&mut with_app(&["snapshot"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("table app.t"), "{err}");
}

// pgstrata.history made by someone else: a panic (exit 101, no JSON) before.
#[test]
fn a_foreign_history_table_is_described_not_panicked_on() {
    let cases = [
        (
            "CREATE TABLE pgstrata.history (id int, note text); \
             INSERT INTO pgstrata.history VALUES (1, 'x')",
            "pgstrata.history has (id integer, note text) where pgstrata's has (version bigint",
        ),
        (
            "CREATE TABLE pgstrata.history (version int, name text, checksum text, \
             rollback_checksum text, applied_at timestamptz, applied_by text, \
             execution_ms bigint, state text); \
             INSERT INTO pgstrata.history VALUES (1, 't1', 'x', 'y', now(), 'me', 3, 'applied')",
            "pgstrata.history cannot be read: row 1: column version is of type int4, where \
             pgstrata expects bigint",
        ),
        (
            "CREATE TABLE pgstrata.history (version bigint, name text, checksum text, \
             rollback_checksum text, applied_at timestamptz, applied_by text, \
             execution_ms bigint, state text); \
             INSERT INTO pgstrata.history VALUES (1, NULL, 'x', 'y', now(), 'me', 3, 'applied')",
            "pgstrata.history cannot be read: row 1 (version 1): column name is NULL",
        ),
    ];
    for (setup, expected) in cases {
        let db = TestDb::new();
        let mut client = db.connect();
        client
            .batch_execute(&format!("CREATE SCHEMA pgstrata; {setup}"))
            .unwrap();
        let project = valid_project();
        for command in ["up", "status", "down --dry-run", "drift"] {
            let (code, out, err) = run(pgstrata_for(&db, &project.path)
                .args(["--format", "json"])
                .args(command.split_whitespace()));
            assert_eq!(code, 2, "{command}: {out}{err}");
            assert!(err.contains(expected), "{command}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            if command == "up" {
                let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
                assert_eq!(report["ok"], false);
                assert!(
                    report["error"].as_str().unwrap().contains(expected),
                    "{out}"
                );
            }
        }
        assert!(!relation_exists(&mut client, "t1"), "nothing ran");
    }
}

// An unknown state was read as `applied`: a half-run migration passed as done.
#[test]
fn an_unknown_history_state_is_refused_with_the_repair() {
    let db = TestDb::new();
    let project = valid_project();
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let mut client = db.connect();
    client
        .batch_execute(
            "ALTER TABLE pgstrata.history DROP CONSTRAINT history_state_check; \
             UPDATE pgstrata.history SET state = 'paused'",
        )
        .unwrap();
    for command in ["up", "status", "down", "redo"] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path).arg(command));
        assert_eq!(code, 2, "{command}: {err}");
        assert!(
            err.contains("row version 1 has state `paused`, which this pgstrata does not know"),
            "{command}: {err}"
        );
        assert!(
            err.contains("UPDATE \"pgstrata\".history SET state = 'applied' WHERE version = 1"),
            "{err}"
        );
    }
    assert!(relation_exists(&mut client, "t1"), "down did not run");
    assert_eq!(history(&mut client), vec![(1, "paused".into())]);
}

// A view row of the wrong type panicked in row.get.
#[test]
fn a_view_row_of_another_type_is_an_error_naming_the_table() {
    let db = TestDb::new();
    let project = valid_project();
    project.write("views/v.sql", "CREATE VIEW v AS SELECT id FROM t1;\n");
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let mut client = db.connect();
    client
        .batch_execute(
            "ALTER TABLE pgstrata.views ALTER COLUMN checksum DROP NOT NULL; \
             UPDATE pgstrata.views SET checksum = NULL",
        )
        .unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pgstrata.views cannot be read: row 1 (file v.sql): column checksum"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

// The history records its format; a newer one is refused, an unrecorded one adopted.
#[test]
fn the_history_format_is_recorded_checked_and_adopted() {
    let db = TestDb::new();
    let project = valid_project();
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let mut client = db.connect();
    let format = |client: &mut postgres::Client| {
        query_text(
            client,
            "SELECT string_agg(format::text, ',') FROM pgstrata.meta",
        )
    };
    assert_eq!(format(&mut client), "2");

    client
        .batch_execute("UPDATE pgstrata.meta SET format = 3")
        .unwrap();
    for command in ["up", "status", "down", "drift"] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path).arg(command));
        assert_eq!(code, 2, "{command}: {err}");
        assert!(
            err.contains(
                "the history in schema pgstrata has format 3, newer than this pgstrata knows \
                 (format 2)"
            ) && err.contains("upgrade pgstrata"),
            "{command}: {err}"
        );
    }
    assert!(relation_exists(&mut client, "t1"), "down was refused");

    // A history from before the format was recorded: read as format 1, upgraded by `up`.
    client.batch_execute("DROP TABLE pgstrata.meta").unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("status"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("clean"), "{out}");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(format(&mut client), "2");
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);
}

// A blind check must not leave its (empty) snapshots behind with --write-snapshots.
#[test]
fn a_blind_check_writes_no_snapshot() {
    let db = TestDb::new();
    let project = valid_project();
    project.write("pgstrata.toml", "schemas = [\"public\", \"nosuch\"]\n");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["check", "--write-snapshots"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("after applying every migration: schemas in pgstrata.toml lists nosuch"),
        "{err}"
    );
    assert!(!project.path.join("schema-snapshots").exists());
    // The same project with a schema that exists writes its snapshot.
    project.write("pgstrata.toml", "schemas = [\"public\"]\n");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "{err}");
    assert!(project.path.join("schema-snapshots/V1__t1.sql").exists());
}

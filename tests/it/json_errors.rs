//! `--format json` failures: whatever fails (settings, connection, project, usage, lock), stdout
//! carries exactly one JSON document with `ok: false`, the error and its kind, and the human
//! message stays on stderr.

use std::path::Path;
use std::process::Command;

use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, run};

/// Every command that takes `--format json` (with the arguments it needs).
const COMMANDS: &[&str] = &[
    "up",
    "up --dry-run",
    "down",
    "redo",
    "status",
    "drift",
    "snapshot",
    "repair --version 1 --forget",
    "repair --version 1 --mark-applied",
    "adopt-refinery",
];

fn valid_project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
    ])
}

/// Runs `command` in JSON mode, asserts a failure reported as one JSON document, and returns
/// it with stderr.
fn failure(command: &mut Command, args: &str) -> (serde_json::Value, String) {
    let (code, out, err) = run(command
        .args(["--format", "json"])
        .args(args.split_whitespace()));
    assert_eq!(code, 2, "{args}: {out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{args}: stdout is not one JSON document ({e}): {out:?}"));
    assert_eq!(report["ok"], false, "{args}: {out}");
    assert_eq!(report["exit_code"], 2, "{args}: {out}");
    let command_name = args.split_whitespace().next().unwrap();
    assert_eq!(report["command"], command_name, "{args}: {out}");
    let error = report["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "{args}: {out}");
    assert!(
        err.starts_with("error: ") || err.contains("\nerror: "),
        "{args}: {err}"
    );
    (report, err)
}

fn with_url(dir: &Path, url: &str) -> Command {
    let mut command = pgstrata();
    command.arg("--dir").arg(dir).args(["--database-url", url]);
    command
}

// Before: an early error printed nothing on stdout, so a pipeline reading the JSON got none.
#[test]
fn a_bad_url_and_a_refused_connection_are_json_reports() {
    let project = valid_project();
    let dead = TempDir::new();
    let refused = format!("host={} port=1 dbname=x user=x", dead.path.display());
    for args in COMMANDS.iter().chain(&["check"]) {
        let (report, _) = failure(&mut with_url(&project.path, "postgres://[::1"), args);
        assert_eq!(report["kind"], "error", "{args}: {report}");
        let (report, _) = failure(&mut with_url(&project.path, &refused), args);
        assert_eq!(report["kind"], "connection", "{args}: {report}");
        assert!(
            report["error"].as_str().unwrap().contains("connecting to"),
            "{args}: {report}"
        );
    }
    // No database at all, and a settings file with an unknown key.
    let (report, _) = failure(pgstrata().arg("--dir").arg(&project.path), "status");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("no database given"),
        "{report}"
    );
    project.write("pgstrata.toml", "lock_wiat = 5\n");
    let (report, _) = failure(pgstrata().arg("--dir").arg(&project.path), "up");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `lock_wiat`"),
        "{report}"
    );
}

#[test]
fn an_invalid_project_is_a_json_report_listing_every_problem() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("migrations/V2__t2.sql", "CREATE TABLE t2 (id int);\n"),
        ("rollbacks/V3__t3.sql", "DROP TABLE t3;\n"),
    ]);
    for args in COMMANDS
        .iter()
        .filter(|a| !a.contains("--forget") && **a != "snapshot")
    {
        let (report, err) = failure(&mut pgstrata_for(&db, &project.path), args);
        assert_eq!(report["kind"], "invalid_project", "{args}: {report}");
        let problems: Vec<&str> = report["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("{args}: {report}"))
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(problems.len(), 3, "{args}: {problems:?}");
        assert!(err.contains("the project is invalid"), "{args}: {err}");
    }
    let (report, _) = failure(pgstrata().arg("--dir").arg(&project.path), "check");
    assert_eq!(report["kind"], "invalid_project", "{report}");
}

#[test]
fn usage_errors_refusals_and_lock_timeouts_are_json_reports() {
    let db = TestDb::new();
    let project = valid_project();
    let (report, _) = failure(&mut pgstrata_for(&db, &project.path), "up --to 0");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("--to 0 applies nothing")
    );
    let (report, _) = failure(&mut pgstrata_for(&db, &project.path), "new bad-name");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("not a valid migration name")
    );
    let (report, _) = failure(&mut pgstrata_for(&db, &project.path), "check --from 9");
    assert_eq!(report["kind"], "unknown_version", "{report}");
    let (report, _) = failure(&mut pgstrata_for(&db, &project.path), "drift");
    assert_eq!(report["kind"], "error", "{report}");

    let mut holder = db.connect();
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&pgstrata::migrate::lock::key("pgstrata")],
        )
        .unwrap();
    for args in [
        "up --lock-wait 1",
        "repair --version 1 --forget --lock-wait 1",
    ] {
        let (report, _) = failure(&mut pgstrata_for(&db, &project.path), args);
        assert_eq!(report["kind"], "lock_timeout", "{args}: {report}");
    }
}

// A run that fails part-way prints its own report, now with the error's kind and location.
#[test]
fn a_failed_run_reports_once_with_the_servers_code_and_the_location() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("migrations/V2__u.sql", "CREATE TABLE u (id nonsense);\n"),
        ("rollbacks/V2__u.sql", "DROP TABLE u;\n"),
    ]);
    let (report, _) = failure(&mut pgstrata_for(&db, &project.path), "up");
    assert_eq!(report["kind"], "database", "{report}");
    assert_eq!(report["sqlstate"], "42704", "{report}");
    assert_eq!(report["file"], "migrations/V2__u.sql", "{report}");
    assert_eq!(
        (report["line"].clone(), report["column"].clone()),
        (1.into(), 20.into())
    );
    assert_eq!(report["steps"].as_array().unwrap().len(), 1, "{report}");
}

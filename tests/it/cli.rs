//! The command line's contract: exit codes, `--help` texts, settings precedence, secrets.

use std::fs;
use std::path::Path;

use crate::harness::{TempDir, TestDb, history, pgstrata, pgstrata_for, run};

const COMMANDS: &[&str] = &[
    "up",
    "down",
    "redo",
    "status",
    "snapshot",
    "drift",
    "check",
    "lint",
    "new",
    "repair",
    "adopt-refinery",
    "baseline",
    "init",
    "adopt",
    "import",
    "completions",
    "man",
    "sync",
];

/// Compares `--help` output with tests/fixtures/help/<name>.txt; PGSTRATA_BLESS=1 rewrites
/// the files (then review the diff).
fn assert_help(name: &str, args: &[&str]) {
    let (code, out, err) = run(pgstrata().args(args).env("COLUMNS", "100"));
    assert_eq!(code, 0, "{err}");
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/help/{name}.txt"));
    if std::env::var_os("PGSTRATA_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &out).unwrap();
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        out, expected,
        "help of `{name}` changed; rerun with PGSTRATA_BLESS=1 and review"
    );
}

#[test]
fn help_texts_are_pinned() {
    assert_help("pgstrata", &["--help"]);
    for command in COMMANDS {
        assert_help(command, &[command, "--help"]);
    }
}

/// Help text with its line wrapping undone.
fn help(args: &[&str]) -> String {
    let (_, out, _) = run(pgstrata().args(args));
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn help_states_every_default() {
    let top = help(&["--help"]);
    for default in [
        "[default: .]",
        "[default: pgstrata]",
        "[default: 60]",
        "[default: text]",
    ] {
        assert!(top.contains(default), "{default} missing from:\n{top}");
    }
    let up = help(&["up", "--help"]);
    assert!(up.contains("[default: apply all]"), "{up}");
    let down = help(&["down", "--help"]);
    assert!(
        down.contains("[default: 1]") && down.contains("[default: the newest one]"),
        "{down}"
    );
}

#[test]
fn database_url_value_never_shows_in_help() {
    let (_, out, _) = run(pgstrata()
        .arg("--help")
        .env("DATABASE_URL", "postgres://u:hunter2@h/db"));
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn exit_codes_are_0_success_1_found_2_error() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
    ]);
    // 1: ran fine, found something.
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"])).0,
        1
    );
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("status")).0, 0);
    // 0: success.
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"])).0,
        0
    );
    // 2: errors of every kind.
    let no_database = run(pgstrata().arg("--dir").arg(&project.path).arg("status"));
    assert_eq!(no_database.0, 2);
    assert!(
        no_database.2.starts_with("error: no database given"),
        "{}",
        no_database.2
    );
    assert_eq!(
        run(pgstrata().args(["up", "--bogus-flag"])).0,
        2,
        "usage error"
    );
    assert_eq!(
        run(pgstrata().args(["down", "--to", "1", "--steps", "1"])).0,
        2,
        "conflicting flags"
    );
    assert_eq!(
        run(pgstrata().args(["down", "--steps", "0"])).0,
        2,
        "rolling back zero migrations is a usage error, not a silent no-op"
    );
    let missing = TempDir::new();
    let (code, _, err) = run(pgstrata_for(&db, &missing.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("no migrations/ folder"), "{err}");
}

#[test]
fn status_json_has_the_documented_shape() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("migrations/V2__u.sql", "CREATE TABLE u (id int);\n"),
        ("rollbacks/V2__u.sql", "DROP TABLE u;\n"),
    ]);
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["status", "--format", "json"]));
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["command"], "status");
    assert_eq!(value["clean"], false);
    assert_eq!(value["versions"][0]["version"], 1);
    assert_eq!(value["versions"][0]["state"], "applied");
    assert_eq!(value["versions"][0]["file"], "migrations/V1__t.sql");
    assert_eq!(value["versions"][1]["state"], "pending");
    assert!(value["versions"][1]["applied_at"].is_null());

    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["up", "--format", "json"]));
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(value["steps"][0]["version"], 2);
    assert_eq!(value["steps"][0]["direction"], "up");
    assert!(value["steps"][0]["ms"].is_u64());
}

#[test]
fn json_report_of_a_failed_run_says_what_was_done_before_the_error() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("migrations/V2__u.sql", "CREATE TABLE u (id nonsense);\n"),
        ("rollbacks/V2__u.sql", "DROP TABLE u;\n"),
    ]);
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["up", "--format", "json"]));
    assert_eq!(code, 2);
    // Progress lines ("up V1 t …") come first on stderr when it is not a terminal.
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: migrations/V2__u.sql:1:20: ERROR 42704")),
        "{err}"
    );
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["ok"], false);
    assert_eq!(
        value["steps"].as_array().unwrap().len(),
        1,
        "V1 was applied"
    );
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .contains("type \"nonsense\" does not exist")
    );
}

#[test]
fn settings_come_from_flag_then_environment_then_file() {
    let db = TestDb::new();
    let other = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("pgstrata.toml", "history_schema = \"file_history\"\n"),
    ]);
    project.write(
        "pgstrata.toml",
        &format!(
            "database_url = \"{}\"\nhistory_schema = \"file_history\"\n",
            db.conninfo
        ),
    );
    let (code, _, err) = run(pgstrata().arg("--dir").arg(&project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let applied: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM file_history.history", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "database and history schema from the file");

    // The environment beats the file; the flag beats the environment.
    let (code, _, err) = run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .env("DATABASE_URL", &other.conninfo)
        .env("PGSTRATA_HISTORY_SCHEMA", "env_history")
        .arg("up"));
    assert_eq!(code, 0, "{err}");
    let applied: i64 = other
        .connect()
        .query_one("SELECT count(*) FROM env_history.history", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
    let (code, out, _) = run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .env("PGSTRATA_HISTORY_SCHEMA", "env_history")
        .args([
            "--history-schema",
            "flag_history",
            "status",
            "--format",
            "json",
        ]));
    assert_eq!(code, 0);
    assert!(
        out.contains("\"pending\""),
        "flag_history in the file's database is empty: {out}"
    );
    assert!(
        history(&mut db.connect()).is_empty(),
        "default schema untouched"
    );

    project.write("pgstrata.toml", "database_url = \"x\"\nlock_wiat = 5\n");
    let (code, _, err) = run(pgstrata().arg("--dir").arg(&project.path).arg("status"));
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `lock_wiat`"), "{err}");
}

#[test]
fn a_password_never_appears_in_any_output() {
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
    ]);
    for url in [
        "postgres://ann:hunter2@127.0.0.1:1/app",
        "host=127.0.0.1 port=1 user=ann password=hunter2 dbname=app",
        "postgres://ann:hunter2@127.0.0.1:notaport/app",
    ] {
        for command in ["up", "status", "down"] {
            let (code, out, err) = run(pgstrata().arg("--dir").arg(&project.path).args([
                "--database-url",
                url,
                command,
            ]));
            assert_eq!(code, 2, "{url} {command}");
            assert!(
                !out.contains("hunter2") && !err.contains("hunter2"),
                "{url}: {out}{err}"
            );
            assert!(
                err.contains("app on 127.0.0.1") || err.contains("***") || err.contains("port"),
                "the target or the bad part is named: {err}"
            );
        }
    }
}

#[test]
fn a_reader_that_goes_away_stops_the_report_not_the_work() {
    // `pgstrata up | head -1`: stdout is a pipe whose reader is gone before the first line.
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        ("migrations/V2__b.sql", "CREATE TABLE b (id int);\n"),
        ("rollbacks/V2__b.sql", "DROP TABLE b;\n"),
    ]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = pgstrata_for(&db, &project.path)
        .arg("up")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("running pgstrata");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        history(&mut db.connect()),
        [(1, "applied".to_string()), (2, "applied".to_string())]
    );
}

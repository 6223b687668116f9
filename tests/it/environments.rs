//! Environments: the project's `.env` file and the `[env.NAME]` profiles of `pgstrata.toml`,
//! with the precedence flag > environment variable > profile > file top level > default.

use crate::harness::{TempDir, TestDb, pgstrata, run};

/// A one-migration project.
fn project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
    ])
}

/// `pgstrata --dir DIR ARGS`.
fn at(dir: &TempDir, args: &[&str]) -> std::process::Command {
    let mut command = pgstrata();
    command.arg("--dir").arg(&dir.path).args(args);
    command
}

/// Whether V1 is applied on `db` (pgstrata's history exists and records it).
fn applied(db: &TestDb) -> bool {
    db.connect()
        .query_one("SELECT to_regclass('pgstrata.history') IS NOT NULL", &[])
        .unwrap()
        .get(0)
}

#[test]
fn dotenv_in_the_project_names_the_database() {
    let db = TestDb::new();
    let dir = project();
    dir.write(
        ".env",
        &format!("# staging\nDATABASE_URL='{}'\n", db.conninfo),
    );
    let (code, _, err) = run(&mut at(&dir, &["up"]));
    assert_eq!(code, 0, "{err}");
    assert!(applied(&db));

    // --no-dotenv: as if there were no file.
    let (code, _, err) = run(&mut at(&dir, &["--no-dotenv", "status"]));
    assert_eq!(code, 2);
    assert!(err.starts_with("error: no database given"), "{err}");
}

#[test]
fn dotenv_never_overrides_a_variable_already_set() {
    let db = TestDb::new();
    let dir = project();
    dir.write(
        ".env",
        "DATABASE_URL=postgres://nobody:s3cr3t@127.0.0.1:1/nowhere\n",
    );
    let (code, _, err) = run(at(&dir, &["up"]).env("DATABASE_URL", &db.conninfo));
    assert_eq!(code, 0, "{err}");
    assert!(applied(&db), "the environment's database, not the file's");

    // Alone, the file's unreachable database is used, and its password never shown.
    let (code, out, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nowhere"),
        "the file's database was used: {err}"
    );
    assert!(
        !out.contains("s3cr3t") && !err.contains("s3cr3t"),
        "{out}{err}"
    );
}

#[test]
fn dotenv_is_read_before_the_command_line_options() {
    // PGSTRATA_* variables are read by clap while parsing: the file must be loaded first.
    let db = TestDb::new();
    let dir = project();
    dir.write(
        ".env",
        &format!(
            "DATABASE_URL=\"{}\"\nPGSTRATA_HISTORY_SCHEMA=from_dotenv\n",
            db.conninfo
        ),
    );
    let (code, _, err) = run(&mut at(&dir, &["up"]));
    assert_eq!(code, 0, "{err}");
    let rows: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM from_dotenv.history", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    // The flag still wins over the file.
    let (code, out, err) = run(&mut at(
        &dir,
        &["--history-schema", "from_flag", "status", "--exit-code"],
    ));
    assert_eq!(code, 1, "nothing applied in from_flag: {out}{err}");
}

#[test]
fn a_malformed_dotenv_is_named_by_file_and_line_never_quoted() {
    let dir = project();
    dir.write(
        ".env",
        "A=1\n# fine\nDATABASE_URL postgres://u:s3cr3t@h/db\n",
    );
    let (code, out, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 2);
    let file = dir.path.join(".env");
    assert!(
        err.starts_with(&format!("error: {}:3:14: ", file.display())),
        "{err}"
    );
    assert!(
        !out.contains("s3cr3t") && !err.contains("s3cr3t"),
        "{out}{err}"
    );
    // In JSON too, as the one report on stdout.
    let (code, out, _) = run(&mut at(&dir, &["status", "--format", "json"]));
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    assert!(
        report["error"].as_str().unwrap().contains(".env:3:14"),
        "{out}"
    );
    assert!(!out.contains("s3cr3t"), "{out}");
    // --no-dotenv does not read it at all.
    let (code, _, err) = run(&mut at(&dir, &["--no-dotenv", "status"]));
    assert_eq!(code, 2);
    assert!(err.starts_with("error: no database given"), "{err}");
}

/// A project whose top level names an unreachable database and whose profiles name real ones.
fn with_profiles(staging: &TestDb, production: &TestDb) -> TempDir {
    let dir = project();
    dir.write(
        "pgstrata.toml",
        &format!(
            "database_url = \"host=127.0.0.1 port=1 dbname=top\"\nlock_wait = 5\n\n\
             [env.staging]\ndatabase_url = \"{}\"\n\n\
             [env.production]\ndatabase_url = \"{}\"\nhistory_schema = \"prod_history\"\n",
            staging.conninfo, production.conninfo
        ),
    );
    dir
}

#[test]
fn a_profile_is_chosen_by_flag_or_variable_and_shown_in_reports() {
    let staging = TestDb::new();
    let production = TestDb::new();
    let dir = with_profiles(&staging, &production);

    let (code, out, err) = run(&mut at(&dir, &["--env", "staging", "up"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next(), Some("environment: staging"), "{out}");
    assert!(applied(&staging) && !applied(&production));

    let (code, out, err) =
        run(at(&dir, &["status", "--format", "json"]).env("PGSTRATA_ENV", "production"));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["environment"], "production");
    assert_eq!(report["versions"][0]["state"], "pending");
    // The profile's history schema, over the default.
    let (code, _, err) = run(at(&dir, &["up"]).env("PGSTRATA_ENV", "production"));
    assert_eq!(code, 0, "{err}");
    let rows: i64 = production
        .connect()
        .query_one("SELECT count(*) FROM prod_history.history", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);

    // The flag beats the variable.
    let (code, out, _) =
        run(at(&dir, &["--env", "staging", "status"]).env("PGSTRATA_ENV", "production"));
    assert_eq!(code, 0);
    assert_eq!(out.lines().next(), Some("environment: staging"), "{out}");

    // Without a profile: the top level's (unreachable) database, and no environment line.
    let (code, out, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 2);
    assert!(!out.contains("environment"), "{out}");
    assert!(err.contains("top"), "{err}");

    // A DATABASE_URL (shell or .env) naming another database than the profile's own is
    // refused, never followed in silence: it may be another environment's.
    let (code, _, err) = run(at(&dir, &["--env", "staging", "status"])
        .env("DATABASE_URL", "host=127.0.0.1 port=1 dbname=elsewhere"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("DATABASE_URL") && err.contains("does not guess"),
        "{err}"
    );
    assert!(!err.contains("elsewhere"), "{err}");

    // A failure's JSON report names the profile too (the flag beats the profile's URL).
    let (code, out, _) = run(&mut at(
        &dir,
        &[
            "--env",
            "staging",
            "--database-url",
            "host=127.0.0.1 port=1 dbname=elsewhere",
            "status",
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["environment"], "staging");
    assert_eq!(report["kind"], "connection");
}

#[test]
fn an_unknown_profile_is_refused_with_the_known_ones() {
    let staging = TestDb::new();
    let dir = with_profiles(&staging, &staging);
    let (code, out, err) = run(&mut at(&dir, &["--env", "stagin", "up"]));
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no environment \"stagin\"") && err.contains("known: production, staging"),
        "{err}"
    );
    assert!(!applied(&staging));
    // A profile chosen from .env is a profile chosen all the same.
    dir.write(".env", "PGSTRATA_ENV=qa\n");
    let (code, _, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 2);
    assert!(err.contains("no environment \"qa\""), "{err}");
    dir.write(".env", "PGSTRATA_ENV=staging\n");
    let (code, out, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next(), Some("environment: staging"), "{out}");
}

#[test]
fn an_unknown_key_in_a_profile_is_an_error_like_at_the_top_level() {
    let dir = project();
    dir.write(
        "pgstrata.toml",
        "lock_wait = 5\n\n[env.staging]\nlock_wiat = 7\n",
    );
    let (code, _, err) = run(&mut at(&dir, &["--env", "staging", "status"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("line 4, column 1: unknown field `lock_wiat`"),
        "{err}"
    );
    // Even when another profile, or none, is chosen: the file is wrong.
    let (code, _, err) = run(&mut at(&dir, &["status"]));
    assert_eq!(code, 2);
    assert!(err.contains("lock_wiat"), "{err}");
}

#[test]
fn snapshot_keeps_its_stdout_pure_sql_under_a_profile() {
    // Its stdout is the schema, piped into files: the environment line goes to stderr there.
    let staging = TestDb::new();
    let dir = with_profiles(&staging, &staging);
    let (code, _, err) = run(&mut at(&dir, &["--env", "staging", "up"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&mut at(&dir, &["--env", "staging", "snapshot"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("environment"), "{out}");
    assert!(out.contains("-- table public.t"), "{out}");
    assert_eq!(err.lines().next(), Some("environment: staging"), "{err}");
}

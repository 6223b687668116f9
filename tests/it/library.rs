//! The library API (`pgstrata::Migrations`, `pgstrata::Migrator`) as a Rust program uses it:
//! up, status and down on the test server, from plain code and from inside tokio runtimes,
//! and the error kinds a caller branches on.

use std::time::Duration;

use pgstrata::{Direction, Down, ErrorKind, Migrations, Migrator, VersionState};

use crate::harness::{TempDir, TestDb, history, relation_exists, repository};

fn two_tables() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
        (
            "migrations/V2__t2.sql",
            "CREATE TABLE t2 (id int);\n\nINSERT INTO t2 VALUES (1);\n",
        ),
        ("rollbacks/V2__t2.sql", "DROP TABLE t2;\n"),
        (
            "views/v1.sql",
            "-- pgstrata:requires V1\nCREATE OR REPLACE VIEW v1 AS SELECT id FROM t1;\n",
        ),
    ])
}

#[test]
fn up_status_and_down_on_a_url() {
    let db = TestDb::new();
    let project = two_tables();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    assert_eq!(
        migrations.versions().collect::<Vec<_>>(),
        [(1, "t1"), (2, "t2")]
    );
    let migrator = Migrator::new(&migrations).allow_data_loss(true);

    let status = migrator.status(&db.conninfo).unwrap();
    assert!(!status.clean);
    assert_eq!(status.in_state(VersionState::Pending).count(), 2);

    let report = migrator.up_to(&db.conninfo, 1).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 1);
    assert_eq!(report.steps[0].direction, Direction::Up);
    assert_eq!(report.steps[0].file, "migrations/V1__t1.sql");
    assert_eq!(report.views.len(), 1, "{report:?}");
    assert_eq!(report.views[0].action, "created");

    let report = migrator.up(db.conninfo.as_str()).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 2);
    let status = migrator.status(&db.conninfo).unwrap();
    assert!(status.clean, "{status:?}");
    assert_eq!(status.in_state(VersionState::Applied).count(), 2);
    assert!(status.versions.iter().all(|v| v.applied_at.is_some()));

    let report = migrator.down(&db.conninfo, Down::Steps(1)).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].direction, Direction::Down);
    assert_eq!(report.steps[0].file, "rollbacks/V2__t2.sql");
    let mut client = db.connect();
    assert_eq!(history(&mut client), [(1, "applied".to_string())]);
    assert!(!relation_exists(&mut client, "t2"));

    migrator.down(&db.conninfo, Down::To(0)).unwrap();
    assert!(history(&mut client).is_empty());
    assert!(!relation_exists(&mut client, "v1"));
}

#[test]
fn up_and_status_on_a_client_the_caller_opened() {
    let db = TestDb::new();
    let project = two_tables();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let migrator = Migrator::new(&migrations);
    let mut client = db.connect();
    let report = migrator.up(&mut client).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(migrator.status(&mut client).unwrap().clean);
    // The caller's connection is still usable afterwards.
    assert!(relation_exists(&mut client, "t2"));
}

// The sync `postgres` client drives its own tokio runtime with block_on, which panics on a
// thread already running one: that is what a tokio program calling pgstrata used to hit.
#[test]
fn the_sync_postgres_client_alone_panics_inside_tokio() {
    let db = TestDb::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let conninfo = db.conninfo.clone();
    let panicked = runtime.block_on(async move {
        std::panic::catch_unwind(|| postgres::Client::connect(&conninfo, postgres::NoTls)).is_err()
    });
    assert!(panicked, "the driver no longer panics inside a runtime");
}

/// Applies, reads and rolls back the repository's own project from inside `runtime`.
fn round_trip_inside(runtime: tokio::runtime::Runtime) {
    let db = TestDb::new();
    let conninfo = db.conninfo.clone();
    let steps = runtime.block_on(async move {
        let migrations = Migrations::from_dir(repository()).unwrap();
        let migrator = Migrator::new(&migrations).allow_data_loss(true);
        let up = migrator.up(&conninfo).unwrap();
        assert!(migrator.status(&conninfo).unwrap().clean);
        let down = migrator.down(&conninfo, Down::To(0)).unwrap();
        (up.steps.len(), down.steps.len())
    });
    let migrations = Migrations::from_dir(repository()).unwrap();
    let count = migrations.versions().count();
    assert!(count > 1);
    assert_eq!(steps, (count, count));
}

// Regression: "Cannot start a runtime from within a runtime" from #[tokio::main] programs.
#[test]
fn the_api_works_inside_a_current_thread_runtime() {
    round_trip_inside(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
    );
}

#[test]
fn the_api_works_inside_a_multi_thread_runtime() {
    round_trip_inside(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    );
}

#[test]
fn the_api_works_in_spawn_blocking_with_a_client() {
    let db = TestDb::new();
    let project = two_tables();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let conninfo = db.conninfo.clone();
    let path = project.path.clone();
    let applied = runtime.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let mut client = postgres::Client::connect(&conninfo, postgres::NoTls).unwrap();
            let migrations = Migrations::from_dir(&path).unwrap();
            Migrator::new(&migrations)
                .up(&mut client)
                .unwrap()
                .steps
                .len()
        })
        .await
        .unwrap()
    });
    assert_eq!(applied, 2);
}

#[test]
fn an_invalid_project_is_an_invalid_project_error_listing_every_problem() {
    let project = TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("migrations/V2_bad.sql", "SELECT 1;\n"),
    ]);
    let err = Migrations::from_dir(&project.path).unwrap_err();
    let ErrorKind::InvalidProject { problems } = err.kind() else {
        panic!("{err:?}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(err.kind().name(), "invalid_project");
    assert!(err.kind().is_refusal());
    assert!(err.to_string().contains("V2_bad.sql"), "{err}");
}

#[test]
fn a_changed_applied_file_is_a_checksum_mismatch() {
    let db = TestDb::new();
    let project = two_tables();
    Migrator::new(&Migrations::from_dir(&project.path).unwrap())
        .up(&db.conninfo)
        .unwrap();
    project.write("migrations/V1__t1.sql", "CREATE TABLE t1 (id bigint);\n");
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let err = Migrator::new(&migrations).up(&db.conninfo).unwrap_err();
    let ErrorKind::ChecksumMismatch {
        version,
        file,
        applied,
        current,
    } = err.kind()
    else {
        panic!("{err:?}");
    };
    assert_eq!((*version, file.as_str()), (1, "migrations/V1__t1.sql"));
    assert_ne!(applied, current);
    assert_eq!(err.kind().name(), "modified");
}

#[test]
fn a_held_lock_is_lock_busy() {
    let db = TestDb::new();
    let project = two_tables();
    let mut holder = db.connect();
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&pgstrata::migrate::lock::key("pgstrata")],
        )
        .unwrap();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let err = Migrator::new(&migrations)
        .lock_wait(Duration::from_secs(1))
        .up(&db.conninfo)
        .unwrap_err();
    let ErrorKind::LockBusy { holder } = err.kind() else {
        panic!("{err:?}");
    };
    assert!(holder.contains("pid"), "{holder}");
    assert_eq!(err.kind().name(), "lock_timeout");
    // Nothing ran, and the report says so.
    assert_eq!(err.report().map(|r| r.steps.len()), Some(0));
}

#[test]
fn an_irreversible_rollback_is_refused() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        (
            "rollbacks/V1__t1.sql",
            "-- pgstrata:irreversible the data cannot come back\n",
        ),
    ]);
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let migrator = Migrator::new(&migrations);
    migrator.up(&db.conninfo).unwrap();
    let err = migrator.down(&db.conninfo, Down::Steps(1)).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Refused {
            reason: "irreversible"
        },
        "{err:?}"
    );
    assert!(err.kind().is_refusal());
}

#[test]
fn a_failing_statement_is_a_sql_error_at_its_line_with_the_report_so_far() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
        (
            "migrations/V2__bad.sql",
            "CREATE TABLE t2 (id int);\nINSERT INTO missing VALUES (1);\n",
        ),
        ("rollbacks/V2__bad.sql", "DROP TABLE t2;\n"),
    ]);
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let err = Migrator::new(&migrations).up(&db.conninfo).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Sql {
            sqlstate: "42P01".into(),
            file: Some("migrations/V2__bad.sql".into()),
            line: Some(2),
            column: Some(13),
        },
        "{err}"
    );
    assert_eq!(err.kind().name(), "database");
    assert!(!err.kind().is_refusal());
    // V1 was committed before V2 failed; the error carries that.
    let report = err.report().expect("a report of the run");
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 1);
}

#[test]
fn no_server_and_no_database_are_connection_errors() {
    let project = two_tables();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let migrator = Migrator::new(&migrations);
    let dead = TempDir::new();
    let refused = format!("host={} port=1 dbname=x user=x", dead.path.display());
    let err = migrator.up(refused.as_str()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Connection, "{err}");
    assert_eq!(err.kind().name(), "connection");
    // The server answers, but with an error: still a failure to connect, not a SQL error.
    let db = TestDb::new();
    let missing = db
        .conninfo
        .replace(&db.name, &format!("{}_missing", db.name));
    let err = migrator.status(missing.as_str()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn a_connection_string_that_does_not_parse_is_other() {
    let project = two_tables();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let err = Migrator::new(&migrations)
        .status("postgres://[::1")
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Other, "{err}");
    assert_eq!(err.kind().name(), "error");
}

/// Builds the examples (a no-op when `cargo test` has built them already) and returns the
/// path of `name`'s binary.
fn example(name: &str) -> std::path::PathBuf {
    let (code, out, err) = crate::harness::run(
        std::process::Command::new(env!("CARGO"))
            .current_dir(repository())
            .args(["build", "--quiet", "--examples"]),
    );
    assert_eq!(code, 0, "cargo build --examples: {out}{err}");
    // The test binary is target/<profile>/deps/it-…; the examples are beside deps/.
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

// The examples apply this repository's own migrations, embedded in them, and print status.
#[test]
fn the_sync_and_tokio_examples_migrate_a_database() {
    let files = Migrations::from_dir(repository()).unwrap();
    let count = files.versions().count();
    for name in ["library_sync", "library_tokio"] {
        let db = TestDb::new();
        let (code, out, err) =
            crate::harness::run(std::process::Command::new(example(name)).arg(&db.conninfo));
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert_eq!(out.matches("applied V").count(), count, "{name}: {out}");
        assert_eq!(out.matches(" Applied").count(), count, "{name}: {out}");
        assert!(out.ends_with("clean: true\n"), "{name}: {out}");
        let mut client = db.connect();
        assert_eq!(history(&mut client).len(), count);
        // A second run has nothing to do.
        let (code, out, err) =
            crate::harness::run(std::process::Command::new(example(name)).arg(&db.conninfo));
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert_eq!(out.matches("applied V").count(), 0, "{name}: {out}");
    }
}

// A failure reaches the program as a typed error: here, no server at all.
#[test]
fn the_sync_example_reports_the_error_kind() {
    let dead = TempDir::new();
    let refused = format!("host={} port=1 dbname=x user=x", dead.path.display());
    let (code, out, err) =
        crate::harness::run(std::process::Command::new(example("library_sync")).arg(&refused));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with("error (connection): connecting to"),
        "{err}"
    );
}

// An embedded project is judged by the loader that judges a folder: the same projects are
// refused, with the same messages.
#[test]
fn embedded_projects_are_validated_as_on_disk() {
    use pgstrata::{Embedded, embed_migrations};
    let cases: [(&str, Embedded); 14] = [
        (
            "bad_name",
            embed_migrations!("tests/fixtures/invalid/bad_name"),
        ),
        (
            "commit_inside",
            embed_migrations!("tests/fixtures/invalid/commit_inside"),
        ),
        (
            "duplicate_version",
            embed_migrations!("tests/fixtures/invalid/duplicate_version"),
        ),
        (
            "lower_case_v",
            embed_migrations!("tests/fixtures/invalid/lower_case_v"),
        ),
        (
            "missing_rollback",
            embed_migrations!("tests/fixtures/invalid/missing_rollback"),
        ),
        (
            "not_sql_extension",
            embed_migrations!("tests/fixtures/invalid/not_sql_extension"),
        ),
        (
            "not_utf8",
            embed_migrations!("tests/fixtures/invalid/not_utf8"),
        ),
        (
            "nul_byte",
            embed_migrations!("tests/fixtures/invalid/nul_byte"),
        ),
        (
            "orphan_rollback",
            embed_migrations!("tests/fixtures/invalid/orphan_rollback"),
        ),
        (
            "unknown_directive",
            embed_migrations!("tests/fixtures/invalid/unknown_directive"),
        ),
        (
            "upper_case_extension",
            embed_migrations!("tests/fixtures/invalid/upper_case_extension"),
        ),
        ("utf16", embed_migrations!("tests/fixtures/invalid/utf16")),
        (
            "version_overflow",
            embed_migrations!("tests/fixtures/invalid/version_overflow"),
        ),
        (
            "view_requires_unknown",
            embed_migrations!("tests/fixtures/invalid/view_requires_unknown"),
        ),
    ];
    for (name, embedded) in cases {
        let on_disk =
            Migrations::from_dir(crate::harness::fixture("invalid").join(name)).expect_err(name);
        let err = Migrations::embedded(&embedded).expect_err(name);
        assert_eq!(err.kind(), on_disk.kind(), "{name}");
        assert_eq!(err.to_string(), on_disk.to_string(), "{name}");
        assert!(
            matches!(err.kind(), ErrorKind::InvalidProject { .. }),
            "{name}: {err}"
        );
    }
}

// The CRLF fixture embedded has the checksums of the same files read from disk.
#[test]
fn an_embedded_project_runs_like_the_folder_it_came_from() {
    static CRLF: pgstrata::Embedded = pgstrata::embed_migrations!("tests/fixtures/crlf_checksum");
    let embedded = Migrations::embedded(&CRLF).unwrap();
    let on_disk = Migrations::from_dir(crate::harness::fixture("crlf_checksum")).unwrap();
    assert!(
        CRLF.file_names()
            .any(|name| name == "migrations/V1__t1.sql"),
        "{:?}",
        CRLF.file_names().collect::<Vec<_>>()
    );
    // Applied from the embedded copy, the database is clean for the files on disk.
    let db = TestDb::new();
    Migrator::new(&embedded).up(&db.conninfo).unwrap();
    let status = Migrator::new(&on_disk).status(&db.conninfo).unwrap();
    assert!(status.clean, "{status:?}");
}

/// The `kind` of the JSON report of `pgstrata --format json ARGS` on `db`, which must fail.
fn json_kind(db_url: &str, project: &TempDir, args: &[&str]) -> String {
    let (code, out, err) = crate::harness::run(
        crate::harness::pgstrata()
            .arg("--dir")
            .arg(&project.path)
            .args(["--database-url", db_url, "--format", "json"])
            .args(args),
    );
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    report["kind"].as_str().unwrap_or_default().to_string()
}

// One vocabulary: for the same failure, the CLI's JSON `kind` is the library's
// `ErrorKind::name()`, for each kind a caller branches on.
#[test]
fn json_reports_and_the_library_name_a_failure_alike() {
    let db = TestDb::new();
    let dead = TempDir::new();
    let no_server = format!("host={} port=1 dbname=x user=x", dead.path.display());
    let no_database = db
        .conninfo
        .replace(&db.name, &format!("{}_missing", db.name));
    let project = two_tables();
    let migrations = Migrations::from_dir(&project.path).unwrap();
    let migrator = Migrator::new(&migrations).lock_wait(Duration::from_secs(1));
    let mut seen = Vec::new();
    let mut same = |url: &str, args: &[&str], library: pgstrata::Error| {
        assert_eq!(
            json_kind(url, &project, args),
            library.kind().name(),
            "{args:?}"
        );
        seen.push(library.kind().name());
    };
    same(
        &no_server,
        &["up"],
        migrator.up(no_server.as_str()).unwrap_err(),
    );
    same(
        &no_database,
        &["status"],
        migrator.status(no_database.as_str()).unwrap_err(),
    );
    same(
        "postgres://[::1",
        &["up"],
        migrator.up("postgres://[::1").unwrap_err(),
    );

    migrator.up(&db.conninfo).unwrap();
    let mut holder = db.connect();
    let key = pgstrata::migrate::lock::key("pgstrata");
    holder
        .query_one("SELECT pg_advisory_lock($1)", &[&key])
        .unwrap();
    same(
        &db.conninfo,
        &["down", "--lock-wait", "1", "--allow-data-loss"],
        migrator.down(&db.conninfo, Down::Steps(1)).unwrap_err(),
    );
    holder
        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
        .unwrap();

    project.write("migrations/V3__bad.sql", "SELECT * FROM missing;\n");
    project.write("rollbacks/V3__bad.sql", "SELECT 1;\n");
    let with_bad = Migrations::from_dir(&project.path).unwrap();
    same(
        &db.conninfo,
        &["up"],
        Migrator::new(&with_bad).up(&db.conninfo).unwrap_err(),
    );

    project.write("migrations/V1__t1.sql", "CREATE TABLE t1 (id bigint);\n");
    let modified = Migrations::from_dir(&project.path).unwrap();
    same(
        &db.conninfo,
        &["up"],
        Migrator::new(&modified).up(&db.conninfo).unwrap_err(),
    );

    project.write("rollbacks/V3__bad.sql", "-- pgstrata:irreversible\n");
    project.write("rollbacks/V9__orphan.sql", "SELECT 1;\n");
    let err = Migrations::from_dir(&project.path).unwrap_err();
    same(&db.conninfo, &["up"], err);

    assert_eq!(
        seen,
        [
            "connection",
            "connection",
            "error",
            "lock_timeout",
            "database",
            "modified",
            "invalid_project"
        ]
    );
}

#[test]
fn an_embedded_project_debugs_as_its_file_names() {
    static PROJECT: pgstrata::Embedded = pgstrata::embed_migrations!();
    let shown = format!("{PROJECT:?}");
    assert!(shown.contains("\"migrations/V1__baseline.sql\""), "{shown}");
    assert!(shown.contains("\"views/"), "{shown}");
    assert!(!shown.contains("CREATE"), "{shown}");
    assert!(shown.len() < 2000, "{shown}");
}

// A program depending on pgstrata with default-features = false gets none of the crates
// only the command line needs.
#[test]
fn the_library_without_the_cli_feature_needs_no_cli_crate() {
    let tree = |features: &[&str]| {
        let (code, out, err) = crate::harness::run(
            std::process::Command::new(env!("CARGO"))
                .current_dir(repository())
                .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
                .args(features),
        );
        assert_eq!(code, 0, "cargo tree: {err}");
        out
    };
    let cli_only = ["clap ", "signal-hook ", "similar ", "refinery "];
    let library = tree(&["--no-default-features"]);
    for name in cli_only {
        assert!(!library.contains(name), "{name}in:\n{library}");
    }
    assert!(library.contains("pgstrata-macros "), "{library}");
    let binary = tree(&[]);
    for name in cli_only {
        assert!(binary.contains(name), "{name}missing from:\n{binary}");
    }
}

// A program and the command must agree on the history table: a program that read another
// schema would see nothing applied and run every migration again.
#[test]
fn the_projects_settings_file_is_where_a_migrator_starts() {
    static PROJECT: pgstrata::Embedded =
        pgstrata::embed_migrations!("tests/fixtures/library_settings");
    let dir = crate::harness::fixture("library_settings");
    for migrations in [
        Migrations::from_dir(&dir).unwrap(),
        Migrations::embedded(&PROJECT).unwrap(),
    ] {
        let db = TestDb::new();
        Migrator::new(&migrations).up(&db.conninfo).unwrap();
        let mut client = db.connect();
        let recorded: i64 = client
            .query_one("SELECT count(*) FROM app_history.history", &[])
            .unwrap()
            .get(0);
        assert_eq!(recorded, 1);
        // The command, reading the same file, finds the database clean.
        let (code, out, err) = crate::harness::run(
            crate::harness::pgstrata_for(&db, &dir).args(["status", "--exit-code"]),
        );
        assert_eq!(code, 0, "{out}{err}");
    }
    // A settings file the command refuses is refused here too, on disk and embedded alike.
    let cases: [(&str, pgstrata::Embedded); 2] = [
        (
            "settings_bad_value",
            pgstrata::embed_migrations!("tests/fixtures/invalid/settings_bad_value"),
        ),
        (
            "settings_unknown_key",
            pgstrata::embed_migrations!("tests/fixtures/invalid/settings_unknown_key"),
        ),
    ];
    for (name, embedded) in cases {
        let on_disk = Migrations::from_dir(crate::harness::fixture("invalid").join(name))
            .expect_err(name)
            .to_string();
        let err = Migrations::embedded(&embedded).expect_err(name);
        assert_eq!(err.kind(), &ErrorKind::Other, "{name}");
        let what = |message: &str| message.split_once("pgstrata.toml: ").unwrap().1.to_string();
        assert_eq!(what(&err.to_string()), what(&on_disk), "{name}");
    }
}

// Async programs move these across tasks and threads, and box errors as `dyn Error`.
#[test]
fn the_api_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Migrations>();
    send_sync::<Migrator<'static>>();
    send_sync::<pgstrata::Embedded>();
    send_sync::<pgstrata::Report>();
    send_sync::<pgstrata::Status>();
    send_sync::<pgstrata::Error>();
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        Box::new(Migrations::from_dir(TempDir::new().path.join("nowhere")).unwrap_err());
    assert!(
        boxed.to_string().contains("no migrations/ folder"),
        "{boxed}"
    );
}

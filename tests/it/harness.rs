//! Shared test harness: one PostgreSQL server per test process, one fresh database per test.
//!
//! The server is pgstrata's own scratch server (the code `check` uses), or the server named by
//! `PGSTRATA_TEST_SERVER` (a `key=value` connection string without dbname) when you want to
//! inspect what a failing test left behind. A failing test keeps its database and prints its
//! name.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use std::time::{Duration, Instant};

use pgstrata::db::quote_ident;
use pgstrata::migrate::plan::DownTarget;
use pgstrata::migrate::runner::{Event, Options, Runner};
use pgstrata::scratch::ScratchServer;
use postgres::Client;

enum Server {
    Scratch(ScratchServer),
    External(String),
}

impl Server {
    fn conninfo(&self, dbname: &str) -> String {
        match self {
            Server::Scratch(server) => server.conninfo(dbname),
            Server::External(base) => format!("{base} dbname={dbname}"),
        }
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("PGSTRATA_TEST_SERVER") {
        Ok(base) if !base.trim().is_empty() => Server::External(base),
        _ => Server::Scratch(ScratchServer::start().expect("starting the scratch server")),
    })
}

/// A database created for one test from `template0`; dropped when the test passes, kept and
/// named when it fails.
pub struct TestDb {
    pub name: String,
    pub conninfo: String,
}

impl TestDb {
    /// Creates a database named after the running test.
    pub fn new() -> TestDb {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "_");
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let mut name: String = format!("t{serial}_{test}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        name.truncate(63);
        let mut admin = admin();
        // Each on its own: CREATE/DROP DATABASE refuse to run in a (multi-statement) batch.
        for sql in [
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            "CREATE DATABASE {} TEMPLATE template0",
        ] {
            admin
                .batch_execute(&sql.replace("{}", &quote_ident(&name)))
                .expect("creating the test database");
        }
        let conninfo = server().conninfo(&name);
        TestDb { name, conninfo }
    }

    pub fn connect(&self) -> Client {
        pgstrata::db::connect(&self.conninfo).expect("connecting to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test failed: database kept as {} ({}); with the scratch server it is deleted \
                 at exit, set PGSTRATA_TEST_SERVER to keep it",
                self.name, self.conninfo
            );
            return;
        }
        let _ = admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        ));
    }
}

fn admin() -> Client {
    pgstrata::db::connect(&server().conninfo("postgres")).expect("connecting to the test server")
}

/// A temporary directory deleted on drop (kept when the test fails).
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "pgstrata-test-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).expect("creating a temporary directory");
        TempDir { path }
    }

    /// Writes `files` (relative path, content) under the directory.
    pub fn with_files(files: &[(&str, &str)]) -> TempDir {
        let dir = TempDir::new();
        for (path, content) in files {
            dir.write(path, content);
        }
        dir
    }

    pub fn write(&self, relative: &str, content: &str) {
        let path = self.path.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The repository root (its own migrations, rollbacks, views and snapshots).
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `pgstrata` binary with a clean environment: no DATABASE_URL, no libpq PG* variables,
/// no settings from PGSTRATA_* variables (those locating binaries and caches stay).
pub fn pgstrata() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgstrata"));
    let keep = [
        "PGSTRATA_PG_BIN",
        "PGSTRATA_CACHE_DIR",
        "PGSTRATA_SCRATCH_DIR",
    ];
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key == "DATABASE_URL" || key == "NO_COLOR" || key.starts_with("PG"))
            && !keep.contains(&key)
        {
            command.env_remove(key);
        }
    }
    command
}

/// Runs a command and returns its output, with stdout and stderr as text.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("running pgstrata");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// One text value from the first row of a query.
pub fn query_text(client: &mut Client, sql: &str) -> String {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// Applies the migrations of the project at `dir` with version <= `to` (all when `None`)
/// with pgstrata's runner, then rebuilds its views. Panics on failure.
pub fn up(db: &TestDb, dir: &Path, to: Option<i64>) {
    with_runner(db, dir, |runner| runner.up(to));
}

/// Rolls back, newest first, every applied migration with version > `to` with pgstrata's
/// runner, then rebuilds views. Panics on failure.
pub fn down(db: &TestDb, dir: &Path, to: i64) {
    with_runner(db, dir, |runner| runner.down(DownTarget::To(to)));
}

fn with_runner(db: &TestDb, dir: &Path, action: impl FnOnce(&mut Runner) -> anyhow::Result<()>) {
    let project = pgstrata::migrate::project::load(dir).expect("loading the project");
    let mut client = db.connect();
    let options = Options {
        history_schema: "pgstrata".into(),
        lock_wait: Duration::from_secs(60),
        dry_run: false,
        limits: pgstrata::config::Limits::default(),
        watch: None,
        // These helpers move data down and up on purpose; the guard has its own tests.
        allow_data_loss: true,
        allow_out_of_order: false,
    };
    let quiet: pgstrata::migrate::runner::OnEvent = std::sync::Arc::new(|_: Event| {});
    let mut runner = Runner::new(&mut client, &project, options, quiet);
    if let Err(err) = action(&mut runner) {
        panic!("{err:#}");
    }
}

/// The `pgstrata` binary pointed at a test database and a project folder.
pub fn pgstrata_for(db: &TestDb, dir: &Path) -> Command {
    let mut command = pgstrata();
    command
        .arg("--dir")
        .arg(dir)
        .arg("--database-url")
        .arg(&db.conninfo);
    command
}

/// The versions recorded in pgstrata's history, with their state.
pub fn history(client: &mut Client) -> Vec<(i64, String)> {
    client
        .query(
            "SELECT version, state FROM pgstrata.history ORDER BY version",
            &[],
        )
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default()
}

/// Whether a relation (table, view, index...) of that name exists in the public schema.
pub fn relation_exists(client: &mut Client, name: &str) -> bool {
    client
        .query_one("SELECT to_regclass(quote_ident($1)) IS NOT NULL", &[&name])
        .unwrap()
        .get(0)
}

/// A project whose only migration sleeps a minute: something to interrupt.
pub fn sleeping_project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__sleeps.sql",
            "CREATE TABLE s (id int);\nSELECT pg_sleep(60);\n",
        ),
        ("rollbacks/V1__sleeps.sql", "DROP TABLE s;\n"),
    ])
}

/// Whether a session other than ours sleeps in a database whose name is like `pattern`.
pub fn someone_sleeps(client: &mut Client, pattern: &str) -> bool {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 \
             AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
            &[&pattern],
        )
        .is_ok_and(|row| row.get::<_, i64>(0) == 1)
}

/// `pgstrata check` of `project` on `db`'s server (stderr piped), returned once the sleeping
/// migration runs in check's temporary database, with that database's name as a LIKE pattern.
pub fn check_until_it_sleeps(db: &TestDb, project: &TempDir) -> (Child, String) {
    let child = pgstrata_for(db, &project.path)
        .arg("check")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting pgstrata check");
    let ours = format!("pgstrata_check_{}_%", child.id());
    let mut client = db.connect();
    wait_until(
        "check's migration to sleep in its temporary database",
        || someone_sleeps(&mut client, &ours),
    );
    (child, ours)
}

/// `pgstrata check` of `project` on a scratch server under `parent` (stderr piped), returned
/// once the sleeping migration runs there, with the scratch server's directory.
pub fn check_on_scratch_until_it_sleeps(parent: &Path, project: &TempDir) -> (Child, PathBuf) {
    let child = pgstrata()
        .env("PGSTRATA_SCRATCH_DIR", parent)
        .arg("--dir")
        .arg(&project.path)
        .arg("check")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting pgstrata check");
    let mut found = None;
    wait_until("the migration to sleep on the scratch server", || {
        let Some(dir) = fs::read_dir(parent)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .find(|dir| dir.join(".s.PGSQL.5432").exists())
        else {
            return false;
        };
        let conninfo = format!("host={} user=postgres dbname=postgres", dir.display());
        let sleeping = pgstrata::db::connect(&conninfo)
            .is_ok_and(|mut client| someone_sleeps(&mut client, "%"));
        found = Some(dir);
        sleeping
    });
    (child, found.expect("found while waiting"))
}

/// The databases on the server whose names are LIKE `pattern`.
pub fn databases_like(client: &mut Client, pattern: &str) -> Vec<String> {
    client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Polls `ready` until it holds (panics after 30 s).
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGINT (what Ctrl-C sends) to a running pgstrata and returns its exit code, waiting
/// at most 30 s for it to stop.
pub fn interrupt(child: &mut Child) -> i32 {
    send_signal(child, libc::SIGINT)
}

/// Sends `signal` to a running pgstrata and returns its exit code (-1 when a signal killed
/// it), waiting at most 30 s for it to stop.
pub fn send_signal(child: &mut Child, signal: i32) -> i32 {
    // SAFETY: kill on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for pgstrata") {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "pgstrata did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The real `pg_dump` of the test server's installation pointed at `db`, as [`psql`] is:
/// no PG* variables from the caller. The arguments are the caller's.
pub fn pg_dump(db: &TestDb) -> Command {
    let binary = match server() {
        Server::Scratch(server) => server.bindir().join("pg_dump"),
        Server::External(_) => PathBuf::from("pg_dump"),
    };
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("PG")) {
            command.env_remove(key);
        }
    }
    command.args(["-d", &db.conninfo]);
    command
}

/// The real `psql` of the test server's installation (not Debian's wrapper on PATH, which
/// picks a cluster of its own) pointed at `db`: no `~/.psqlrc` (`-X`), quiet, stopping at
/// the first error, UTF-8 client encoding, no PG* variables from the caller.
pub fn psql(db: &TestDb) -> Command {
    let binary = match server() {
        Server::Scratch(server) => server.bindir().join("psql"),
        Server::External(_) => PathBuf::from("psql"),
    };
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("PG")) {
            command.env_remove(key);
        }
    }
    command.env("PGCLIENTENCODING", "UTF8").args([
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        &db.conninfo,
    ]);
    command
}

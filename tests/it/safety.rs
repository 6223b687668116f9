//! Safe on a live server: a migration waiting for a lock never queues readers for longer than
//! `lock_timeout`, is rolled back whole and retried, names the session that blocks it, and
//! gives up with exit 2 and nothing recorded; time limits come from flags, the environment,
//! pgstrata.toml and the file itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{TempDir, TestDb, history, pgstrata_for, run, wait_until};

/// V1 creates `items` with rows; V2 adds a column, which needs an ACCESS EXCLUSIVE lock.
fn alter_project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id int PRIMARY KEY);\n\
             INSERT INTO items SELECT generate_series(1, 100);\n",
        ),
        ("rollbacks/V1__items.sql", "DROP TABLE items;\n"),
        (
            "migrations/V2__note.sql",
            "ALTER TABLE items ADD COLUMN note text;\n",
        ),
        (
            "rollbacks/V2__note.sql",
            "ALTER TABLE items DROP COLUMN note;\n",
        ),
    ])
}

/// A session that reads `items` in a transaction and stays idle in it (holding its ACCESS
/// SHARE lock) until told to commit. Returns its pid and the channel that ends it.
fn hold_items(db: &TestDb) -> (i32, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let mut client = db.connect();
    let handle = thread::spawn(move || {
        let mut tx = client.transaction().unwrap();
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        tx.query_one("SELECT count(*) FROM items", &[]).unwrap();
        pid_tx.send(pid).unwrap();
        // Idle in transaction until told (or until the test ends).
        let _ = stop_rx.recv();
        tx.commit().unwrap();
    });
    (pid_rx.recv().unwrap(), stop_tx, handle)
}

fn column_exists(db: &TestDb, table: &str, column: &str) -> bool {
    db.connect()
        .query_one(
            "SELECT count(*) > 0 FROM information_schema.columns \
             WHERE table_name = $1 AND column_name = $2",
            &[&table, &column],
        )
        .unwrap()
        .get(0)
}

#[test]
fn a_lock_wait_never_blocks_readers_and_the_migration_completes_on_a_retry() {
    let db = TestDb::new();
    let project = alter_project();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    let (holder, release, holding) = hold_items(&db);

    let reader = Reader::start(&db);
    // The holder lets go after 3.5 s, while pgstrata is retrying with default settings.
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(3500));
        let _ = release.send(());
    });
    let started = Instant::now();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    let took = started.elapsed();
    releaser.join().unwrap();
    holding.join().unwrap();
    let (reads, failures, slowest) = reader.stop();

    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("lock wait: migration 2 (note), attempt 1 of 11"),
        "each wait is reported: {err}"
    );
    assert!(
        err.contains(&format!("blocked by pid {holder} ")),
        "the blocker is named: {err}"
    );
    assert!(err.contains("idle in transaction"), "{err}");
    assert!(err.contains("SELECT count(*) FROM items"), "{err}");
    assert!(
        took >= Duration::from_millis(3500),
        "it waited for the holder"
    );
    assert_eq!(failures, 0, "no reader may fail");
    assert!(reads >= 10, "the reader kept reading");
    // A reader queues behind the migration's lock request for at most the lock timeout.
    assert!(
        slowest < Duration::from_secs(2),
        "a read waited {slowest:?}"
    );
    assert!(column_exists(&db, "items", "note"));
    let mut client = db.connect();
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())],
        "recorded once"
    );
}

/// The outage the lock timeout prevents, shown: with no limit the migration's queued lock
/// request blocks the reader until the holder lets go.
#[test]
fn without_a_lock_timeout_readers_queue_behind_the_waiting_migration() {
    let db = TestDb::new();
    let project = alter_project();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    let (_, release, holding) = hold_items(&db);
    let reader = Reader::start(&db);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(3500));
        let _ = release.send(());
    });
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-timeout", "0"]));
    releaser.join().unwrap();
    holding.join().unwrap();
    let (_, failures, slowest) = reader.stop();
    assert_eq!(code, 0, "{err}");
    assert!(
        failures > 0 || slowest >= Duration::from_secs(2),
        "the reader was blocked: {failures} failures, slowest {slowest:?}"
    );
}

/// Reads `items` every 100 ms under a 3 s statement_timeout, like an application would.
struct Reader {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<(usize, usize, Duration)>,
}

impl Reader {
    fn start(db: &TestDb) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let mut client = db.connect();
        let stopped = stop.clone();
        let handle = thread::spawn(move || {
            client
                .batch_execute("SET statement_timeout = '3s'")
                .unwrap();
            let (mut reads, mut failures, mut slowest) = (0, 0, Duration::ZERO);
            while !stopped.load(Ordering::SeqCst) {
                let started = Instant::now();
                match client.query_one("SELECT count(*) FROM items", &[]) {
                    Ok(_) => reads += 1,
                    Err(err) => {
                        eprintln!("reader failed: {err}");
                        failures += 1;
                    }
                }
                slowest = slowest.max(started.elapsed());
                thread::sleep(Duration::from_millis(100));
            }
            (reads, failures, slowest)
        });
        Reader { stop, handle }
    }

    /// Stops reading; returns (reads, failures, the slowest read).
    fn stop(self) -> (usize, usize, Duration) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap()
    }
}

#[test]
fn a_holder_that_never_lets_go_makes_up_give_up_with_nothing_recorded() {
    let db = TestDb::new();
    let project = alter_project();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    let (holder, release, holding) = hold_items(&db);
    let started = Instant::now();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args([
        "up",
        "--lock-timeout",
        "200ms",
        "--lock-retries",
        "2",
        "--format",
        "json",
    ]));
    let took = started.elapsed();
    let _ = release.send(());
    holding.join().unwrap();

    assert_eq!(code, 2, "{err}");
    assert!(
        took < Duration::from_secs(10),
        "gave up within seconds: {took:?}"
    );
    assert!(
        err.contains("migration 2 (note) was not done: in each of its 3 attempts it timed out"),
        "{err}"
    );
    assert!(err.contains(&format!("blocked by: pid {holder} ")), "{err}");
    assert!(err.contains("--lock-timeout (now 200 ms)"), "{err}");
    assert!(err.contains("--lock-retries (now 2)"), "{err}");
    assert_eq!(err.matches("lock wait: migration 2").count(), 2, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    assert!(report["error"].as_str().unwrap().contains("55P03"), "{out}");
    assert!(!column_exists(&db, "items", "note"));
    assert_eq!(history(&mut db.connect()), vec![(1, "applied".into())]);
}

#[test]
fn a_rollback_waiting_for_a_lock_is_retried_and_gives_up_with_the_migration_still_applied() {
    let db = TestDb::new();
    let project = alter_project();
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let (holder, release, holding) = hold_items(&db);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args([
        "down",
        "--lock-timeout",
        "100ms",
        "--lock-retries",
        "1",
    ]));
    let _ = release.send(());
    holding.join().unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the rollback of migration 2 (note) was not done"),
        "{err}"
    );
    assert!(err.contains(&format!("pid {holder}")), "{err}");
    assert!(column_exists(&db, "items", "note"));
    assert_eq!(history(&mut db.connect()).len(), 2);
    // With the holder gone the same rollback goes through.
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(!column_exists(&db, "items", "note"));
}

/// A migration that fails with `code` on its first `failures` attempts: a sequence counts
/// attempts, since nextval survives the rollback of each failed attempt.
fn flaky(code: &str, failures: i64, no_transaction: bool) -> TempDir {
    let header = if no_transaction {
        "-- pgstrata:no-transaction\n"
    } else {
        ""
    };
    TempDir::with_files(&[
        (
            "migrations/V1__counter.sql",
            "CREATE SEQUENCE attempts;\nCREATE TABLE done (n int);\n",
        ),
        (
            "rollbacks/V1__counter.sql",
            "DROP TABLE done;\nDROP SEQUENCE attempts;\n",
        ),
        (
            "migrations/V2__flaky.sql",
            &format!(
                "{header}INSERT INTO done VALUES (1);\n\
                 DO $$ BEGIN IF nextval('attempts') <= {failures} THEN \
                 RAISE EXCEPTION 'lost a race' USING ERRCODE = '{code}'; END IF; END $$;\n\
                 INSERT INTO done VALUES (2);\n"
            ),
        ),
        ("rollbacks/V2__flaky.sql", "DELETE FROM done;\n"),
    ])
}

fn done_rows(db: &TestDb) -> Vec<i32> {
    db.connect()
        .query("SELECT n FROM done ORDER BY n", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn deadlocks_and_serialization_failures_are_retried_whole() {
    for code in ["40P01", "40001", "55P03"] {
        let db = TestDb::new();
        let project = flaky(code, 2, false);
        let (code_out, out, err) =
            run(pgstrata_for(&db, &project.path).args(["up", "--format", "json"]));
        assert_eq!(code_out, 0, "{code}: {err}");
        assert_eq!(
            err.matches("lock wait: migration 2 (flaky)").count(),
            2,
            "{err}"
        );
        assert!(err.contains(&format!("({code})")), "{err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["steps"][1]["attempts"], 3, "{out}");
        // Nothing of the failed attempts is left: each ran whole or not at all.
        assert_eq!(done_rows(&db), vec![1, 2], "{code}");
    }
}

#[test]
fn other_errors_are_not_retried() {
    let db = TestDb::new();
    let project = flaky("23505", 1, false);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(!err.contains("lock wait"), "{err}");
    assert!(err.contains("ERROR 23505: lost a race"), "{err}");
    assert_eq!(done_rows(&db), Vec::<i32>::new());
    assert_eq!(history(&mut db.connect()).len(), 1);
}

#[test]
fn a_no_transaction_statement_is_retried_alone_and_earlier_ones_never_repeat() {
    let db = TestDb::new();
    let project = flaky("55P03", 2, true);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("lock wait: migration 2 (flaky)").count(),
        2,
        "{err}"
    );
    // The INSERT before the retried statement committed once and was not repeated.
    assert_eq!(done_rows(&db), vec![1, 2]);
    assert_eq!(
        history(&mut db.connect()).last(),
        Some(&(2, "applied".into()))
    );
}

#[test]
fn a_no_transaction_statement_that_keeps_losing_leaves_the_migration_dirty() {
    let db = TestDb::new();
    let project = flaky("40P01", 5, true);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-retries", "1"]));
    assert_eq!(code, 2);
    assert!(err.contains("was interrupted while applying"), "{err}");
    assert!(err.contains("statement 2 of 3"), "{err}");
    assert!(err.contains("the 1 before it were committed"), "{err}");
    assert_eq!(done_rows(&db), vec![1]);
    assert_eq!(
        history(&mut db.connect()).last(),
        Some(&(2, "running".into()))
    );
}

#[test]
fn create_index_concurrently_is_exempt_from_the_lock_timeout() {
    // CIC waits for every older transaction in the database, blocking no reader or writer;
    // under a lock timeout it would fail and leave an INVALID index.
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id int);\nCREATE TABLE other (id int);\n",
        ),
        (
            "rollbacks/V1__items.sql",
            "DROP TABLE other;\nDROP TABLE items;\n",
        ),
        (
            "migrations/V2__index.sql",
            "-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n",
        ),
        (
            "rollbacks/V2__index.sql",
            "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY items_id;\n",
        ),
    ]);
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    // An unrelated transaction (on another table) that CIC must wait for.
    let (release, holding) = {
        let (tx, rx) = mpsc::channel::<()>();
        let mut client = db.connect();
        let handle = thread::spawn(move || {
            let mut t = client.transaction().unwrap();
            t.query_one("SELECT count(*) FROM other", &[]).unwrap();
            let _ = rx.recv();
            t.commit().unwrap();
        });
        (tx, handle)
    };
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1500));
        let _ = release.send(());
    });
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["up", "--lock-timeout", "200ms"]));
    releaser.join().unwrap();
    holding.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("lock wait"), "{err}");
    let valid: bool = db
        .connect()
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
}

#[test]
fn a_failed_create_index_concurrently_leaves_no_invalid_index() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__dupes.sql",
            "CREATE TABLE dupes (v int);\nINSERT INTO dupes VALUES (1), (1);\n",
        ),
        ("rollbacks/V1__dupes.sql", "DROP TABLE dupes;\n"),
        (
            "migrations/V2__unique.sql",
            "-- pgstrata:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY dupes_v ON dupes (v);\n",
        ),
        (
            "rollbacks/V2__unique.sql",
            "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY dupes_v;\n",
        ),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("ERROR 23505"), "{err}");
    let left: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the invalid index the failure made was dropped");
    assert_eq!(
        history(&mut db.connect()).last(),
        Some(&(2, "running".into()))
    );
}

#[test]
fn a_statement_timeout_stops_the_migration_without_retrying_it() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__slow.sql",
            "CREATE TABLE t (id int);\nSELECT pg_sleep(2);\n",
        ),
        ("rollbacks/V1__slow.sql", "DROP TABLE t;\n"),
    ]);
    let started = Instant::now();
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["up", "--statement-timeout", "300ms"]));
    assert_eq!(code, 2);
    assert!(started.elapsed() < Duration::from_millis(1900), "{err}");
    assert!(err.contains("ERROR 57014"), "{err}");
    assert!(!err.contains("lock wait"), "{err}");
    assert!(history(&mut db.connect()).is_empty());
}

/// The limits each file ran under, as the server saw them.
fn seen_limits(db: &TestDb) -> Vec<(i32, String, String)> {
    db.connect()
        .query("SELECT v, lt, st FROM seen ORDER BY v", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[test]
fn limits_come_from_flags_env_settings_file_and_the_file_itself() {
    let record = |v: i32| {
        format!(
            "INSERT INTO seen VALUES ({v}, current_setting('lock_timeout'), \
             current_setting('statement_timeout'));\n"
        )
    };
    let project = TempDir::with_files(&[
        (
            "migrations/V1__seen.sql",
            &format!(
                "CREATE TABLE seen (v int, lt text, st text);\n{}",
                record(1)
            ),
        ),
        ("rollbacks/V1__seen.sql", "DROP TABLE seen;\n"),
        (
            "migrations/V2__own.sql",
            &format!(
                "-- pgstrata:lock-timeout 30s\n-- pgstrata:statement-timeout 10min\n{}",
                record(2)
            ),
        ),
        ("rollbacks/V2__own.sql", "DELETE FROM seen WHERE v = 2;\n"),
    ]);
    // Defaults: 1s, no statement timeout; the file's own directives win.
    let db = TestDb::new();
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    assert_eq!(
        seen_limits(&db),
        vec![
            (1, "1s".into(), "0".into()),
            (2, "30s".into(), "10min".into())
        ]
    );
    // pgstrata.toml, then the environment over it, then the flag over both.
    project.write(
        "pgstrata.toml",
        "lock_timeout = \"3s\"\nstatement_timeout = \"2min\"\n",
    );
    let db = TestDb::new();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    assert_eq!(seen_limits(&db), vec![(1, "3s".into(), "2min".into())]);
    let db = TestDb::new();
    let mut command = pgstrata_for(&db, &project.path);
    command
        .env("PGSTRATA_LOCK_TIMEOUT", "4s")
        .args(["up", "--to", "1"]);
    assert_eq!(run(&mut command).0, 0);
    assert_eq!(seen_limits(&db), vec![(1, "4s".into(), "2min".into())]);
    let db = TestDb::new();
    let mut command = pgstrata_for(&db, &project.path);
    command.env("PGSTRATA_LOCK_TIMEOUT", "4s").args([
        "up",
        "--to",
        "1",
        "--lock-timeout",
        "500ms",
        "--statement-timeout",
        "0",
    ]);
    assert_eq!(run(&mut command).0, 0);
    assert_eq!(seen_limits(&db), vec![(1, "500ms".into(), "0".into())]);
}

#[test]
fn bad_durations_are_refused_before_anything_runs() {
    let db = TestDb::new();
    let project = alter_project();
    for args in [
        vec!["up", "--lock-timeout", "2"],
        vec!["up", "--lock-timeout", "soon"],
        vec!["up", "--statement-timeout", "-1s"],
        vec!["up", "--lock-retries", "-1"],
    ] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("--"), "names the flag: {err}");
    }
    let mut command = pgstrata_for(&db, &project.path);
    command.env("PGSTRATA_LOCK_TIMEOUT", "2 seconds").arg("up");
    let (code, _, err) = run(&mut command);
    assert_eq!(code, 2);
    assert!(err.contains("is not a duration"), "{err}");
    project.write("pgstrata.toml", "statement_timeout = \"forever\"\n");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("statement_timeout"), "{err}");
    project.write("pgstrata.toml", "");
    project.write(
        "migrations/V2__note.sql",
        "-- pgstrata:lock-timeout 5 parsecs\nALTER TABLE items ADD COLUMN note text;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V2__note.sql:1: `-- pgstrata:lock-timeout`"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty(), "nothing ran");
}

#[test]
fn a_ci_log_shows_each_migration_as_it_starts_and_long_statements_every_ten_seconds() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__first.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__first.sql", "DROP TABLE a;\n"),
        ("migrations/V2__slow.sql", "SELECT pg_sleep(10.6);\n"),
        ("rollbacks/V2__slow.sql", "SELECT 1;\n"),
    ]);
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    // Progress on stderr (not a terminal here), reports on stdout.
    assert!(err.contains("up V1 first …\nup V2 slow …\n"), "{err}");
    assert!(
        err.contains("… migration 2 (slow): still running after 10 s"),
        "{err}"
    );
    assert!(!out.contains("still running"), "{out}");
    assert!(out.contains("applied 2 migrations"), "{out}");
}

#[test]
fn up_to_zero_is_a_usage_error() {
    let db = TestDb::new();
    let project = alter_project();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "0"]));
    assert_eq!(code, 2);
    assert!(err.contains("--to 0 applies nothing"), "{err}");
    assert!(history(&mut db.connect()).is_empty());
}

#[test]
fn a_failed_run_releases_the_lock_on_a_connection_that_lives_on() {
    use pgstrata::migrate::runner::{Event, Options, Runner};
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__ok.sql", "CREATE TABLE ok (id int);\n"),
        ("rollbacks/V1__ok.sql", "DROP TABLE ok;\n"),
        (
            "migrations/V2__bad.sql",
            "CREATE TABLE bad (id nonsense);\n",
        ),
        ("rollbacks/V2__bad.sql", "DROP TABLE bad;\n"),
    ]);
    let loaded = pgstrata::migrate::project::load(&project.path).unwrap();
    let mut client = db.connect();
    let options = || Options {
        history_schema: "pgstrata".into(),
        lock_wait: Duration::from_secs(1),
        dry_run: false,
        limits: pgstrata::config::Limits::default(),
        watch: None,
        allow_data_loss: false,
        allow_out_of_order: false,
    };
    let quiet: pgstrata::migrate::runner::OnEvent = std::sync::Arc::new(|_: Event| {});
    let mut runner = Runner::new(&mut client, &loaded, options(), quiet.clone());
    assert!(runner.up(None).is_err());
    // The runner lives on, and so does the connection: the lock must already be free.
    let held: i64 = db
        .connect()
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 0, "the lock was released after the failure");
    drop(runner);
    // The same connection runs again (and another process could have, meanwhile).
    let mut runner = Runner::new(&mut client, &loaded, options(), quiet);
    assert!(runner.up(Some(1)).is_ok());
    drop(runner);
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);
}

#[test]
fn the_blocker_is_seen_while_waiting() {
    // With a long lock timeout the watcher reports the wait every 10 s; here only that the
    // second connection names the blocker before the first timeout (200 ms) fires.
    let db = TestDb::new();
    let project = alter_project();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    let (holder, release, holding) = hold_items(&db);
    let mut child = pgstrata_for(&db, &project.path)
        .args(["up", "--lock-timeout", "200ms", "--lock-retries", "0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("pgstrata to finish", || child.try_wait().unwrap().is_some());
    let _ = release.send(());
    holding.join().unwrap();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("its only attempt"), "{err}");
    assert!(err.contains(&format!("blocked by: pid {holder} ")), "{err}");
}

#[test]
fn a_reset_that_would_lift_the_limits_is_refused_in_a_transactional_file() {
    // Inside the migration's transaction RESET ALL would return lock_timeout to the server's
    // default for the statements after it; a no-transaction file gets its limits sent again.
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__reset.sql",
            "CREATE TABLE t (id int);\nRESET ALL;\nALTER TABLE t ADD COLUMN x int;\n",
        ),
        ("rollbacks/V1__reset.sql", "DROP TABLE t;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V1__reset.sql:2:1: `RESET ALL` would lift the lock_timeout"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
    project.write(
        "migrations/V1__reset.sql",
        "-- pgstrata:no-transaction\nCREATE TABLE t (id int);\nRESET ALL;\n\
         CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt;\n",
    );
    project.write(
        "rollbacks/V1__reset.sql",
        "DROP TABLE seen;\nDROP TABLE t;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-timeout", "3s"]));
    assert_eq!(code, 0, "{err}");
    let lt: String = db
        .connect()
        .query_one("SELECT lt FROM seen", &[])
        .unwrap()
        .get(0);
    assert_eq!(lt, "3s");
}

#[test]
fn a_prepared_statement_is_refused_before_anything_runs() {
    // It would outlive the file (the next one inherits it) and a rolled-back attempt (the
    // retry would fail with 42P05).
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__prepared.sql",
            "CREATE TABLE t (id int);\nPREPARE add_row AS INSERT INTO t VALUES ($1);\nEXECUTE add_row(1);\n",
        ),
        ("rollbacks/V1__prepared.sql", "DROP TABLE t;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V1__prepared.sql:2:1: `PREPARE add_row AS INSERT` makes a prepared statement"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
}

#[test]
fn waiting_for_the_migration_lock_is_reported_every_ten_seconds() {
    let db = TestDb::new();
    let project = alter_project();
    // Another run's lock: the key pgstrata uses for its default history schema.
    let mut holder = db.connect();
    let key = pgstrata::migrate::lock::key("pgstrata");
    holder
        .query_one("SELECT pg_advisory_lock($1)", &[&key])
        .unwrap();
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10_600));
        holder
            .query_one("SELECT pg_advisory_unlock($1)", &[&key])
            .unwrap();
    });
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-wait", "30"]));
    releaser.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("waiting for the migration lock, held by pid"),
        "{err}"
    );
    assert!(
        err.contains("waiting for the migration lock (10 s so far), held by pid"),
        "{err}"
    );
}

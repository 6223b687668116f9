//! One run at a time, and a killed run leaves nothing behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{
    TempDir, TestDb, history, interrupt, pgstrata_for, relation_exists, run, wait_until,
};

/// V2 sleeps while the table `slow_marker` exists, so a test controls how long it runs.
fn slow_project(seconds: u32) -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__runs.sql",
            "CREATE TABLE runs (version int NOT NULL);\nINSERT INTO runs VALUES (1);\n",
        ),
        ("rollbacks/V1__runs.sql", "DROP TABLE runs;\n"),
        (
            "migrations/V2__slow.sql",
            &format!(
                "CREATE TABLE big (id int);\nINSERT INTO runs VALUES (2);\n\
                 SELECT pg_sleep(CASE WHEN to_regclass('slow_marker') IS NULL THEN 0 ELSE {seconds} END);\n"
            ),
        ),
        (
            "rollbacks/V2__slow.sql",
            "DELETE FROM runs WHERE version = 2;\nDROP TABLE big;\n",
        ),
    ])
}

/// Waits until a statement containing `needle` is running in the database.
fn wait_for_statement(db: &TestDb, needle: &str) {
    let mut client = db.connect();
    wait_until(needle, || {
        client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
                &[&needle],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    });
}

#[test]
fn two_up_processes_apply_each_migration_exactly_once() {
    let db = TestDb::new();
    let project = slow_project(1);
    db.connect()
        .batch_execute("CREATE TABLE slow_marker ()")
        .unwrap();
    let spawn = || {
        pgstrata_for(&db, &project.path)
            .arg("up")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let texts: Vec<(String, String)> = outputs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{o:?}");
            (
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect();
    let appliers = texts
        .iter()
        .filter(|(out, _)| out.contains("applied 2 migrations"))
        .count();
    let idle = texts
        .iter()
        .filter(|(out, _)| out.contains("nothing to do"))
        .count();
    assert_eq!((appliers, idle), (1, 1), "{texts:?}");
    let waiter = texts
        .iter()
        .find(|(out, _)| out.contains("nothing to do"))
        .unwrap();
    assert!(
        waiter
            .1
            .contains("waiting for the migration lock, held by pid"),
        "{texts:?}"
    );
    let mut client = db.connect();
    let runs: Vec<i32> = client
        .query("SELECT version FROM runs ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(runs, vec![1, 2], "each migration ran once");
    assert_eq!(history(&mut client).len(), 2);
}

#[test]
fn killed_run_records_nothing_of_the_migration_in_flight_and_a_rerun_completes() {
    let db = TestDb::new();
    let project = slow_project(60);
    let mut client = db.connect();
    client.batch_execute("CREATE TABLE slow_marker ()").unwrap();
    let mut child = pgstrata_for(&db, &project.path)
        .arg("up")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_statement(&db, "pg_sleep");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    child.wait().unwrap();
    client.batch_execute("DROP TABLE slow_marker").unwrap();
    // The server notices the dead client within a second, aborts V2 and frees the lock; the
    // rerun waits for that.
    let started = Instant::now();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 1 migration"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the killed backend did not linger"
    );
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
    let runs: i64 = client
        .query_one("SELECT count(*) FROM runs WHERE version = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 1, "the killed attempt left no row");
    assert!(relation_exists(&mut client, "big"));
}

#[test]
fn lock_time_out_names_the_holder() {
    let db = TestDb::new();
    let project = slow_project(0);
    let mut holder = db.connect();
    holder
        .batch_execute("SET application_name = 'holder-under-test'")
        .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&pgstrata::migrate::lock::key("pgstrata")],
        )
        .unwrap();
    let started = Instant::now();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-wait", "1"]));
    assert_eq!(code, 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(err.contains("gave up after 1 s"), "{err}");
    assert!(err.contains(&format!("pid {pid}")), "{err}");
    assert!(err.contains("application_name holder-under-test"), "{err}");
    assert!(
        err.contains("client local socket") && err.contains("connected since"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
    // Another history schema is another lock.
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["up", "--history-schema", "other_history"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn up_with_nothing_to_do_answers_without_waiting_for_the_lock() {
    let db = TestDb::new();
    let project = slow_project(0);
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let mut holder = db.connect();
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&pgstrata::migrate::lock::key("pgstrata")],
        )
        .unwrap();
    // Up to date: answered from the history read without the lock.
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-wait", "1"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing to do"), "{out}");
    // Anything else (here a changed view file) still needs the lock, and waits for it.
    project.write(
        "views/v.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-wait", "1"]));
    assert_eq!(code, 2);
    assert!(err.contains("gave up after 1 s"), "{err}");
    assert!(!relation_exists(&mut db.connect(), "v"));
}

#[test]
fn ctrl_c_cancels_the_migration_in_flight_and_leaves_nothing_of_it() {
    let db = TestDb::new();
    let project = slow_project(60);
    db.connect()
        .batch_execute("CREATE TABLE slow_marker ()")
        .unwrap();
    let mut child = pgstrata_for(&db, &project.path)
        .arg("up")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_statement(&db, "pg_sleep");
    let started = Instant::now();
    assert_eq!(interrupt(&mut child), 130);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the statement was cancelled, not waited for"
    );
    let mut client = db.connect();
    assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
    assert!(!relation_exists(&mut client, "big"), "V2 left nothing");
    // The lock went with the session: the next run is not kept waiting.
    client.batch_execute("DROP TABLE slow_marker").unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-wait", "5"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(history(&mut client).len(), 2);
}

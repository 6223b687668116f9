//! Regressions found by a hostile review of the lock-safety work: places where pgstrata waited
//! for a lock without the lock timeout while holding the migration's locks, and a retry that
//! repeated committed work.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{TempDir, TestDb, history, pgstrata, pgstrata_for, run};

/// Runs `sql` in a transaction on its own connection and stays idle in it until told to
/// commit (or until `hold` has passed). Returns its pid and the channel that ends it.
fn hold(db: &TestDb, sql: &str, hold: Duration) -> (i32, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let mut client = db.connect();
    let sql = sql.to_string();
    let handle = thread::spawn(move || {
        let mut tx = client.transaction().unwrap();
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        tx.batch_execute(&sql).unwrap();
        pid_tx.send(pid).unwrap();
        let _ = stop_rx.recv_timeout(hold);
        tx.commit().unwrap();
    });
    (pid_rx.recv().unwrap(), stop_tx, handle)
}

fn two_tables() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id int);\nINSERT INTO items SELECT generate_series(1, 100);\n",
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

/// The session reset (RESET ALL) ended the file's own lock_timeout before the history row was
/// written: a lock on pgstrata.history made the migration wait, its ACCESS EXCLUSIVE lock on
/// `items` held, under the run's limit (here none) instead of the file's, for as long as that
/// lock lasted, with no retry and no report.
#[test]
fn the_history_row_is_written_under_the_files_lock_timeout() {
    let db = TestDb::new();
    let project = two_tables();
    project.write(
        "migrations/V2__note.sql",
        "-- pgstrata:lock-timeout 200ms
ALTER TABLE items ADD COLUMN note text;
",
    );
    project.write(
        "rollbacks/V2__note.sql",
        "-- pgstrata:lock-timeout 200ms
ALTER TABLE items DROP COLUMN note;
",
    );
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    for command in ["up", "down"] {
        if command == "down" {
            assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
        }
        let before = history(&mut db.connect());
        let (holder, release, holding) = hold(
            &db,
            "LOCK pgstrata.history IN SHARE MODE",
            Duration::from_secs(8),
        );
        let started = Instant::now();
        let (code, _, err) = run(pgstrata_for(&db, &project.path).args([
            command,
            "--lock-timeout",
            "0",
            "--lock-retries",
            "1",
        ]));
        let took = started.elapsed();
        let _ = release.send(());
        holding.join().unwrap();
        assert_eq!(code, 2, "{command}: {err}");
        assert!(took < Duration::from_secs(6), "{command} waited {took:?}");
        assert!(err.contains(&format!("pid {holder}")), "{command}: {err}");
        assert_eq!(
            history(&mut db.connect()),
            before,
            "{command}: nothing recorded"
        );
    }
}

/// Dropping the invalid index of a failed CREATE INDEX CONCURRENTLY set lock_timeout to 0 for
/// the session: the retry and every later statement of the file ran without the file's limit.
#[test]
fn a_dropped_invalid_index_leaves_the_files_lock_timeout_in_force() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id int);\nINSERT INTO items SELECT generate_series(1, 100);\n",
        ),
        ("rollbacks/V1__items.sql", "DROP TABLE items;\n"),
        (
            "migrations/V2__index.sql",
            "-- pgstrata:no-transaction\n-- pgstrata:lock-timeout 300ms\n\
             CREATE INDEX CONCURRENTLY items_id ON items (id);\n\
             CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lock_timeout;\n",
        ),
        (
            "rollbacks/V2__index.sql",
            "-- pgstrata:no-transaction\nDROP TABLE seen;\nDROP INDEX CONCURRENTLY items_id;\n",
        ),
    ]);
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    // A writer of `items`: CREATE INDEX CONCURRENTLY creates its (invalid) index, then waits
    // for it, times out, and leaves the index for pgstrata to drop.
    let (_, _release, writing) = hold(
        &db,
        "INSERT INTO items VALUES (0)",
        Duration::from_millis(1500),
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    writing.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("lock wait: migration 2 (index)"), "{err}");
    let seen: String = db
        .connect()
        .query_one("SELECT lock_timeout FROM seen", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, "300ms");
}

/// A no-transaction `CALL` (or `DO`) that committed part of its work and then lost a lock race
/// was run again: its committed rows were written once per attempt.
#[test]
fn a_call_that_may_have_committed_is_not_retried() {
    for (name, statement) in [
        ("call", "CALL backfill();"),
        (
            "do",
            "DO $$ BEGIN INSERT INTO log VALUES ('batch'); COMMIT; \
             ALTER TABLE items ADD COLUMN x int; END $$;",
        ),
    ] {
        let db = TestDb::new();
        let project = TempDir::with_files(&[
            (
                "migrations/V1__items.sql",
                "CREATE TABLE items (id int);\nCREATE TABLE log (msg text);\n\
                 CREATE PROCEDURE backfill() LANGUAGE plpgsql AS $$ BEGIN \
                 INSERT INTO log VALUES ('batch'); COMMIT; \
                 ALTER TABLE items ADD COLUMN x int; END $$;\n",
            ),
            (
                "rollbacks/V1__items.sql",
                "DROP PROCEDURE backfill();\nDROP TABLE log;\nDROP TABLE items;\n",
            ),
            (
                &format!("migrations/V2__{name}.sql"),
                &format!("-- pgstrata:no-transaction\n{statement}\n"),
            ),
            (
                &format!("rollbacks/V2__{name}.sql"),
                "ALTER TABLE items DROP COLUMN x;\n",
            ),
        ]);
        assert_eq!(
            run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
            0
        );
        let (_, release, holding) =
            hold(&db, "SELECT count(*) FROM items", Duration::from_secs(10));
        let (code, _, err) =
            run(pgstrata_for(&db, &project.path).args(["up", "--lock-timeout", "200ms"]));
        let _ = release.send(());
        holding.join().unwrap();
        assert_eq!(code, 2, "{name}: {err}");
        assert!(!err.contains("lock wait:"), "{name}: not retried: {err}");
        // The error says why, and does not suggest more retries, which would change nothing.
        assert!(err.contains("it is not retried: a CALL"), "{name}: {err}");
        assert!(!err.contains("--lock-retries (now"), "{name}: {err}");
        assert!(!err.contains("rolled back"), "{name}: {err}");
        let mut client = db.connect();
        let batches: i64 = client
            .query_one("SELECT count(*) FROM log", &[])
            .unwrap()
            .get(0);
        assert_eq!(batches, 1, "{name}: the committed part ran once");
        assert_eq!(
            history(&mut client).last(),
            Some(&(2, "running".into())),
            "{name}"
        );
    }
}

/// A role that may not read another role's row of pg_stat_activity sees its client address as
/// NULL, as for a Unix socket: the blocker was reported as `client local` whatever its address.
#[test]
fn a_blocker_this_role_may_not_see_is_not_called_local() {
    let db = TestDb::new();
    let role = format!("lock_gaps_{}", std::process::id());
    let mut admin = db.connect();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; \
             GRANT ALL ON DATABASE \"{}\" TO {role}; GRANT ALL ON SCHEMA public TO {role};",
            db.name
        ))
        .unwrap();
    let project = two_tables();
    let as_role = |args: &[&str]| {
        let mut command = pgstrata();
        command.arg("--dir").arg(&project.path);
        command.args(["--database-url", &format!("{} user={role}", db.conninfo)]);
        run(command.args(args))
    };
    let (code, _, err) = as_role(&["up", "--to", "1"]);
    assert_eq!(code, 0, "{err}");
    let (holder, release, holding) =
        hold(&db, "SELECT count(*) FROM items", Duration::from_secs(10));
    let (code, _, err) = as_role(&["up", "--lock-timeout", "300ms", "--lock-retries", "0"]);
    let _ = release.send(());
    holding.join().unwrap();
    let _ = admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("pid {holder} ")), "{err}");
    assert!(err.contains("client ?"), "{err}");
    assert!(!err.contains("client local"), "{err}");
}

/// After a short lock wait the watcher kept the blockers it had seen: ten seconds later the
/// progress line still said the migration was waiting for a lock, blocked by a session long
/// gone (whose pid may by then belong to another), while it was running its next statement.
#[test]
fn a_progress_line_does_not_name_a_blocker_that_is_gone() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__items.sql", "CREATE TABLE items (id int);\n"),
        ("rollbacks/V1__items.sql", "DROP TABLE items;\n"),
        (
            "migrations/V2__work.sql",
            "ALTER TABLE items ADD COLUMN note text;\nSELECT pg_sleep(10.5);\n",
        ),
        (
            "rollbacks/V2__work.sql",
            "ALTER TABLE items DROP COLUMN note;\n",
        ),
    ]);
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"])).0,
        0
    );
    // Held for less than the lock timeout but long enough for the watcher (which asks every
    // second here) to see the wait: the ALTER waits, then goes through.
    let (holder, _release, holding) = hold(
        &db,
        "SELECT count(*) FROM items",
        Duration::from_millis(1600),
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--lock-timeout", "5s"]));
    holding.join().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("still running after 10 s"), "{err}");
    assert!(!err.contains(&format!("pid {holder} ")), "{err}");
}

/// `SET lock_timeout TO DEFAULT` is `RESET lock_timeout` under another name (refused in a
/// transactional file), and `pg_advisory_unlock_all()` is the function form of what DISCARD
/// ALL does to advisory locks (refused everywhere): both ran, lifting the file's limit (a
/// reader queued behind the waiting ALTER for as long as the holder held on) or releasing the
/// migration lock mid-run (a second run applied the same migration concurrently).
#[test]
fn reset_and_discard_all_in_other_words_are_refused_at_load() {
    for (file, refused) in [
        (
            "SET lock_timeout TO DEFAULT;\nALTER TABLE items ADD COLUMN note text;\n",
            "`SET lock_timeout TO DEFAULT` would lift the lock_timeout",
        ),
        (
            "SELECT pg_advisory_unlock_all();\nALTER TABLE items ADD COLUMN note text;\n",
            "`SELECT pg_advisory_unlock_all()` releases every advisory lock of the session",
        ),
        (
            "-- pgstrata:no-transaction\nSELECT pg_advisory_unlock_all();\n\
             ALTER TABLE items ADD COLUMN note text;\n",
            "`SELECT pg_advisory_unlock_all()` releases every advisory lock of the session",
        ),
    ] {
        let db = TestDb::new();
        let project = two_tables();
        project.write("migrations/V2__note.sql", file);
        let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("migrations/V2__note.sql:"), "{err}");
        assert!(err.contains(refused), "{err}");
        assert!(history(&mut db.connect()).is_empty(), "nothing ran: {err}");
    }
}

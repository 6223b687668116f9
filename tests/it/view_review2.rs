//! A second hostile review of managed views: readers in a second connection while views are
//! rebuilt, no-transaction files, migrations refused because of views, dry runs and objects
//! attached to views. Each test states what is expected and why, and what the review observed
//! (every test here failed when it was written, and passes since the fix).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::harness::{TempDir, TestDb, pgstrata_for, run};
use crate::view_graphs::{count, ok};

fn go(db: &TestDb, p: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata_for(db, &p.path).args(args))
}

fn exists(db: &TestDb, name: &str) -> bool {
    db.connect()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .unwrap()
        .get(0)
}

/// A reader in a second connection, looping `SELECT count(*) FROM <view>` under a short
/// statement_timeout until stopped; it keeps every error it saw.
struct Reader {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(u64, Vec<String>)>,
}

impl Reader {
    fn start(db: &TestDb, view: &str) -> Reader {
        let mut client = db.connect();
        client
            .batch_execute("SET statement_timeout = '3s'")
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let sql = format!("SELECT count(*) FROM {view}");
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let (mut reads, mut errors) = (0u64, Vec::new());
            while !flag.load(Ordering::Relaxed) {
                match client.query_one(sql.as_str(), &[]) {
                    Ok(_) => reads += 1,
                    Err(err) => errors.push(match err.as_db_error() {
                        Some(db) => format!("{}: {}", db.code().code(), db.message()),
                        None => err.to_string(),
                    }),
                }
            }
            (reads, errors)
        });
        // Let it read a few times first.
        std::thread::sleep(Duration::from_millis(100));
        Reader { stop, handle }
    }

    /// Stops the reader; returns how many reads succeeded and the errors it saw.
    fn stop(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("the reader panicked")
    }
}

/// README, "Names": a view's query is matched to the managed views it reads, "a `WITH` query's
/// own names excepted". But a non-recursive CTE's name is not in scope inside its own body:
/// in `WITH big AS (SELECT * FROM big WHERE …) SELECT … FROM big` the inner `big` is the
/// managed view `big` (a common way to filter a view under its own name). pgstrata excepts
/// every unqualified `big` in the query, so `report` is taken to read nothing:
/// - on a fresh database `report` (views/a_report.sql) is created before `big`
///   (views/z_big.sql) and fails with 42P01 (observed: `up` exits 2, "relation "big" does
///   not exist", with the server's own hint that the WITH item cannot be referenced there);
/// - `report` does not inherit `big`'s `requires V2`, so `down` of V2 cannot drop `big`
///   (observed: exit 2 again, "relation "big" does not exist" while restoring `report`).
///
/// Expected: `report` is created after `big`, needs V2 like it, and follows it down and up.
#[test]
fn a_cte_reading_the_view_it_shadows_is_a_read_of_that_view() {
    let db = TestDb::new();
    let p = crate::view_graphs::tables();
    p.write(
        "views/z_big.sql",
        "-- pgstrata:requires V2\n\
         CREATE VIEW big AS SELECT o.id, o.total FROM orders o JOIN refunds r ON r.order_id = o.id;\n",
    );
    p.write(
        "views/a_report.sql",
        "CREATE VIEW report AS \
         WITH big AS (SELECT * FROM big WHERE total > 10) SELECT id FROM big;\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 0, "report must be created after big:\n{out}\n{err}");
    assert!(exists(&db, "report") && exists(&db, "big"));
    let (code, out, err) = go(&db, &p, &["down"]);
    assert_eq!(code, 0, "report needs V2 through big:\n{out}\n{err}");
    assert!(!exists(&db, "report") && !exists(&db, "big"));
    assert!(!exists(&db, "refunds"));
}

/// README, "Migrations that drop what a view reads": "A migration or rollback the server
/// refuses because managed views depend on what it drops or retypes (2BP01, 0A000) runs again,
/// in one transaction, with the managed views dropped before it and created again". No
/// exception is made for a `-- pgstrata:no-transaction` migration, whose statements each run
/// in a transaction of their own: the refused `ALTER TABLE … TYPE` could run between the view
/// drops and creates like any other.
///
/// Observed: the migration fails on its first statement with 0A000 ("cannot alter type of a
/// column used by a view or rule"), nothing of it ran, yet it is left `running` (dirty) and
/// every later `up` needs `pgstrata repair`.
///
/// Expected: the statement runs around the views and the migration is applied; or, at the
/// very least, a migration that committed nothing is not left dirty (no history row).
#[test]
fn a_no_transaction_migration_refused_because_of_a_view_is_not_left_dirty() {
    let db = TestDb::new();
    let p = crate::view_graphs::tables();
    p.write(
        "views/report.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW report AS SELECT id, total FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "migrations/V3__retype.sql",
        "-- pgstrata:no-transaction\n\
         ALTER TABLE orders ALTER COLUMN total TYPE int;\n\
         CREATE INDEX CONCURRENTLY orders_total ON orders (total);\n",
    );
    p.write(
        "rollbacks/V3__retype.sql",
        "-- pgstrata:no-transaction\n\
         DROP INDEX CONCURRENTLY orders_total;\n\
         ALTER TABLE orders ALTER COLUMN total TYPE numeric;\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    let state: Option<String> = db
        .connect()
        .query_opt("SELECT state FROM pgstrata.history WHERE version = 3", &[])
        .unwrap()
        .map(|row| row.get(0));
    if code == 0 {
        assert_eq!(state.as_deref(), Some("applied"), "{out}\n{err}");
        assert!(exists(&db, "report"));
    } else {
        assert_eq!(
            state, None,
            "nothing of V3 ran, yet it is left dirty:\n{out}\n{err}"
        );
    }
}

/// README, "Materialized views": "An unchanged file leaves the view and its data alone:
/// pgstrata never refreshes one". V2 drops `orders.note`, which only `base` reads (its file
/// changes in the same commit). The refused migration runs again around "the managed views",
/// and pgstrata drops and creates again EVERY managed view, so the materialized view
/// `stock_mv`, which reads only `stock`, is re-populated.
///
/// Observed: `up` reports `recreated public.stock_mv` (and `stock_v`), and `stock_mv` now
/// counts 3 rows instead of the 1 of its last REFRESH.
///
/// Expected: only the views in the migration's way (and their dependents) are dropped and
/// created again; `stock_mv` keeps its oid and its data.
#[test]
fn a_migration_refused_for_one_view_leaves_unrelated_materialized_views_alone() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE orders (id int, total numeric, note text);\n\
             CREATE TABLE stock (id int);\nINSERT INTO stock VALUES (1);\n",
        ),
        (
            "rollbacks/V1__t.sql",
            "DROP TABLE orders;\nDROP TABLE stock;\n",
        ),
        (
            "views/base.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW base AS SELECT id, total, note FROM orders;\n",
        ),
        (
            "views/stock_mv.sql",
            "-- pgstrata:requires V1\n\
             CREATE MATERIALIZED VIEW stock_mv AS SELECT count(*) AS n FROM stock;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    db.connect()
        .batch_execute("INSERT INTO stock VALUES (2), (3)")
        .unwrap();
    let before = crate::view_graphs::oid(&db, "stock_mv");
    p.write(
        "migrations/V2__drop_note.sql",
        "ALTER TABLE orders DROP COLUMN note;\n",
    );
    p.write(
        "rollbacks/V2__drop_note.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    p.write(
        "views/base.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW base AS SELECT id, total FROM orders;\n",
    );
    let out = ok(&db, &p, &["up"]);
    assert!(
        !out.contains("stock_mv"),
        "stock_mv reads nothing V2 touches and its file is unchanged:\n{out}"
    );
    assert_eq!(crate::view_graphs::oid(&db, "stock_mv"), before);
    assert_eq!(
        count(&db, "SELECT n FROM stock_mv"),
        1,
        "pgstrata refreshed a materialized view whose file did not change"
    );
}

/// Same shape: a view that no file manages (`legacy`) reads the managed view `stock_v`,
/// which reads only `stock`. V2 drops `orders.note`, which only the managed view `base`
/// reads. `legacy` has nothing to do with V2, and the README's rule ("A dependent view that
/// no file manages stops the rebuild") is about rebuilding the view it depends on, which
/// nothing here asks for.
///
/// Observed: `up` exits 2: "the view public.legacy depends on public.stock_v, which must be
/// dropped and created again, but no file in views/ manages public.legacy".
///
/// Expected: V2 is applied (only `base`, which is in its way, is dropped and created again).
#[test]
fn an_unmanaged_view_on_an_unrelated_managed_view_does_not_block_a_migration() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE orders (id int, total numeric, note text);\n\
             CREATE TABLE stock (id int);\n",
        ),
        (
            "rollbacks/V1__t.sql",
            "DROP TABLE orders;\nDROP TABLE stock;\n",
        ),
        (
            "views/base.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW base AS SELECT id, total, note FROM orders;\n",
        ),
        (
            "views/stock_v.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW stock_v AS SELECT id FROM stock;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    db.connect()
        .batch_execute("CREATE VIEW legacy AS SELECT * FROM stock_v")
        .unwrap();
    p.write(
        "migrations/V2__drop_note.sql",
        "ALTER TABLE orders DROP COLUMN note;\n",
    );
    p.write(
        "rollbacks/V2__drop_note.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    p.write(
        "views/base.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW base AS SELECT id, total FROM orders;\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 0, "legacy is not in V2's way:\n{out}\n{err}");
    assert!(exists(&db, "legacy") && exists(&db, "base"));
}

/// README, "What you get": views are rebuilt "so readers never see a missing view"; and
/// "`requires`": a `down` of V5 drops the views needing it "then creates again the managed
/// views that depended on them and are still wanted, in that same transaction". For a
/// `-- pgstrata:no-transaction` rollback the views needing V2 are dropped in a transaction
/// committed before the rollback runs, and the still-wanted dependents are left for the
/// rebuild after the whole run.
///
/// Here `summary` was built reading `tagged` (requires V2); its file now reads `orders`
/// only, so it is wanted at V1 and can be created at once, before the rollback runs.
///
/// Observed: while the rollback runs (its `pg_sleep` stands for a slow `DROP INDEX
/// CONCURRENTLY`), a reader of `summary` gets 42P01 "relation "summary" does not exist"
/// thousands of times; it comes back only after the rollback.
///
/// Expected: `summary` is dropped and created again in the transaction that drops `tagged`
/// (it does not need what the rollback removes), so a reader never misses it.
#[test]
fn a_no_transaction_rollback_never_leaves_a_wanted_view_missing_while_it_runs() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__o.sql",
            "CREATE TABLE orders (id int, total numeric);\nINSERT INTO orders VALUES (1, 1);\n",
        ),
        ("rollbacks/V1__o.sql", "DROP TABLE orders;\n"),
        (
            "migrations/V2__tag.sql",
            "-- pgstrata:no-transaction\n\
             ALTER TABLE orders ADD COLUMN tag text;\n\
             CREATE INDEX CONCURRENTLY orders_tag ON orders (tag);\n",
        ),
        (
            "rollbacks/V2__tag.sql",
            "-- pgstrata:no-transaction\n\
             DROP INDEX CONCURRENTLY orders_tag;\n\
             SELECT pg_sleep(0.8);\n\
             ALTER TABLE orders DROP COLUMN tag;\n",
        ),
        (
            "views/tagged.sql",
            "-- pgstrata:requires V2\n\
             CREATE OR REPLACE VIEW tagged AS SELECT id, tag FROM orders;\n",
        ),
        (
            "views/summary.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW summary AS SELECT t.id FROM tagged t;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    p.write(
        "views/summary.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW summary AS SELECT o.id FROM orders o;\n",
    );
    let reader = Reader::start(&db, "summary");
    let (code, out, err) = go(&db, &p, &["down"]);
    let (reads, errors) = reader.stop();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(exists(&db, "summary") && !exists(&db, "tagged"));
    assert!(reads > 0, "the reader never read");
    let missing = errors.iter().filter(|e| e.starts_with("42P01")).count();
    assert_eq!(
        missing,
        0,
        "a reader saw summary, which has a file and is wanted, missing {missing} times \
         during the down (first: {:?})",
        errors.first()
    );
}

/// README, "How it is replaced": an incompatible change drops the view "and the managed views
/// depending on it" and creates them again; "A dependent view that no file manages stops the
/// rebuild, which changes nothing and names it". A view file may hold only the view and
/// statements about it, so an INSTEAD OF trigger (the way to make a join view writable) can
/// only come from a migration. DROP VIEW takes the view's triggers with it without CASCADE.
///
/// Observed: after a column is removed from `report`'s file, `up` says `recreated
/// public.report`, exits 0, and the trigger V2 made is gone: inserts through the view now
/// go straight to the table without the trigger (note is NULL, not 'via view'), `status` is
/// clean, and V2's rollback (`DROP TRIGGER report_ins ON report`) would now fail.
///
/// Expected: like an unmanaged dependent view, a trigger (or rule) on the managed view that
/// pgstrata cannot create again stops the rebuild, names it and changes nothing; never a
/// silent loss.
#[test]
fn recreating_a_view_never_silently_drops_a_trigger_a_migration_put_on_it() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__o.sql",
            "CREATE TABLE orders (id int, total numeric, note text);\n",
        ),
        ("rollbacks/V1__o.sql", "DROP TABLE orders;\n"),
        (
            "views/report.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW report AS SELECT id, total, note FROM orders;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    p.write(
        "migrations/V2__trigger.sql",
        "CREATE FUNCTION report_ins() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN INSERT INTO orders VALUES (NEW.id, NEW.total, 'via view'); RETURN NEW; END $$;\n\
         CREATE TRIGGER report_ins INSTEAD OF INSERT ON report\n\
         FOR EACH ROW EXECUTE FUNCTION report_ins();\n",
    );
    p.write(
        "rollbacks/V2__trigger.sql",
        "DROP TRIGGER report_ins ON report;\nDROP FUNCTION report_ins();\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "views/report.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW report AS SELECT id, total FROM orders;\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    let triggers = count(
        &db,
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'report'::regclass",
    );
    assert_eq!(
        triggers, 1,
        "the INSTEAD OF trigger on report was dropped silently (exit {code}):\n{out}\n{err}"
    );
}

/// README, "Dry runs": each view is reported "as created, replaced, recreated (with the
/// managed views that depend on it), renamed or dropped". `base.sql` is deleted and `mid`
/// (which reads `base`, and which the materialized view `mv` reads) now reads `orders`. The
/// server says `mid` depends on `base`, so dropping `base` takes `mid` and `mv` with it: the
/// dry run can know this (it asks the server for dependents when it reports `recreated`).
///
/// Observed: the dry run reports `base dropped, mid replaced`; the real run reports `base
/// dropped, mid recreated, mv recreated` (mv is dropped and re-populated without the dry run
/// saying so).
///
/// Expected: the dry run names the same views as the real run, with the same actions.
#[test]
fn a_dry_run_of_a_deleted_view_names_the_views_made_again_with_it() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__o.sql",
            "CREATE TABLE orders (id int, total numeric, note text);\n",
        ),
        ("rollbacks/V1__o.sql", "DROP TABLE orders;\n"),
        (
            "views/base.sql",
            "-- pgstrata:requires V1\n\
             CREATE OR REPLACE VIEW base AS SELECT id, total, note FROM orders;\n",
        ),
        (
            "views/mid.sql",
            "CREATE OR REPLACE VIEW mid AS SELECT id, total FROM base;\n",
        ),
        (
            "views/mv.sql",
            "CREATE MATERIALIZED VIEW mv AS SELECT id FROM mid;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    std::fs::remove_file(p.path.join("views/base.sql")).unwrap();
    p.write(
        "views/mid.sql",
        "-- pgstrata:requires V1\n\
         CREATE OR REPLACE VIEW mid AS SELECT id, total FROM orders;\n",
    );
    let views = |args: &[&str]| -> Vec<(String, String)> {
        let out = ok(&db, &p, args);
        let report: serde_json::Value = serde_json::from_str(&out).expect("one JSON report");
        let mut views: Vec<(String, String)> = report["views"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["view"].as_str().unwrap().to_string(),
                    v["action"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        views.sort();
        views
    };
    let dry = views(&["up", "--dry-run", "--format", "json"]);
    let real = views(&["up", "--format", "json"]);
    assert_eq!(dry, real, "the dry run and the real run differ");
}

/// A no-transaction rollback of V2 fails half-way: V2 is `reverting` (dirty), and the view
/// requiring V2 was dropped before the rollback ran. `status` then says `1 view to rebuild
/// (`pgstrata up` does it)`, but `up` refuses a dirty database (exit 2, "repair" first).
///
/// Observed: the hint sends the user to a command that refuses to run.
///
/// Expected: while a version is dirty, `status` does not offer `pgstrata up` for the views;
/// it points at `pgstrata repair` (which it already names on the version's line).
#[test]
fn status_of_a_dirty_database_does_not_offer_up_to_rebuild_views() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__o.sql",
            "CREATE TABLE orders (id int, total numeric);\n",
        ),
        ("rollbacks/V1__o.sql", "DROP TABLE orders;\n"),
        (
            "migrations/V2__tag.sql",
            "-- pgstrata:no-transaction\n\
             ALTER TABLE orders ADD COLUMN tag text;\n\
             CREATE INDEX CONCURRENTLY orders_tag ON orders (tag);\n",
        ),
        (
            "rollbacks/V2__tag.sql",
            "-- pgstrata:no-transaction\n\
             DROP INDEX CONCURRENTLY orders_tag;\n\
             SELECT 1/0;\n\
             ALTER TABLE orders DROP COLUMN tag;\n",
        ),
        (
            "views/tagged.sql",
            "-- pgstrata:requires V2\n\
             CREATE OR REPLACE VIEW tagged AS SELECT id, tag FROM orders;\n",
        ),
    ]);
    ok(&db, &p, &["up"]);
    let (code, _, _) = go(&db, &p, &["down", "--allow-data-loss"]);
    assert_eq!(code, 2);
    let status = ok(&db, &p, &["status"]);
    let (code, _, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "up refuses a dirty database: {err}");
    assert!(
        !status.contains("`pgstrata up` does it"),
        "status offers `pgstrata up`, which refuses to run:\n{status}"
    );
}

//! A hostile review of managed views: shapes and sequences the first tests did not try. Each
//! test states what is expected and why, and what the review observed before it was fixed
//! (every one of them failed then).

use std::fs;

use crate::harness::{TempDir, TestDb, pgstrata_for, relation_exists, run};
use crate::view_graphs::{count, oid, ok, tables};

fn go(db: &TestDb, p: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata_for(db, &p.path).args(args))
}

fn exists(db: &TestDb, name: &str) -> bool {
    db.connect()
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .unwrap()
        .get(0)
}

/// A no-op `up` prints no view line.
fn quiet_up(db: &TestDb, p: &TempDir) {
    let out = ok(db, p, &["up"]);
    assert!(!out.contains("view "), "a no-op up changed views:\n{out}");
}

/// A CTE is not a relation: `WITH refunded AS (...) SELECT ... FROM refunded` reads no
/// managed view, even when a managed view is called `refunded`. Expected: `report`, which
/// reads only `orders` (V1), exists at V1. A CTE name taken for a read of the managed view
/// `refunded` (which requires V2) makes `report` need V2 too.
#[test]
fn a_cte_named_like_a_managed_view_does_not_borrow_its_requires() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW refunded AS SELECT order_id, amount FROM refunds;\n",
    );
    p.write(
        "views/report.sql",
        "CREATE OR REPLACE VIEW report AS \
         WITH refunded AS (SELECT id FROM orders WHERE total > 10) SELECT id FROM refunded;\n",
    );
    ok(&db, &p, &["up", "--to", "1"]);
    assert!(
        exists(&db, "report"),
        "report reads only orders: it is wanted at V1"
    );
    quiet_up_to(&db, &p, "1");
}

fn quiet_up_to(db: &TestDb, p: &TempDir, to: &str) {
    let out = ok(db, p, &["up", "--to", to]);
    assert!(!out.contains("view "), "a no-op up changed views:\n{out}");
}

/// The same CTE confusion orders views wrongly: `report`'s CTE is called `a_base`, and the real
/// view `a_base` reads `report`. On a fresh database `report` must be created first (it reads
/// only `orders`); taking the CTE for a read of `a_base` makes a cycle, broken by file name, so
/// `a_base.sql` runs first and fails with 42P01 (relation "report" does not exist).
#[test]
fn a_cte_named_like_a_managed_view_does_not_reorder_creation() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/b_report.sql",
        "CREATE VIEW report AS \
         WITH a_base AS (SELECT id FROM orders) SELECT id FROM a_base;\n",
    );
    p.write(
        "views/a_base.sql",
        "CREATE VIEW a_base AS SELECT id FROM report;\n",
    );
    ok(&db, &p, &["up"]);
    assert!(exists(&db, "a_base") && exists(&db, "report"));
    quiet_up(&db, &p);
}

/// With `search_path = app, public`, an unqualified name in a view's query is found in `app`
/// first, then in `public`. `app.a` reads `z`, the managed view `public.z`: `z` must be created
/// first on a fresh database (README: "Views are created after the managed views their query
/// reads"). Resolving every unqualified read in the current schema only (`app.z`, which is not
/// managed) misses the edge, and `a.sql` runs first and fails.
#[test]
fn an_unqualified_read_found_later_in_the_search_path_orders_creation() {
    let db = TestDb::new();
    db.connect()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET search_path = app, public",
            db.name
        ))
        .unwrap();
    let p = TempDir::with_files(&[
        ("migrations/V1__app.sql", "CREATE SCHEMA app;\n"),
        ("rollbacks/V1__app.sql", "DROP SCHEMA app;\n"),
        ("views/a.sql", "CREATE VIEW app.a AS SELECT one FROM z;\n"),
        ("views/z.sql", "CREATE VIEW public.z AS SELECT 1 AS one;\n"),
    ]);
    ok(&db, &p, &["up"]);
    assert!(exists(&db, "app.a") && exists(&db, "public.z"));
    quiet_up(&db, &p);
}

/// A companion statement must be about the file's own view. `views/secrets.sql` manages
/// `app.secrets`, then says `GRANT SELECT ON secrets TO PUBLIC`: unqualified, that name is
/// found through search_path (public), i.e. the TABLE `public.secrets`, not the view. The load
/// check accepts it because it compares names only when both give a schema; the rebuild then
/// grants every role read access to a table, on every rebuild. Expected: a load error at the
/// GRANT (or a GRANT that lands on app.secrets); the table's privileges untouched.
#[test]
fn an_unqualified_companion_is_not_taken_for_a_view_in_another_schema() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__secrets.sql",
            "CREATE SCHEMA app;\nCREATE TABLE public.secrets (password text);\n",
        ),
        (
            "rollbacks/V1__secrets.sql",
            "DROP TABLE public.secrets;\nDROP SCHEMA app;\n",
        ),
        (
            "views/secrets.sql",
            "CREATE VIEW app.secrets AS SELECT 1 AS one;\n\
             GRANT SELECT ON secrets TO PUBLIC;\n",
        ),
    ]);
    // Refused when the project loads: the GRANT must name the view as its CREATE does.
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("views/secrets.sql:2:1: `GRANT SELECT ON secrets` is about secrets"),
        "{err}"
    );
    assert!(
        !relation_exists(&mut db.connect(), "secrets"),
        "nothing ran"
    );
}

/// V3 retypes a column a managed view (no `requires`: it is wanted at every version) reads.
/// `up` handles it (the migration runs again with the views dropped and made again in its
/// transaction). Its rollback retypes the column back and meets the same 0A000 ("cannot alter
/// type of a column used by a view or rule"): expected the same treatment, so that `down`
/// (and `check`, which rolls back every migration) works. Observed: `down` fails, exit 2.
#[test]
fn a_rollback_retyping_a_column_a_view_reads_is_run_around_the_views_like_its_migration() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/totals.sql",
        "CREATE OR REPLACE VIEW totals AS SELECT id, total FROM orders;\n",
    );
    p.write(
        "migrations/V3__int_totals.sql",
        "ALTER TABLE orders ALTER COLUMN total TYPE int;\n",
    );
    p.write(
        "rollbacks/V3__int_totals.sql",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric;\n",
    );
    ok(&db, &p, &["up"]);
    assert_eq!(count(&db, "SELECT count(*) FROM totals"), 2);
    let (code, out, err) = go(&db, &p, &["down"]);
    assert_eq!(code, 0, "down of V3\n{out}\n{err}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgstrata.history WHERE version = 3"
        ),
        0
    );
    assert_eq!(count(&db, "SELECT count(*) FROM totals"), 2);
    quiet_up_to(&db, &p, "2");
}

/// `up` and `redo` drop the views whose files are gone before any migration runs, so that a
/// migration may drop what they read; `down` does not. Delete `views/refunded.sql` and roll
/// back V2 (`DROP TABLE refunds`): expected the deleted view dropped first and the rollback
/// to succeed. Observed: the rollback fails on the view nobody manages any more (2BP01).
#[test]
fn down_drops_views_whose_files_are_gone_before_rolling_back() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW refunded AS SELECT order_id FROM refunds;\n",
    );
    ok(&db, &p, &["up"]);
    fs::remove_file(p.path.join("views/refunded.sql")).unwrap();
    let (code, out, err) = go(&db, &p, &["down"]);
    assert_eq!(code, 0, "down of V2\n{out}\n{err}");
    assert!(!exists(&db, "refunds") && !exists(&db, "refunded"));
    assert_eq!(count(&db, "SELECT count(*) FROM pgstrata.views"), 0);
}

/// `base.sql` is deleted while `top.sql` (still a file) reads `base`. The run cannot end
/// well: `top` cannot be created without `base`. Expected: refused before anything runs
/// (naming top.sql and the view it reads), with `top` still in place and no migration
/// committed; README: readers never see a missing view that still has a file. Observed:
/// `base` and `top` are dropped and committed before the migrations, the pending migration
/// is committed, the rebuild fails, and `top` is left missing.
#[test]
fn deleting_a_view_that_a_view_with_a_file_reads_changes_nothing() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/base.sql",
        "CREATE OR REPLACE VIEW base AS SELECT id, total FROM orders;\n",
    );
    p.write(
        "views/top.sql",
        "CREATE OR REPLACE VIEW top AS SELECT id FROM base;\n",
    );
    ok(&db, &p, &["up", "--to", "1"]);
    fs::remove_file(p.path.join("views/base.sql")).unwrap();
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_ne!(code, 0, "top reads a view that is gone\n{out}\n{err}");
    assert!(
        exists(&db, "top"),
        "top still has its file, and was dropped\n{out}\n{err}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgstrata.history WHERE version = 2"
        ),
        0,
        "a run doomed from the start committed V2\n{out}\n{err}"
    );
}

/// A migration retypes a column every view reads, so it runs again around the views; one
/// view's new file reads a column that V4 adds, so it cannot be made right after V3. Only that
/// view should wait for the rebuild (README: "A view whose new file needs what a later
/// migration of the same run creates is left to the rebuild after the migrations"). Observed:
/// every view dropped around V3 is left out of the restore, and when a later migration fails
/// the rebuild never runs, so `plain`, whose file never changed, is left missing.
#[test]
fn one_view_that_must_wait_for_a_later_migration_does_not_take_the_others_down() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/plain.sql",
        "CREATE OR REPLACE VIEW plain AS SELECT id, total FROM orders;\n",
    );
    p.write(
        "views/later.sql",
        "CREATE OR REPLACE VIEW later AS SELECT id, total FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "views/later.sql",
        "CREATE OR REPLACE VIEW later AS SELECT id, total, tax FROM orders;\n",
    );
    p.write(
        "migrations/V3__int_totals.sql",
        "ALTER TABLE orders ALTER COLUMN total TYPE int;\n",
    );
    p.write(
        "rollbacks/V3__int_totals.sql",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric;\n",
    );
    p.write(
        "migrations/V4__tax.sql",
        "ALTER TABLE orders ADD COLUMN tax numeric;\nSELECT 1/0;\n",
    );
    p.write(
        "rollbacks/V4__tax.sql",
        "ALTER TABLE orders DROP COLUMN tax;\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "V4 fails\n{out}\n{err}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgstrata.history WHERE version = 3"
        ),
        1
    );
    assert!(
        exists(&db, "plain"),
        "plain's file never changed; it could be made again right after V3\n{out}\n{err}"
    );
}

/// Rolling back V2 drops `refunded` (requires V2) and `summary`, which reads it. `summary` is
/// dropped once; the report must say so once ("changed 2 views", as the dry run says).
/// Observed: `summary` is dropped as a dependent of `refunded`, then "dropped" again as one
/// of the doomed views that no longer exists: two lines, "changed 3 views", and the JSON
/// report lists it twice.
#[test]
fn a_view_dropped_with_what_it_reads_is_reported_once() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW refunded AS SELECT order_id, amount FROM refunds;\n",
    );
    p.write(
        "views/summary.sql",
        "CREATE OR REPLACE VIEW summary AS SELECT count(*) AS n FROM refunded;\n",
    );
    ok(&db, &p, &["up"]);
    let dry = ok(&db, &p, &["down", "--dry-run"]);
    assert!(dry.contains("would change 2 views"), "{dry}");
    let out = ok(&db, &p, &["down"]);
    assert_eq!(
        out.matches("dropped    public.summary").count(),
        1,
        "dry run:\n{dry}\nreal run:\n{out}"
    );
    assert!(out.contains("changed 2 views"), "{out}");
    ok(&db, &p, &["up"]);
    let (_, json, _) = go(&db, &p, &["down", "--format", "json"]);
    assert_eq!(json.matches("\"public.summary\"").count(), 1, "{json}");
}

/// A dry run reports what the run would do. Changing a materialized view's file always drops
/// and creates it again, with the managed views that read it (README): nothing the dry run
/// has to guess. Expected: the dry run names `mv` and `reader` as recreated (2 views).
/// Observed: "replaced public.mv", "would change 1 view"; the real run recreates 2.
#[test]
fn a_dry_run_of_a_changed_materialized_view_names_the_views_made_again_with_it() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/mv.sql",
        "CREATE MATERIALIZED VIEW mv AS SELECT id, total FROM orders;\n",
    );
    p.write(
        "views/reader.sql",
        "CREATE OR REPLACE VIEW reader AS SELECT id FROM mv;\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "views/mv.sql",
        "CREATE MATERIALIZED VIEW mv AS SELECT id, total, note FROM orders;\n",
    );
    let before = (oid(&db, "mv"), oid(&db, "reader"));
    let dry = ok(&db, &p, &["up", "--dry-run"]);
    assert_eq!(
        (oid(&db, "mv"), oid(&db, "reader")),
        before,
        "a dry run changed nothing"
    );
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("recreated  public.reader"), "{out}");
    assert!(
        dry.contains("public.reader") && dry.contains("would change 2 views"),
        "dry run:\n{dry}\nreal run:\n{out}"
    );
}

/// V3 drops the table `refunded` reads, and `views/refunded.sql` still reads it: nothing can
/// make that view again, and no later migration in the run could. Without pgstrata's retry the
/// server refuses the migration (2BP01), which is what protects the view. Expected: the
/// migration is refused (exit 2), nothing committed, `refunds` and `refunded` still there.
/// Observed: the retry drops the views, commits V3 with `refunded` missing (a note), and the
/// rebuild then fails: a view that still has a file is gone and a table dropped.
#[test]
fn a_migration_dropping_what_a_view_with_an_unchanged_file_reads_is_refused() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "CREATE OR REPLACE VIEW refunded AS SELECT order_id FROM refunds;\n",
    );
    ok(&db, &p, &["up"]);
    p.write("migrations/V3__no_refunds.sql", "DROP TABLE refunds;\n");
    p.write(
        "rollbacks/V3__no_refunds.sql",
        "CREATE TABLE refunds (order_id int REFERENCES orders, amount numeric);\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        exists(&db, "refunds") && exists(&db, "refunded"),
        "V3 was committed and a view with a file lost\n{out}\n{err}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgstrata.history WHERE version = 3"
        ),
        0
    );
}

/// README: `CREATE INDEX` is a companion "on a materialized view"; anything else is a load
/// error at its file:line:col, before anything runs. An index on a plain view is accepted at
/// load; the migrations are committed, and the rebuild then fails (42809).
#[test]
fn an_index_on_a_plain_view_is_a_load_error() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/v.sql",
        "CREATE VIEW v AS SELECT id FROM orders;\nCREATE INDEX ON v (id);\n",
    );
    let (code, out, err) = go(&db, &p, &["up"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("views/v.sql:2:1"), "{err}");
    assert!(
        !exists(&db, "orders"),
        "nothing should have run\n{out}\n{err}"
    );
}

/// A migration turns the managed view `report` into a table of the same name while
/// `views/report.sql` still defines the view. The view is gone; a table stands in its place.
/// Expected: `status` does not call the view current (it is missing, or blocked by a table),
/// so `status --exit-code` exits 1, and `up` says so rather than "nothing to do". Observed:
/// pgstrata.views is matched with to_regclass, which any relation satisfies: `status` says
/// "current" and clean, `up` does nothing.
#[test]
fn a_table_in_place_of_a_managed_view_is_not_current() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/report.sql",
        "CREATE OR REPLACE VIEW report AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "migrations/V3__report_table.sql",
        "DROP VIEW report;\nCREATE TABLE report AS SELECT id FROM orders;\n",
    );
    p.write("rollbacks/V3__report_table.sql", "DROP TABLE report;\n");
    let (_, up, up_err) = go(&db, &p, &["up"]);
    let kind: String = db
        .connect()
        .query_one(
            "SELECT relkind::text FROM pg_class WHERE oid = 'report'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kind, "r");
    let (code, out, err) = go(&db, &p, &["status", "--exit-code"]);
    assert_eq!(
        code, 1,
        "views/report.sql defines a view that no longer exists\nup:\n{up}{up_err}\nstatus:\n{out}{err}"
    );
}

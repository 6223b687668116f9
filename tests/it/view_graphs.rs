//! Managed views in the shapes a real project grows: views reading views in any file order,
//! `requires` followed through what a view reads, files deleted, renamed or duplicated,
//! names as the server stores them, materialized views, and `status`.

use std::fs;

use crate::harness::{TempDir, TestDb, pgstrata_for, query_text, relation_exists, run};

/// Two tables; the views are added per test.
pub fn tables() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__orders.sql",
            "CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text);\n\
             INSERT INTO orders VALUES (1, 5, 'a'), (2, 50, 'b');\n",
        ),
        ("rollbacks/V1__orders.sql", "DROP TABLE orders;\n"),
        (
            "migrations/V2__refunds.sql",
            "CREATE TABLE refunds (order_id int REFERENCES orders, amount numeric);\n",
        ),
        ("rollbacks/V2__refunds.sql", "DROP TABLE refunds;\n"),
    ])
}

pub fn ok(db: &TestDb, p: &TempDir, args: &[&str]) -> String {
    let (code, out, err) = run(pgstrata_for(db, &p.path).args(args));
    assert_eq!(code, 0, "pgstrata {args:?}\n{out}\n{err}");
    out
}

fn fails(db: &TestDb, p: &TempDir, args: &[&str]) -> String {
    let (code, out, err) = run(pgstrata_for(db, &p.path).args(args));
    assert_eq!(code, 2, "pgstrata {args:?} should fail\n{out}\n{err}");
    err
}

/// The view's oid: unchanged when the view was never dropped.
pub fn oid(db: &TestDb, view: &str) -> Option<u32> {
    db.connect()
        .query_one("SELECT to_regclass($1)::oid", &[&view])
        .unwrap()
        .get(0)
}

pub fn count(db: &TestDb, sql: &str) -> i64 {
    db.connect().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn views_are_created_after_the_views_they_read_whatever_their_file_names() {
    let db = TestDb::new();
    let p = tables();
    // a_ reads m_, which reads z_: file order is the reverse of the order they can be made in.
    p.write(
        "views/a_top.sql",
        "CREATE VIEW a_top AS SELECT id FROM m_middle WHERE total > 1;\n",
    );
    p.write(
        "views/m_middle.sql",
        "CREATE OR REPLACE VIEW m_middle AS SELECT id, total FROM public.z_base;\n",
    );
    p.write(
        "views/z_base.sql",
        "CREATE OR REPLACE VIEW z_base AS SELECT id, total, note FROM orders;\n",
    );
    let out = ok(&db, &p, &["up"]);
    let made: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("view"))
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(made, ["public.z_base", "public.m_middle", "public.a_top"]);
    // An incompatible change to the base (a column removed) takes its dependents, which
    // sort before it, down and up again in the same transaction.
    let top = oid(&db, "a_top");
    p.write(
        "views/z_base.sql",
        "CREATE OR REPLACE VIEW z_base AS SELECT id, total::int AS total FROM orders;\n",
    );
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("recreated  public.z_base"), "{out}");
    assert!(out.contains("recreated  public.m_middle"), "{out}");
    assert!(out.contains("recreated  public.a_top"), "{out}");
    assert_ne!(oid(&db, "a_top"), top);
    assert_eq!(count(&db, "SELECT count(*) FROM a_top"), 2);
    // Nothing left to do.
    let out = ok(&db, &p, &["up"]);
    assert!(!out.contains("view "), "{out}");
}

#[test]
fn a_view_reading_a_view_that_requires_a_version_follows_it_down_and_up() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW refunded AS SELECT order_id, amount FROM refunds;\n",
    );
    // No requires of its own: it reads `refunded`, so it needs V2 too.
    p.write(
        "views/a_refund_totals.sql",
        "CREATE OR REPLACE VIEW a_refund_totals AS \
         SELECT order_id, sum(amount) AS amount FROM refunded GROUP BY order_id;\n",
    );
    ok(&db, &p, &["up", "--to", "1"]);
    assert!(!relation_exists(&mut db.connect(), "a_refund_totals"));
    ok(&db, &p, &["up"]);
    assert!(relation_exists(&mut db.connect(), "a_refund_totals"));
    let out = ok(&db, &p, &["down"]);
    assert!(out.contains("dropped    public.a_refund_totals"), "{out}");
    assert!(out.contains("dropped    public.refunded"), "{out}");
    assert!(!relation_exists(&mut db.connect(), "refunds"));
    assert!(!relation_exists(&mut db.connect(), "a_refund_totals"));
    ok(&db, &p, &["up"]);
    assert!(relation_exists(&mut db.connect(), "a_refund_totals"));
}

#[test]
fn a_rollback_whose_views_cannot_be_made_again_commits_nothing() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW refunded AS SELECT order_id, amount FROM refunds;\n",
    );
    p.write(
        "views/summary.sql",
        "-- pgstrata:requires V2\n\
         CREATE OR REPLACE VIEW summary AS SELECT count(*) AS n FROM refunded;\n",
    );
    ok(&db, &p, &["up"]);
    // summary no longer reads `refunded` and drops its requires, but its new definition
    // is broken at V1 (it still reads refunds): the server says it depends on `refunded`,
    // so rolling back V2 drops it, and it cannot be made again once refunds is gone.
    p.write(
        "views/summary.sql",
        "CREATE OR REPLACE VIEW summary AS SELECT count(*) AS n FROM refunds;\n",
    );
    let err = fails(&db, &p, &["down"]);
    assert!(err.contains("views/summary.sql"), "{err}");
    assert!(err.contains("42P01"), "{err}");
    // Nothing of the rollback was committed.
    assert!(relation_exists(&mut db.connect(), "refunds"));
    assert!(relation_exists(&mut db.connect(), "refunded"));
    assert!(relation_exists(&mut db.connect(), "summary"));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pgstrata.history WHERE version = 2"
        ),
        1
    );
}

#[test]
fn a_deleted_view_file_and_a_migration_dropping_its_table_go_together() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/refunded.sql",
        "CREATE OR REPLACE VIEW refunded AS SELECT order_id FROM refunds;\n",
    );
    p.write(
        "views/orders_plain.sql",
        "CREATE OR REPLACE VIEW orders_plain AS SELECT id, note FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    fs::remove_file(p.path.join("views/refunded.sql")).unwrap();
    p.write("migrations/V3__no_refunds.sql", "DROP TABLE refunds;\n");
    p.write(
        "rollbacks/V3__no_refunds.sql",
        "CREATE TABLE refunds (order_id int REFERENCES orders, amount numeric);\n",
    );
    // And a migration dropping a column a managed view (with a file) reads: the view is
    // dropped and made again from its file in the migration's transaction.
    p.write(
        "views/orders_plain.sql",
        "CREATE OR REPLACE VIEW orders_plain AS SELECT id FROM orders;\n",
    );
    p.write(
        "migrations/V4__no_note.sql",
        "ALTER TABLE orders DROP COLUMN note;\n",
    );
    p.write(
        "rollbacks/V4__no_note.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("dropped    public.refunded"), "{out}");
    assert!(!relation_exists(&mut db.connect(), "refunded"));
    assert!(!relation_exists(&mut db.connect(), "refunds"));
    assert_eq!(count(&db, "SELECT count(*) FROM orders_plain"), 2);
    assert_eq!(
        count(&db, "SELECT count(*) FROM pgstrata.history"),
        4,
        "{out}"
    );
}

#[test]
fn a_view_file_holds_one_view_and_statements_about_it_only() {
    let db = TestDb::new();
    for (body, at, says) in [
        (
            "CREATE VIEW v AS SELECT 1 AS one;\nDELETE FROM orders;\n",
            "views/v.sql:2:1:",
            "`DELETE FROM orders` is not allowed in a view file",
        ),
        (
            "DROP TABLE orders;\nCREATE VIEW v AS SELECT 1 AS one;\n",
            "views/v.sql:1:1:",
            "`DROP TABLE orders` is not allowed in a view file",
        ),
        (
            "CREATE VIEW v AS SELECT 1 AS one;\nCREATE VIEW w AS SELECT 2 AS two;\n",
            "views/v.sql:2:1:",
            "defines a second view",
        ),
        (
            "CREATE VIEW v AS SELECT 1 AS one;\nCOMMIT;\n",
            "views/v.sql:2:1:",
            "`COMMIT` controls the transaction",
        ),
        (
            "CREATE VIEW v AS SELECT 1 AS one;\nGRANT SELECT ON orders TO PUBLIC;\n",
            "views/v.sql:2:1:",
            "is about orders, but this file manages the view v",
        ),
        ("SELECT 1;\n", "views/v.sql:1:1:", "is not allowed"),
        ("-- nothing\n", "views/v.sql:", "defines no view"),
    ] {
        let p = tables();
        p.write("views/v.sql", body);
        let err = fails(&db, &p, &["up"]);
        assert!(err.contains(at) && err.contains(says), "{body}\n{err}");
        assert!(!relation_exists(&mut db.connect(), "orders"), "{err}");
    }
    // What is allowed: comments, grants, an index on a materialized view.
    let p = tables();
    p.write(
        "views/v.sql",
        "CREATE VIEW v AS SELECT id FROM orders;\n\
         COMMENT ON VIEW v IS 'the orders';\n\
         COMMENT ON COLUMN v.id IS 'its id';\n\
         GRANT SELECT ON v TO PUBLIC;\n",
    );
    p.write(
        "views/mv.sql",
        "CREATE MATERIALIZED VIEW mv AS SELECT id FROM orders;\n\
         CREATE UNIQUE INDEX mv_id ON mv (id);\n",
    );
    ok(&db, &p, &["up"]);
    assert_eq!(
        query_text(&mut db.connect(), "SELECT obj_description('v'::regclass)"),
        "the orders"
    );
    assert!(relation_exists(&mut db.connect(), "mv_id"));
}

#[test]
fn two_files_for_one_view_are_refused_and_a_renamed_file_keeps_its_view() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/report.sql",
        "CREATE OR REPLACE VIEW report AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    let before = oid(&db, "report");
    // The same view, unqualified in one file and qualified in the other.
    p.write(
        "views/public.report.sql",
        "CREATE OR REPLACE VIEW public.report AS SELECT id FROM orders;\n",
    );
    let err = fails(&db, &p, &["up"]);
    assert!(
        err.contains("views/public.report.sql") && err.contains("views/report.sql"),
        "{err}"
    );
    assert_eq!(oid(&db, "report"), before);
    // Literally the same name: a load error.
    p.write(
        "views/public.report.sql",
        "CREATE VIEW report AS SELECT id FROM orders;\n",
    );
    let err = fails(&db, &p, &["up", "--dry-run"]);
    assert!(
        err.contains("which views/public.report.sql defines too"),
        "{err}"
    );
    // The rename: the view stays, the record moves.
    fs::remove_file(p.path.join("views/public.report.sql")).unwrap();
    fs::rename(
        p.path.join("views/report.sql"),
        p.path.join("views/public.report.sql"),
    )
    .unwrap();
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("renamed    public.report"), "{out}");
    assert!(!out.contains("dropped"), "{out}");
    assert_eq!(oid(&db, "report"), before);
    let out = ok(&db, &p, &["status"]);
    assert!(out.contains("current"), "{out}");
    let out = ok(&db, &p, &["up"]);
    assert!(!out.contains("view "), "{out}");
    assert_eq!(oid(&db, "report"), before);
}

#[test]
fn names_are_matched_as_the_server_stores_them() {
    let db = TestDb::new();
    let p = tables();
    let long = format!("Orders_{}", "x".repeat(70));
    p.write(
        "views/long.sql",
        &format!("CREATE OR REPLACE VIEW {long} AS SELECT id FROM orders;\n"),
    );
    p.write(
        "views/mixed.sql",
        "CREATE OR REPLACE VIEW App_Report AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    let stored = long.to_lowercase()[..63].to_string();
    assert!(relation_exists(&mut db.connect(), &stored));
    assert!(relation_exists(&mut db.connect(), "app_report"));
    let out = ok(&db, &p, &["up"]);
    assert!(
        !out.contains("view "),
        "a second up changes nothing:\n{out}"
    );
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn materialized_views_are_created_changed_renamed_required_and_dropped() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/big_orders.sql",
        "CREATE MATERIALIZED VIEW big_orders AS SELECT id FROM orders WHERE total > 10;\n",
    );
    p.write(
        "views/refund_sums.sql",
        "-- pgstrata:requires V2\n\
         CREATE MATERIALIZED VIEW refund_sums AS SELECT order_id, sum(amount) AS s \
         FROM refunds GROUP BY order_id WITH NO DATA;\n",
    );
    ok(&db, &p, &["up"]);
    assert_eq!(count(&db, "SELECT count(*) FROM big_orders"), 1);
    let populated =
        "SELECT count(*) FROM pg_class WHERE relname = 'refund_sums' AND relispopulated";
    assert_eq!(count(&db, populated), 0, "WITH NO DATA is kept");
    // A change drops it and creates it again, populated.
    p.write(
        "views/big_orders.sql",
        "CREATE MATERIALIZED VIEW big_orders AS SELECT id, total FROM orders WHERE total > 1;\n",
    );
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("recreated  public.big_orders"), "{out}");
    assert_eq!(count(&db, "SELECT count(*) FROM big_orders"), 2);
    // A rename keeps it (and its data).
    let before = oid(&db, "big_orders");
    fs::rename(
        p.path.join("views/big_orders.sql"),
        p.path.join("views/public.big_orders.sql"),
    )
    .unwrap();
    ok(&db, &p, &["up"]);
    assert_eq!(oid(&db, "big_orders"), before);
    // `requires` down and up.
    let out = ok(&db, &p, &["down"]);
    assert!(out.contains("dropped    public.refund_sums"), "{out}");
    assert!(!relation_exists(&mut db.connect(), "refund_sums"));
    ok(&db, &p, &["up"]);
    assert!(relation_exists(&mut db.connect(), "refund_sums"));
    // Deleted: dropped, and later runs are fine.
    fs::remove_file(p.path.join("views/public.big_orders.sql")).unwrap();
    let out = ok(&db, &p, &["up"]);
    assert!(out.contains("dropped    public.big_orders"), "{out}");
    assert!(!relation_exists(&mut db.connect(), "big_orders"));
    ok(&db, &p, &["up"]);
    // A view that becomes materialized, and back.
    p.write("views/v.sql", "CREATE VIEW v AS SELECT id FROM orders;\n");
    ok(&db, &p, &["up"]);
    p.write(
        "views/v.sql",
        "CREATE MATERIALIZED VIEW v AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    assert_eq!(
        query_text(
            &mut db.connect(),
            "SELECT relkind::text FROM pg_class WHERE relname = 'v'"
        ),
        "m"
    );
}

#[test]
fn status_reports_each_managed_view_and_is_not_clean_until_all_are_current() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id FROM orders;\n",
    );
    p.write(
        "views/b.sql",
        "CREATE OR REPLACE VIEW b AS SELECT id FROM orders;\n",
    );
    p.write(
        "views/r.sql",
        "-- pgstrata:requires V2\nCREATE OR REPLACE VIEW r AS SELECT order_id FROM refunds;\n",
    );
    ok(&db, &p, &["up", "--to", "1"]);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_ne!(code, 0, "V2 is pending\n{out}");
    ok(&db, &p, &["up"]);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("public.a") && out.contains("current"), "{out}");
    // Changed, missing, and a deleted file's view still there.
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id, total FROM orders;\n",
    );
    db.connect().batch_execute("DROP VIEW b").unwrap();
    fs::remove_file(p.path.join("views/r.sql")).unwrap();
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_ne!(code, 0, "{out}");
    for line in ["public.a", "public.b", "public.r"] {
        assert!(out.contains(line), "{out}");
    }
    assert!(out.contains("changed") && out.contains("missing") && out.contains("unwanted"));
    let (_, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["clean"], false);
    let states: Vec<(String, String)> = json["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["view"].as_str().unwrap().to_string(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("public.a".to_string(), "changed".to_string()),
            ("public.b".to_string(), "missing".to_string()),
            ("public.r".to_string(), "unwanted".to_string()),
        ]
    );
    ok(&db, &p, &["up"]);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_view_whose_rebuild_failed_is_failed_in_status_until_it_is_built() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id, no_such_column FROM orders;\n",
    );
    let err = fails(&db, &p, &["up"]);
    assert!(err.contains("views/a.sql:1:40: ERROR 42703"), "{err}");
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("failed") && out.contains("views/a.sql"),
        "{out}"
    );
    assert!(
        out.contains("public.a: its last rebuild failed: views/a.sql:1:40: ERROR 42703"),
        "{out}"
    );
    let (_, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["views"][0]["state"], "failed", "{json:#}");
    assert!(
        json["views"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no_such_column"),
        "{json:#}"
    );
    // Edited again (not yet run): changed, not failed; fixed and run: current, the failure gone.
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id, total FROM orders;\n",
    );
    let (_, out, _) = run(pgstrata_for(&db, &p.path).arg("status"));
    assert!(out.contains("changed") && !out.contains("failed"), "{out}");
    ok(&db, &p, &["up"]);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&db, "SELECT count(*) FROM pgstrata.view_failures"), 0);
}

#[test]
fn rolling_back_what_a_view_without_requires_reads_says_to_add_requires() {
    let db = TestDb::new();
    let p = tables();
    p.write(
        "views/a.sql",
        "CREATE OR REPLACE VIEW a AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    let err = fails(&db, &p, &["down", "--to", "0"]);
    assert!(
        err.contains("views/a.sql, which did not change") && err.contains("pgstrata:requires V<n>"),
        "{err}"
    );
    // Nothing of V1's rollback was committed (V2's was: it is another transaction).
    assert!(relation_exists(&mut db.connect(), "orders"));
    assert!(relation_exists(&mut db.connect(), "a"));
    p.write(
        "views/a.sql",
        "-- pgstrata:requires V1\nCREATE OR REPLACE VIEW a AS SELECT id FROM orders;\n",
    );
    ok(&db, &p, &["up"]);
    ok(&db, &p, &["down", "--to", "0", "--allow-data-loss"]);
    assert!(!relation_exists(&mut db.connect(), "a"));
}

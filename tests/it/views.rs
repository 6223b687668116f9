//! Managed views: created, replaced, recreated when their columns change, dropped with the
//! versions they require.

use std::fs;

use crate::harness::{TempDir, TestDb, pgstrata_for, relation_exists, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);\n",
        ),
        ("rollbacks/V1__items.sql", "DROP TABLE items;\n"),
        (
            "migrations/V2__tags.sql",
            "CREATE TABLE tags (item_id int REFERENCES items, tag text);\n",
        ),
        ("rollbacks/V2__tags.sql", "DROP TABLE tags;\n"),
        (
            "views/a_items.sql",
            "CREATE OR REPLACE VIEW a_items AS SELECT id, name, price FROM items;\n",
        ),
        (
            "views/b_cheap_items.sql",
            "CREATE OR REPLACE VIEW b_cheap_items AS SELECT id, name FROM a_items WHERE price < 10;\n",
        ),
        (
            "views/c_item_tags.sql",
            "-- pgstrata:requires V2\nCREATE OR REPLACE VIEW c_item_tags AS SELECT i.name, t.tag FROM items i JOIN tags t ON t.item_id = i.id;\n",
        ),
    ])
}

fn view_columns(db: &TestDb, view: &str) -> Vec<String> {
    db.connect()
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 ORDER BY attnum",
            &[&view],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn views_follow_the_versions_they_require() {
    let db = TestDb::new();
    let p = project();
    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("view  created    public.a_items"), "{out}");
    let mut client = db.connect();
    assert!(relation_exists(&mut client, "b_cheap_items"));
    assert!(!relation_exists(&mut client, "c_item_tags"), "requires V2");

    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("view  created    public.c_item_tags"), "{out}");
    assert!(
        !out.contains("a_items"),
        "unchanged views are left alone: {out}"
    );

    // The rollback drops the table the view reads: the view must go first, in its transaction.
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("view  dropped    public.c_item_tags"), "{out}");
    assert!(!relation_exists(&mut client, "c_item_tags"));
    assert!(relation_exists(&mut client, "a_items"));
}

#[test]
fn changed_view_is_replaced_and_a_removed_column_recreates_it_with_its_dependents() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(run(pgstrata_for(&db, &p.path).arg("up")).0, 0);

    p.write("views/a_items.sql", "CREATE OR REPLACE VIEW a_items AS SELECT id, name, price, price * 2 AS double FROM items;\n");
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("view  replaced   public.a_items"), "{out}");
    assert_eq!(
        view_columns(&db, "a_items"),
        ["id", "name", "price", "double"]
    );

    // Dropping `name` is refused by CREATE OR REPLACE; b_cheap_items depends on a_items.
    p.write(
        "views/a_items.sql",
        "CREATE OR REPLACE VIEW a_items AS SELECT id, price, name AS label FROM items;\n",
    );
    p.write(
        "views/b_cheap_items.sql",
        "CREATE OR REPLACE VIEW b_cheap_items AS SELECT id, label FROM a_items WHERE price < 10;\n",
    );
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("view  recreated  public.a_items"), "{out}");
    assert!(
        out.contains("view  recreated  public.b_cheap_items"),
        "{out}"
    );
    assert_eq!(view_columns(&db, "a_items"), ["id", "price", "label"]);
    assert_eq!(view_columns(&db, "b_cheap_items"), ["id", "label"]);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to do"), "{out}");
}

#[test]
fn an_unmanaged_dependent_view_stops_the_rebuild_and_nothing_changes() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(run(pgstrata_for(&db, &p.path).arg("up")).0, 0);
    db.connect()
        .batch_execute("CREATE VIEW hand_made AS SELECT name FROM a_items")
        .unwrap();
    p.write(
        "views/a_items.sql",
        "CREATE OR REPLACE VIEW a_items AS SELECT id, price FROM items;\n",
    );
    p.write(
        "views/b_cheap_items.sql",
        "CREATE OR REPLACE VIEW b_cheap_items AS SELECT id FROM a_items WHERE price < 10;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("the view public.hand_made depends on public.a_items")
            && err.contains("no file in views/ manages"),
        "{err}"
    );
    assert_eq!(
        view_columns(&db, "a_items"),
        ["id", "name", "price"],
        "the transaction rolled back"
    );
    assert!(relation_exists(&mut db.connect(), "b_cheap_items"));
}

#[test]
fn deleting_a_view_file_drops_its_view() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(run(pgstrata_for(&db, &p.path).arg("up")).0, 0);
    fs::remove_file(p.path.join("views/b_cheap_items.sql")).unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("view  dropped    public.b_cheap_items"),
        "{out}"
    );
    assert!(!relation_exists(&mut db.connect(), "b_cheap_items"));
}

#[test]
fn a_server_error_in_a_view_file_is_shown_at_its_source() {
    let db = TestDb::new();
    let p = project();
    p.write(
        "views/a_items.sql",
        "CREATE OR REPLACE VIEW a_items AS SELECT id, nam FROM items;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("views/a_items.sql:1:46: ERROR 42703"), "{err}");
}

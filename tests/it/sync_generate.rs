//! `pgstrata sync new`: the migration a spec generates, per kind and option (golden files in
//! tests/fixtures/sync/, PGSTRATA_BLESS=1 rewrites them), and how its triggers behave on a
//! real server: both directions, refusals, NULLs, deletes, other triggers, composite and
//! doubled foreign keys, names needing quotes, specs the schema cannot satisfy, and a batched
//! backfill killed midway and resumed. Seed 000's spec is proved by the seed tests
//! (seeds::album_sync on the generated V2).

use std::fs;
use std::path::Path;
use std::time::Duration;

use postgres::Client;

use crate::harness::{self, TempDir, TestDb, pgstrata_for, run};

/// Parents with children, users for the column kind, and triggers of another feature: a
/// parent edit counter, and a child label kept upper-case.
const SCHEMA: &str = "
CREATE TABLE parents (
    id bigint PRIMARY KEY,
    title text,
    note text,
    edits integer NOT NULL DEFAULT 0
);
CREATE TABLE children (
    id bigint PRIMARY KEY,
    parent_id bigint REFERENCES parents (id) ON DELETE CASCADE,
    label text,
    title text
);
CREATE TABLE users (id bigint PRIMARY KEY, name text);

CREATE FUNCTION count_parent_edits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.edits := OLD.edits + 1;
    RETURN NEW;
END;
$$;
CREATE TRIGGER count_parent_edits BEFORE UPDATE ON parents
    FOR EACH ROW EXECUTE FUNCTION count_parent_edits();

CREATE FUNCTION upper_label() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.label := upper(NEW.label);
    RETURN NEW;
END;
$$;
CREATE TRIGGER upper_label BEFORE INSERT OR UPDATE ON children
    FOR EACH ROW EXECUTE FUNCTION upper_label();
";

const SCHEMA_DOWN: &str = "
DROP TABLE children;
DROP TABLE parents;
DROP TABLE users;
DROP FUNCTION count_parent_edits();
DROP FUNCTION upper_label();
";

/// A project whose V1 is `schema` (and its rollback), with `sync/{name}.toml` = `spec`.
fn project(schema: &str, down: &str, name: &str, spec: &str) -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__schema.sql", schema),
        ("rollbacks/V1__schema.sql", down),
        (&format!("sync/{name}.toml"), spec),
    ])
}

/// `pgstrata sync new NAME` (resolved in a temporary database on the test server).
fn sync_new(db: &TestDb, dir: &Path, name: &str) -> (i32, String, String) {
    run(pgstrata_for(db, dir).args(["sync", "new", name]))
}

/// Generates `name`'s migration (it must succeed) and returns (migration, rollback).
fn generate(db: &TestDb, dir: &Path, name: &str) -> (String, String) {
    let (code, out, err) = sync_new(db, dir, name);
    assert_eq!(code, 0, "sync new {name}: {out}{err}");
    let file = format!("V2__sync_{name}.sql");
    assert!(out.contains(&format!("created migrations/{file}")), "{out}");
    (
        fs::read_to_string(dir.join("migrations").join(&file)).unwrap(),
        fs::read_to_string(dir.join("rollbacks").join(&file)).unwrap(),
    )
}

/// Generates `name` and applies the project to `db`.
fn generated_and_applied(spec_name: &str, spec: &str) -> (TestDb, TempDir, Client) {
    let db = TestDb::new();
    let dir = project(SCHEMA, SCHEMA_DOWN, spec_name, spec);
    generate(&db, &dir.path, spec_name);
    harness::up(&db, &dir.path, None);
    let client = db.connect();
    (db, dir, client)
}

fn texts(client: &mut Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| {
            r.get::<_, Option<String>>(0)
                .unwrap_or_else(|| "NULL".into())
        })
        .collect()
}

fn one(client: &mut Client, sql: &str) -> String {
    texts(client, sql).remove(0)
}

/// Children whose copies differ from their parent's values.
const DIVERGENT: &str =
    "SELECT count(*)::text FROM children AS c JOIN parents AS p ON p.id = c.parent_id
     WHERE (c.title, c.note) IS DISTINCT FROM (p.title, p.note)";

fn golden(name: &str, text: &str) {
    let path = harness::fixture("sync").join(name);
    if std::env::var_os("PGSTRATA_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with PGSTRATA_BLESS=1", path.display()));
    assert!(
        expected == text,
        "{name} changed; rerun with PGSTRATA_BLESS=1 and review:\n{text}"
    );
}

const COPY_BOTH: &str = r#"
kind = "copy"
parent = "public.parents"
child = "public.children"
columns = ["title", "note"]
direction = "both"
"#;

const COPY_DOWN_BATCHED: &str = r#"
kind = "copy"
parent = "parents"
child = "children"
foreign_key = "children_parent_id_fkey"
columns = ["title", "note"]
direction = "parent_to_child"
backfill_batch = 100
"#;

const COLUMN: &str = r#"
kind = "column"
table = "public.users"
old = "name"
new = "full_name"
type = "text"
up = "btrim(name)"
down = "full_name"
"#;

const COLUMN_BATCHED: &str = r#"
kind = "column"
table = "public.users"
old = "name"
new = "full_name"
type = "text"
up = "btrim(name)"
down = "full_name"
backfill_batch = 50
"#;

/// Each kind and option as a golden file; each passes `lint` and `check` (snapshot written,
/// rollback exact, applied twice).
#[test]
fn generated_sql_per_kind_and_option_is_pinned_and_passes_lint_and_check() {
    let db = TestDb::new();
    for (name, spec) in [
        ("copy_both", COPY_BOTH),
        ("copy_down_batched", COPY_DOWN_BATCHED),
        ("column", COLUMN),
        ("column_batched", COLUMN_BATCHED),
    ] {
        let dir = project(SCHEMA, SCHEMA_DOWN, name, spec);
        let (migration, rollback) = generate(&db, &dir.path, name);
        golden(&format!("{name}.sql"), &migration);
        golden(&format!("{name}.rollback.sql"), &rollback);
        let (code, out, err) = run(harness::pgstrata().arg("--dir").arg(&dir.path).arg("lint"));
        assert_eq!(code, 0, "lint {name}: {out}{err}");
        let (code, out, err) =
            run(pgstrata_for(&db, &dir.path).args(["check", "--write-snapshots"]));
        assert_eq!(code, 0, "check {name}: {out}{err}");
        assert!(out.contains("every rollback exact"), "{out}");
    }
    // `sync new` resolved in a temporary database: the test database itself is untouched.
    assert_eq!(
        one(
            &mut db.connect(),
            "SELECT to_regclass('public.parents')::text"
        ),
        "NULL"
    );
}

#[test]
fn both_directions_reach_every_copy_with_nulls_deletes_and_other_triggers() {
    let (_db, _dir, mut c) = generated_and_applied("pc", COPY_BOTH);
    c.batch_execute(
        "INSERT INTO parents (id, title, note) VALUES (1, 'one', 'n1'), (2, 'two', NULL);
         INSERT INTO children (id, parent_id, label, title, note) VALUES
             (10, 1, 'a', 'given', 'given'), (11, 1, 'b', NULL, NULL), (20, 2, 'c', NULL, NULL);",
    )
    .unwrap();
    // A new child starts from its parent, whatever it was given.
    assert_eq!(
        texts(
            &mut c,
            "SELECT title FROM children WHERE parent_id = 1 ORDER BY id"
        ),
        ["one", "one"]
    );
    // Parent edit -> every child of that parent only.
    c.batch_execute("UPDATE parents SET title = 'uno' WHERE id = 1")
        .unwrap();
    assert_eq!(
        texts(&mut c, "SELECT title FROM children ORDER BY id"),
        ["uno", "uno", "two"]
    );
    // Child edit -> parent and siblings.
    c.batch_execute("UPDATE children SET note = 'from child' WHERE id = 11")
        .unwrap();
    assert_eq!(
        one(&mut c, "SELECT note FROM parents WHERE id = 1"),
        "from child"
    );
    assert_eq!(
        one(&mut c, "SELECT note FROM children WHERE id = 10"),
        "from child"
    );
    // NULL is a value, both ways.
    c.batch_execute("UPDATE children SET title = NULL WHERE id = 10")
        .unwrap();
    assert_eq!(
        one(&mut c, "SELECT title FROM parents WHERE id = 1"),
        "NULL"
    );
    assert_eq!(
        one(&mut c, "SELECT title FROM children WHERE id = 11"),
        "NULL"
    );
    c.batch_execute("UPDATE parents SET note = 'back' WHERE id = 2")
        .unwrap();
    assert_eq!(
        one(&mut c, "SELECT note FROM children WHERE id = 20"),
        "back"
    );
    // Re-pointing takes the new parent's values.
    c.batch_execute("UPDATE children SET parent_id = 2 WHERE id = 11")
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT concat_ws('|', title, note) FROM children WHERE id = 11"
        ),
        "two|back"
    );
    // The other feature's triggers still fire: one parent edit counted per real edit
    // (1 direct + 1 from a child + 1 from a child's NULL), labels upper-cased.
    assert_eq!(
        one(&mut c, "SELECT edits::text FROM parents WHERE id = 1"),
        "3"
    );
    assert_eq!(
        texts(&mut c, "SELECT label FROM children ORDER BY id"),
        ["A", "B", "C"]
    );
    // Deletes leave nothing inconsistent.
    c.batch_execute("DELETE FROM children WHERE id = 10; DELETE FROM parents WHERE id = 2")
        .unwrap();
    assert_eq!(one(&mut c, "SELECT count(*)::text FROM children"), "0");
    assert_eq!(one(&mut c, DIVERGENT), "0");
}

/// A copy edited by another feature's trigger (not by the fan-out) must still reach the
/// parent: the reason the guard is a setting and not pg_trigger_depth().
#[test]
fn a_copy_edited_by_another_features_trigger_reaches_the_parent() {
    let (_db, _dir, mut c) = generated_and_applied("pc", COPY_BOTH);
    c.batch_execute(
        "INSERT INTO parents (id, title) VALUES (1, 'one');
         INSERT INTO children (id, parent_id) VALUES (10, 1), (11, 1);
         CREATE TABLE renames (child_id bigint, title text);
         CREATE FUNCTION apply_rename() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             UPDATE children SET title = NEW.title WHERE id = NEW.child_id;
             RETURN NULL;
         END;
         $$;
         CREATE TRIGGER apply_rename AFTER INSERT ON renames
             FOR EACH ROW EXECUTE FUNCTION apply_rename();
         INSERT INTO renames VALUES (10, 'renamed');",
    )
    .unwrap();
    assert_eq!(one(&mut c, "SELECT title FROM parents"), "renamed");
    assert_eq!(
        texts(&mut c, "SELECT title FROM children ORDER BY id"),
        ["renamed", "renamed"]
    );
}

#[test]
fn parent_to_child_refuses_a_direct_child_edit_and_follows_the_parent() {
    let (_db, _dir, mut c) = generated_and_applied("down", COPY_DOWN_BATCHED);
    c.batch_execute(
        "INSERT INTO parents (id, title) VALUES (1, 'one'), (2, 'two');
         INSERT INTO children (id, parent_id, title) VALUES (10, 1, 'mine'), (11, 1, NULL);",
    )
    .unwrap();
    assert_eq!(
        texts(&mut c, "SELECT title FROM children ORDER BY id"),
        ["one", "one"]
    );
    let err = c
        .batch_execute("UPDATE children SET title = 'edited' WHERE id = 10")
        .unwrap_err();
    let db_err = err.as_db_error().expect("a server error");
    assert_eq!(db_err.code().code(), "23001", "{db_err:?}");
    assert!(
        db_err.message().contains("are copies of public.parents"),
        "{db_err:?}"
    );
    assert!(
        db_err
            .hint()
            .unwrap_or_default()
            .contains("update public.parents"),
        "{db_err:?}"
    );
    // Other columns of the child stay editable; re-pointing is not an edit of the copies.
    c.batch_execute("UPDATE children SET label = 'x' WHERE id = 10")
        .unwrap();
    c.batch_execute("UPDATE children SET parent_id = 2 WHERE id = 11")
        .unwrap();
    assert_eq!(
        one(&mut c, "SELECT title FROM children WHERE id = 11"),
        "two"
    );
    c.batch_execute("UPDATE parents SET title = 'uno', note = 'n' WHERE id = 1")
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT concat_ws('|', title, note) FROM children WHERE id = 10"
        ),
        "uno|n"
    );
    // A parent edit does not write back: the parent was edited once.
    assert_eq!(
        one(&mut c, "SELECT edits::text FROM parents WHERE id = 1"),
        "1"
    );
    assert_eq!(one(&mut c, DIVERGENT), "0");
}

#[test]
fn a_composite_foreign_key_links_the_rows() {
    let schema = "
        CREATE TABLE products (org bigint, code text, name text, PRIMARY KEY (org, code));
        CREATE TABLE lines (
            id bigint PRIMARY KEY, org bigint, code text,
            FOREIGN KEY (org, code) REFERENCES products (org, code) ON UPDATE CASCADE
        );";
    let spec = r#"
kind = "copy"
parent = "products"
child = "lines"
columns = ["name"]
direction = "both"
"#;
    let db = TestDb::new();
    let dir = project(
        schema,
        "DROP TABLE lines; DROP TABLE products;",
        "names",
        spec,
    );
    let (migration, _) = generate(&db, &dir.path, "names");
    assert!(
        migration.contains(r#"WHERE c."org" = NEW."org" AND c."code" = NEW."code""#),
        "{migration}"
    );
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    c.batch_execute(
        "INSERT INTO products VALUES (1, 'a', 'apple'), (2, 'a', 'apricot');
         INSERT INTO lines VALUES (1, 1, 'a'), (2, 2, 'a');
         UPDATE products SET name = 'APPLE' WHERE org = 1;
         UPDATE lines SET name = 'APRICOT' WHERE id = 2;",
    )
    .unwrap();
    assert_eq!(
        texts(&mut c, "SELECT name FROM lines ORDER BY id"),
        ["APPLE", "APRICOT"]
    );
    assert_eq!(
        texts(&mut c, "SELECT name FROM products ORDER BY org"),
        ["APPLE", "APRICOT"]
    );
    // The key itself cascades; the copies follow it.
    c.batch_execute("UPDATE products SET code = 'b' WHERE org = 1")
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT concat_ws('|', code, name) FROM lines WHERE id = 1"
        ),
        "b|APPLE"
    );
}

#[test]
fn a_child_with_two_foreign_keys_to_the_parent_needs_foreign_key() {
    let schema = "
        CREATE TABLE people (id bigint PRIMARY KEY, name text);
        CREATE TABLE tasks (
            id bigint PRIMARY KEY,
            owner_id bigint CONSTRAINT tasks_owner_fkey REFERENCES people (id),
            reviewer_id bigint CONSTRAINT tasks_reviewer_fkey REFERENCES people (id)
        );";
    let down = "DROP TABLE tasks; DROP TABLE people;";
    let spec = "kind = \"copy\"\nparent = \"people\"\nchild = \"tasks\"\ncolumns = [\"name\"]\ndirection = \"both\"\n";
    let db = TestDb::new();
    let dir = project(schema, down, "owner", spec);
    let (code, out, err) = sync_new(&db, &dir.path, "owner");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("public.tasks has 2 foreign keys to public.people (tasks_owner_fkey, tasks_reviewer_fkey): name one with foreign_key"),
        "{err}"
    );
    assert!(!dir.path.join("migrations/V2__sync_owner.sql").exists());
    dir.write(
        "sync/owner.toml",
        &format!("{spec}foreign_key = \"tasks_reviewer_fkey\"\n"),
    );
    generate(&db, &dir.path, "owner");
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    c.batch_execute(
        "INSERT INTO people VALUES (1, 'ann'), (2, 'bob');
         INSERT INTO tasks VALUES (1, 1, 2);
         UPDATE people SET name = 'ANN' WHERE id = 1;",
    )
    .unwrap();
    // Copies follow the reviewer, not the owner.
    assert_eq!(one(&mut c, "SELECT name FROM tasks"), "bob");
    c.batch_execute("UPDATE people SET name = 'BOB' WHERE id = 2")
        .unwrap();
    assert_eq!(one(&mut c, "SELECT name FROM tasks"), "BOB");
}

#[test]
fn names_needing_quotes_are_quoted_everywhere() {
    let schema = r#"
        CREATE SCHEMA "Odd Schema";
        CREATE TABLE "Odd Schema"."Parent Table" ("Id" bigint PRIMARY KEY, "Mixed Case" text, "order" integer);
        CREATE TABLE "Odd Schema"."select" (
            id bigint PRIMARY KEY,
            "Parent ""Ref""" bigint REFERENCES "Odd Schema"."Parent Table" ("Id")
        );"#;
    let down = r#"DROP TABLE "Odd Schema"."select"; DROP TABLE "Odd Schema"."Parent Table"; DROP SCHEMA "Odd Schema";"#;
    let spec = r#"
kind = "copy"
parent = '"Odd Schema"."Parent Table"'
child = '"Odd Schema".select'
columns = ["Mixed Case", "order"]
direction = "both"
backfill_batch = 10
"#;
    let db = TestDb::new();
    let dir = project(schema, down, "odd", spec);
    let (migration, rollback) = generate(&db, &dir.path, "odd");
    assert!(
        migration.contains(r#""Odd Schema"."select""#),
        "{migration}"
    );
    assert!(migration.contains(r#"NEW."Parent ""Ref""""#), "{migration}");
    assert!(
        rollback.contains(r#"DROP COLUMN "Mixed Case""#),
        "{rollback}"
    );
    let mut c = db.connect();
    harness::up(&db, &dir.path, Some(1));
    c.batch_execute(
        r#"INSERT INTO "Odd Schema"."Parent Table" VALUES (1, 'x', 7);
           INSERT INTO "Odd Schema"."select" VALUES (1, 1), (2, 1);"#,
    )
    .unwrap();
    harness::up(&db, &dir.path, None);
    // The backfill filled the copies, and edits travel both ways.
    assert_eq!(
        texts(
            &mut c,
            r#"SELECT concat_ws('|', "Mixed Case", "order") FROM "Odd Schema"."select" ORDER BY id"#
        ),
        ["x|7", "x|7"]
    );
    c.batch_execute(r#"UPDATE "Odd Schema"."select" SET "order" = 8 WHERE id = 2"#)
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            r#"SELECT "order"::text FROM "Odd Schema"."Parent Table""#
        ),
        "8"
    );
    assert_eq!(
        one(
            &mut c,
            r#"SELECT "order"::text FROM "Odd Schema"."select" WHERE id = 1"#
        ),
        "8"
    );
    harness::down(&db, &dir.path, 1);
}

#[test]
fn a_spec_the_schema_cannot_satisfy_is_a_clear_error() {
    let db = TestDb::new();
    for (spec, expected) in [
        (
            COPY_BOTH.replace("\"note\"", "\"notes\""),
            "columns: public.parents has no column notes",
        ),
        (
            COPY_BOTH.replace("public.children", "public.kids"),
            "child: there is no table public.kids",
        ),
        (
            COPY_BOTH
                .replace("\"title\", \"note\"", "\"title\", \"edits\"")
                .replace(
                    "direction",
                    "# children.edits exists with another type (added below)\ndirection",
                ),
            "columns: edits is integer in the parent public.parents but text in the child public.children",
        ),
        (
            COLUMN.replace("btrim(name)", "btrim(nam)"),
            "up: the expression `btrim(nam)` does not work on public.users",
        ),
        (
            COPY_BOTH.replace(
                "direction = \"both\"",
                "direction = \"both\"\nforeign_key = \"nope\"",
            ),
            "foreign_key: no foreign key nope links public.children to public.parents; those that do: children_parent_id_fkey",
        ),
        (
            COLUMN.replace("type = \"text\"", "type = \"no_such_type\""),
            "type: `no_such_type` is not a type",
        ),
        (
            COLUMN.replace("full_name", "nick"),
            "type: public.users.nick exists as integer but the spec says text",
        ),
    ] {
        let schema = format!(
            "{SCHEMA}\nALTER TABLE children ADD COLUMN edits text;\nALTER TABLE users ADD COLUMN nick integer;"
        );
        let dir = project(&schema, SCHEMA_DOWN, "bad", &spec);
        let (code, out, err) = sync_new(&db, &dir.path, "bad");
        assert_eq!(code, 2, "{spec}: {out}{err}");
        assert!(
            err.contains(expected),
            "{spec}\nexpected {expected}\ngot {err}"
        );
        assert!(err.contains("sync/bad.toml"), "{err}");
        assert!(!dir.path.join("migrations/V2__sync_bad.sql").exists());
    }
    // A deferrable foreign key: a child inserted before its parent would keep no copy.
    let deferrable = format!(
        "{SCHEMA}\nALTER TABLE children ALTER CONSTRAINT children_parent_id_fkey \
         DEFERRABLE INITIALLY DEFERRED;"
    );
    let dir = project(&deferrable, SCHEMA_DOWN, "deferred", COPY_BOTH);
    let (code, out, err) = sync_new(&db, &dir.path, "deferred");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("foreign key children_parent_id_fkey of public.children is DEFERRABLE"),
        "{err}"
    );
    // A spec error found without a database names the line and the key.
    let dir = project(
        SCHEMA,
        SCHEMA_DOWN,
        "typo",
        &format!("{COPY_BOTH}colums = [\"x\"]\n"),
    );
    let (code, _, err) = sync_new(&db, &dir.path, "typo");
    assert_eq!(code, 2);
    assert!(
        err.contains("line 7, column 1") && err.contains("colums"),
        "{err}"
    );
}

#[test]
fn the_column_kind_keeps_old_and_new_equal_from_either_side() {
    column_kind_keeps_old_and_new_equal(COLUMN);
}

#[test]
fn the_column_kind_with_a_batched_backfill_does_the_same() {
    column_kind_keeps_old_and_new_equal(COLUMN_BATCHED);
}

fn column_kind_keeps_old_and_new_equal(spec: &str) {
    let db = TestDb::new();
    let dir = project(SCHEMA, SCHEMA_DOWN, "full_name", spec);
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    // More rows than a batch: the batched backfill commits several.
    c.batch_execute(
        "INSERT INTO users VALUES (1, '  ann  '), (2, NULL);
         INSERT INTO users SELECT n, ' u' || n FROM generate_series(100, 400) AS n;",
    )
    .unwrap();
    generate(&db, &dir.path, "full_name");
    harness::up(&db, &dir.path, None);
    // Backfilled from old.
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*)::text FROM users WHERE full_name IS DISTINCT FROM btrim(name)"
        ),
        "0"
    );
    c.batch_execute("DELETE FROM users WHERE id >= 100")
        .unwrap();
    assert_eq!(
        texts(&mut c, "SELECT full_name FROM users ORDER BY id"),
        ["ann", "NULL"]
    );
    c.batch_execute(
        "INSERT INTO users (id, name) VALUES (3, ' old app ');
         INSERT INTO users (id, full_name) VALUES (4, 'new app');
         UPDATE users SET name = ' bob ' WHERE id = 2;
         UPDATE users SET full_name = 'ANN' WHERE id = 1;",
    )
    .unwrap();
    assert_eq!(
        texts(
            &mut c,
            "SELECT concat_ws('|', name, full_name) FROM users ORDER BY id"
        ),
        [
            "ANN|ANN",
            " bob |bob",
            " old app |old app",
            "new app|new app"
        ]
    );
    // Both changed inconsistently: old wins.
    c.batch_execute("UPDATE users SET name = 'x', full_name = 'y' WHERE id = 4")
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT concat_ws('|', name, full_name) FROM users WHERE id = 4"
        ),
        "x|x"
    );
    // NULL travels too.
    c.batch_execute("UPDATE users SET full_name = NULL WHERE id = 4")
        .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT concat_ws('|', name, full_name) FROM users WHERE id = 4"
        ),
        ""
    );
    harness::down(&db, &dir.path, 1);
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'users'"
        ),
        "2"
    );
}

/// The batched backfill killed midway (client and its server session) leaves committed
/// batches behind; `repair --forget` and `up` again finish it, touching only what differs.
#[test]
fn a_batched_backfill_killed_midway_resumes() {
    let spec = COPY_DOWN_BATCHED.replace("backfill_batch = 100", "backfill_batch = 20");
    let db = TestDb::new();
    let dir = project(SCHEMA, SCHEMA_DOWN, "big", &spec);
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    // A slow trigger of the test's own (1 ms a row) makes the backfill take long enough to be
    // killed in the middle; it goes before the run is resumed.
    c.batch_execute(
        "INSERT INTO parents (id, title, note) SELECT n, 't' || n, 'n' || n FROM generate_series(1, 200) AS n;
         INSERT INTO children (id, parent_id) SELECT n, n % 200 + 1 FROM generate_series(1, 20000) AS n;
         CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             PERFORM pg_sleep(0.001);
             RETURN NEW;
         END;
         $$;
         CREATE TRIGGER slow BEFORE UPDATE ON children FOR EACH ROW EXECUTE FUNCTION slow();",
    )
    .unwrap();
    generate(&db, &dir.path, "big");
    let mut up = pgstrata_for(&db, &dir.path)
        .arg("up")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let fixed = || -> i64 {
        let mut c = db.connect();
        c.query_one("SELECT count(*) FROM children WHERE title IS NOT NULL", &[])
            .unwrap()
            .get(0)
    };
    harness::wait_until("the backfill commits its first batches", || fixed() > 500);
    harness::send_signal(&mut up, libc::SIGKILL);
    let _ = up.wait();
    // A killed client leaves its session running the DO block: a crash takes both.
    c.batch_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'pgstrata' AND datname = current_database()
           AND pid <> pg_backend_pid()",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let midway = fixed();
    assert!(
        midway > 0 && midway < 20_000,
        "killed midway: {midway} of 20000 rows backfilled"
    );
    c.batch_execute("DROP TRIGGER slow ON children").unwrap();
    assert_eq!(
        harness::history(&mut c),
        [(1, "applied".into()), (2, "running".into())]
    );
    let (code, out, err) =
        run(pgstrata_for(&db, &dir.path).args(["repair", "--version", "2", "--forget"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(pgstrata_for(&db, &dir.path).arg("up"));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(one(&mut c, DIVERGENT), "0");
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*)::text FROM children WHERE title IS NULL"
        ),
        "0"
    );
    assert_eq!(
        harness::history(&mut c),
        [(1, "applied".into()), (2, "applied".into())]
    );
}

#[test]
fn a_spec_is_generated_once_and_reported_in_json() {
    let db = TestDb::new();
    let dir = project(SCHEMA, SCHEMA_DOWN, "pc", COPY_BOTH);
    let (code, out, err) =
        run(pgstrata_for(&db, &dir.path).args(["--format", "json", "sync", "new", "pc"]));
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["command"], "sync new");
    assert_eq!(report["ok"], true);
    assert_eq!(report["version"], 2);
    assert_eq!(report["migration"], "migrations/V2__sync_pc.sql");
    assert_eq!(report["rollback"], "rollbacks/V2__sync_pc.sql");
    assert_eq!(report["no_transaction"], false);
    let (code, _, err) = sync_new(&db, &dir.path, "pc");
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V2__sync_pc.sql already exists for sync spec pc"),
        "{err}"
    );
    assert!(!dir.path.join("migrations/V3__sync_pc.sql").exists());
}

/// Another schema than the seed's, raced: a composite foreign key, names needing quotes,
/// direction both. Six writers edit parents and children, add, remove and re-point children,
/// some in two-statement transactions, retrying deadlocks and serialization failures; no
/// committed state may leave a copy different from its parent.
#[test]
fn writers_racing_on_a_composite_quoted_schema_never_leave_a_copy_divergent() {
    const WRITERS: usize = 6;
    const OPERATIONS: usize = 200;
    let schema = r#"
        CREATE SCHEMA "Shop";
        CREATE TABLE "Shop"."Product" (org int, code int, "Label" text, "desc" text,
                                       PRIMARY KEY (org, code));
        CREATE TABLE "Shop"."line item" (
            id serial PRIMARY KEY, org int, code int,
            FOREIGN KEY (org, code) REFERENCES "Shop"."Product" (org, code) ON DELETE CASCADE
        );"#;
    let down = r#"DROP TABLE "Shop"."line item"; DROP TABLE "Shop"."Product"; DROP SCHEMA "Shop";"#;
    let spec = r#"
kind = "copy"
parent = 'Shop.Product'
child = '"Shop"."line item"'
columns = ["Label", "desc"]
direction = "both"
"#;
    let db = TestDb::new();
    let dir = project(schema, down, "shop", spec);
    generate(&db, &dir.path, "shop");
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    c.batch_execute(
        r#"INSERT INTO "Shop"."Product" SELECT o, k, 'l', NULL FROM generate_series(1, 2) o, generate_series(1, 3) k;
           INSERT INTO "Shop"."line item" (org, code) SELECT o, k FROM generate_series(1, 2) o, generate_series(1, 3) k, generate_series(1, 3);"#,
    )
    .unwrap();
    const DIVERGENT_LINES: &str = r#"SELECT count(*)::text FROM "Shop"."line item" AS l
        JOIN "Shop"."Product" AS p USING (org, code)
        WHERE (l."Label", l."desc") IS DISTINCT FROM (p."Label", p."desc")"#;
    let start = std::sync::Arc::new(std::sync::Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (mut client, start) = (db.connect(), std::sync::Arc::clone(&start));
            std::thread::spawn(move || {
                client.batch_execute("SET deadlock_timeout = '20ms'").unwrap();
                let mut state = (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut next = move |n: u64| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % n) as i32
                };
                start.wait();
                let mut retries = 0;
                for op in 0..OPERATIONS {
                    let value = format!("w{id} op{op}");
                    let choice: Vec<i32> = (0..5).map(|_| next(10)).collect();
                    let (org, code, org2, code2) = (choice[1] % 2 + 1, choice[2] % 3 + 1, choice[3] % 2 + 1, choice[4] % 3 + 1);
                    let null = (choice[3] % 2 == 0).then(|| value.clone());
                    loop {
                        let result = (|| -> Result<(), postgres::Error> {
                            let mut tx = client.transaction()?;
                            match choice[0] {
                                0..=2 => { tx.execute(r#"UPDATE "Shop"."Product" SET "Label" = $3, "desc" = $4 WHERE org = $1 AND code = $2"#, &[&org, &code, &value, &null])?; }
                                3..=5 => { tx.execute(r#"UPDATE "Shop"."line item" SET "desc" = $3 WHERE id = (SELECT min(id) FROM "Shop"."line item" WHERE org = $1 AND code = $2)"#, &[&org, &code, &value])?; }
                                6 => { tx.execute(r#"INSERT INTO "Shop"."line item" (org, code, "Label") VALUES ($1, $2, 'stale')"#, &[&org, &code])?; }
                                7 => { tx.execute(r#"UPDATE "Shop"."line item" SET org = $3, code = $4 WHERE id = (SELECT max(id) FROM "Shop"."line item" WHERE org = $1 AND code = $2)"#, &[&org, &code, &org2, &code2])?; }
                                8 => { tx.execute(r#"DELETE FROM "Shop"."line item" WHERE id = (SELECT max(id) FROM "Shop"."line item" WHERE org = $1 AND code = $2) AND (SELECT count(*) FROM "Shop"."line item" WHERE org = $1 AND code = $2) > 1"#, &[&org, &code])?; }
                                _ => {
                                    tx.execute(r#"UPDATE "Shop"."line item" SET "Label" = $3 WHERE org = $1 AND code = $2"#, &[&org, &code, &value])?;
                                    tx.execute(r#"UPDATE "Shop"."Product" SET "desc" = $3 WHERE org = $1 AND code = $2"#, &[&org2, &code2, &value])?;
                                }
                            }
                            tx.commit()
                        })();
                        match result {
                            Ok(()) => break,
                            Err(err) if matches!(err.code().map(|c| c.code()), Some("40P01" | "40001")) => {
                                retries += 1;
                                std::thread::sleep(Duration::from_micros(300 * (1 + id as u64)));
                            }
                            Err(err) => panic!("writer {id}, operation {op}: {err:?}"),
                        }
                    }
                }
                retries
            })
        })
        .collect();
    // Every commit leaves the copies equal, so every committed snapshot must show none
    // divergent (the final state alone would miss faults the next edit heals).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let observer = {
        let (mut client, done) = (db.connect(), std::sync::Arc::clone(&done));
        std::thread::spawn(move || {
            let (mut checks, mut worst) = (0, 0);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let n: String = client.query_one(DIVERGENT_LINES, &[]).unwrap().get(0);
                worst = worst.max(n.parse::<i64>().unwrap());
                checks += 1;
            }
            (checks, worst)
        })
    };
    let retries: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (checks, worst) = observer.join().unwrap();
    let summary = format!(
        "composite stress: {} operations, {retries} retried, {checks} snapshots checked, \
         worst {worst} divergent",
        WRITERS * OPERATIONS
    );
    eprintln!("{summary}");
    assert!(checks > 0, "{summary}");
    assert_eq!(worst, 0, "{summary}");
    assert_eq!(one(&mut c, DIVERGENT_LINES), "0");
    assert_ne!(
        one(&mut c, r#"SELECT count(*)::text FROM "Shop"."line item""#),
        "0"
    );
}

#[test]
fn a_parent_copy_changed_by_a_before_trigger_reaches_every_child() {
    // UPDATE OF triggers fire only when the statement names the column: a BEFORE trigger of
    // another feature (or a column sync) setting it must still fan out.
    let title_only = COPY_BOTH.replace(r#"["title", "note"]"#, r#"["title"]"#);
    let (_db, _dir, mut c) = generated_and_applied("pc", &title_only);
    c.batch_execute(
        "INSERT INTO parents (id, title) VALUES (1, 'one');
         INSERT INTO children (id, parent_id) VALUES (10, 1), (11, 1);
         CREATE FUNCTION title_from_note() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             NEW.title := NEW.note;
             RETURN NEW;
         END;
         $$;
         CREATE TRIGGER title_from_note BEFORE UPDATE ON parents
             FOR EACH ROW WHEN (NEW.note IS NOT NULL)
             EXECUTE FUNCTION title_from_note();
         UPDATE parents SET note = 'from the note' WHERE id = 1;",
    )
    .unwrap();
    assert_eq!(one(&mut c, "SELECT title FROM parents"), "from the note");
    assert_eq!(
        texts(&mut c, "SELECT title FROM children ORDER BY id"),
        ["from the note", "from the note"]
    );
}

#[test]
fn a_multi_line_expression_stays_inside_the_generated_comments() {
    let spec = "kind = \"column\"\ntable = \"public.users\"\nold = \"name\"\nnew = \"full_name\"\n\
                type = \"text\"\nup = \"\"\"CASE WHEN name = '' THEN NULL\nELSE btrim(name) END\"\"\"\n\
                down = \"full_name\"\n";
    let (_db, _dir, mut c) = generated_and_applied("uname", spec);
    c.batch_execute("INSERT INTO users (id, name) VALUES (1, '  Ada  ')")
        .unwrap();
    assert_eq!(one(&mut c, "SELECT full_name FROM users"), "Ada");
}

#[test]
fn a_batched_backfill_into_a_rounding_type_ends() {
    // `up` is double precision, the new column numeric(10,2): compared uncast, every rounded
    // row would differ forever and the batches would never end.
    let schema = "CREATE TABLE prices (id bigint PRIMARY KEY, price double precision);
                  INSERT INTO prices SELECT g, g + 0.005 FROM generate_series(1, 50) AS g;";
    let spec = "kind = \"column\"\ntable = \"public.prices\"\nold = \"price\"\nnew = \"amount\"\n\
                type = \"numeric(10,2)\"\nup = \"price\"\ndown = \"amount\"\nbackfill_batch = 10\n";
    let db = TestDb::new();
    let dir = project(schema, "DROP TABLE prices;", "prices", spec);
    generate(&db, &dir.path, "prices");
    let (code, out, err) =
        run(pgstrata_for(&db, &dir.path).args(["--statement-timeout", "60s", "up"]));
    assert_eq!(code, 0, "{out}{err}");
    let mut c = db.connect();
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*)::text FROM prices WHERE amount IS NULL"
        ),
        "0"
    );
    assert_eq!(
        one(&mut c, "SELECT amount::text FROM prices WHERE id = 1"),
        "1.01"
    );
}

#[test]
fn sync_verify_proves_a_column_spec_before_its_contract_step() {
    // V3 is the contract step: it drops the trigger, its function and the old column. The
    // spec is proved on the schema of its own migration, not on what comes after.
    let db = TestDb::new();
    let dir = project(SCHEMA, SCHEMA_DOWN, "uname", COLUMN);
    generate(&db, &dir.path, "uname");
    dir.write(
        "migrations/V3__contract.sql",
        "DROP TRIGGER sync_uname_keep_equal ON users;\n\
         DROP FUNCTION public.sync_uname_keep_equal();\n\
         ALTER TABLE users DROP COLUMN name;\n",
    );
    dir.write(
        "rollbacks/V3__contract.sql",
        "-- pgstrata:irreversible the old column's values are gone\n",
    );
    let (code, out, err) =
        run(pgstrata_for(&db, &dir.path).args(["sync", "verify", "uname", "--seconds", "0"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sync verify passed"), "{out}");
}

// Regression: an `old` column with a DEFAULT got it on an insert through `new` alone, and the
// trigger took it for the written side: the value given to `new` was lost.
#[test]
fn an_insert_through_new_alone_keeps_its_value_when_old_has_a_default() {
    let db = TestDb::new();
    let dir = project(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'active');",
        "DROP TABLE accounts;",
        "account_state",
        "kind = \"column\"\ntable = \"accounts\"\nold = \"status\"\nnew = \"state\"\n\
         type = \"text\"\nup = \"upper(status)\"\ndown = \"lower(state)\"\n",
    );
    let (migration, _) = generate(&db, &dir.path, "account_state");
    // The rule is in the generated comments, naming the default it compares with.
    assert!(
        migration.contains("equals its default ('active'::text)"),
        "{migration}"
    );
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    c.batch_execute(
        "INSERT INTO accounts (id, state) VALUES (1, 'CLOSED');
         INSERT INTO accounts (id) VALUES (2);
         INSERT INTO accounts (id, status) VALUES (3, 'closed');
         INSERT INTO accounts (id, status, state) VALUES (4, 'active', 'BLOCKED');
         INSERT INTO accounts (id, status, state) VALUES (5, 'closed', 'OPEN');",
    )
    .unwrap();
    assert_eq!(
        texts(
            &mut c,
            "SELECT concat_ws('|', status, state) FROM accounts ORDER BY id"
        ),
        [
            // Through new alone: old takes down(new), not its default.
            "closed|CLOSED",
            // Neither given: new from old's default.
            "active|ACTIVE",
            // Through old alone.
            "closed|CLOSED",
            // Old named with its default value: taken as left out (the documented rule).
            "blocked|BLOCKED",
            // Both given, old not its default: old wins.
            "closed|CLOSED",
        ]
    );
}

// Regression: the functions pinned search_path = pg_catalog, pg_temp, where hstore has no `=`
// (a parent update failed) and citext compares as text (a child whose key differs from its
// parent's in case only, which the citext foreign key accepts, was missed by the fan-out).
#[test]
fn copies_of_extension_types_use_their_own_operators() {
    let db = TestDb::new();
    let dir = project(
        "CREATE EXTENSION citext;
         CREATE EXTENSION hstore;
         CREATE TABLE tags (name citext PRIMARY KEY, attrs hstore, title text);
         CREATE TABLE posts (id bigint PRIMARY KEY,
             tag citext REFERENCES tags (name) ON DELETE CASCADE);
         INSERT INTO tags VALUES ('Rust', 'a=>1', 'Rust lang');
         INSERT INTO posts VALUES (1, 'Rust'), (2, 'rust'), (3, 'RUST');",
        "DROP TABLE posts, tags; DROP EXTENSION hstore; DROP EXTENSION citext;",
        "tag_details",
        "kind = \"copy\"\nparent = \"tags\"\nchild = \"posts\"\n\
         columns = [\"attrs\", \"title\"]\ndirection = \"both\"\n",
    );
    let (migration, _) = generate(&db, &dir.path, "tag_details");
    assert!(
        migration.contains("SET search_path = pg_catalog, \"public\", pg_temp"),
        "{migration}"
    );
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    let copies = "SELECT concat_ws('|', p.id, p.attrs, p.title) FROM posts AS p ORDER BY p.id";
    c.batch_execute("UPDATE tags SET attrs = 'a=>2', title = 'T2'")
        .unwrap();
    assert_eq!(
        texts(&mut c, copies),
        [
            "1|\"a\"=>\"2\"|T2",
            "2|\"a\"=>\"2\"|T2",
            "3|\"a\"=>\"2\"|T2"
        ]
    );
    c.batch_execute("UPDATE posts SET title = 'T3', attrs = 'b=>3' WHERE id = 2")
        .unwrap();
    assert_eq!(
        texts(&mut c, copies),
        [
            "1|\"b\"=>\"3\"|T3",
            "2|\"b\"=>\"3\"|T3",
            "3|\"b\"=>\"3\"|T3"
        ]
    );
    assert_eq!(
        one(&mut c, "SELECT concat_ws('|', attrs, title) FROM tags"),
        "\"b\"=>\"3\"|T3"
    );
}

// Regression: with backfill_batch the triggers exist before the backfill, and a child edit
// pushed every synced column, its stale, not yet backfilled ones included, over the parent's.
#[test]
fn a_child_edited_before_the_batched_backfill_reaches_it_pushes_only_what_it_changed() {
    let db = TestDb::new();
    let spec = format!("{COPY_BOTH}backfill_batch = 10\n");
    let dir = project(SCHEMA, SCHEMA_DOWN, "pc", &spec);
    harness::up(&db, &dir.path, None);
    let mut c = db.connect();
    c.batch_execute(
        "INSERT INTO parents (id, title, note) VALUES (1, 'T1', 'N1');
         INSERT INTO children (id, parent_id, title) VALUES (10, 1, 'stale'), (11, 1, NULL);",
    )
    .unwrap();
    let (migration, _) = generate(&db, &dir.path, "pc");
    // The migration up to its backfill: the triggers are live, the copies not filled yet
    // (`note` is new and NULL in both children).
    let (before, backfill) = migration
        .split_once("-- Backfill in batches")
        .expect("a batched backfill");
    c.batch_execute(before).unwrap();
    c.batch_execute("UPDATE children SET title = 'mine' WHERE id = 10")
        .unwrap();
    // The parent took the title only; its note is not overwritten by the stale NULL, and its
    // fan-out gave both children the parent's values.
    assert_eq!(
        one(&mut c, "SELECT concat_ws('|', title, note) FROM parents"),
        "mine|N1"
    );
    assert_eq!(one(&mut c, DIVERGENT), "0");
    // The backfill then has nothing left to do, and the copies stay equal.
    let do_block = &backfill[backfill.find("DO $").expect("the DO block")..];
    c.batch_execute(do_block).unwrap();
    assert_eq!(
        texts(
            &mut c,
            "SELECT concat_ws('|', id, title, note) FROM children ORDER BY id"
        ),
        ["10|mine|N1", "11|mine|N1"]
    );
}

// Found by review: `sync new` accepted a type without an equality operator (json): a copy's
// migration failed to apply (42883 at `IS DISTINCT FROM`), a column kind's applied and then
// made every UPDATE of the table fail. Now refused, naming the column and the type.
#[test]
fn a_json_column_is_refused_with_the_type_named() {
    let schema = "CREATE SCHEMA app;\n\
        CREATE TABLE app.parents (id int PRIMARY KEY, doc json);\n\
        CREATE TABLE app.children (id int PRIMARY KEY, parent_id int REFERENCES app.parents);\n\
        CREATE TABLE app.things (id int PRIMARY KEY, old_doc json);";
    let down = "DROP SCHEMA app CASCADE;";
    let db = TestDb::new();
    let dir = project(
        schema,
        down,
        "docs",
        "kind = \"copy\"\nparent = \"app.parents\"\nchild = \"app.children\"\n\
         columns = [\"doc\"]\ndirection = \"both\"\n",
    );
    let (code, out, err) = sync_new(&db, &dir.path, "docs");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("app.parents.doc is of type json"), "{err}");
    assert!(err.contains("jsonb instead of json"), "{err}");
    let db = TestDb::new();
    let dir = project(
        schema,
        down,
        "things",
        "kind = \"column\"\ntable = \"app.things\"\nold = \"old_doc\"\nnew = \"new_doc\"\n\
         type = \"jsonb\"\nup = \"old_doc::jsonb\"\ndown = \"new_doc::json\"\n",
    );
    let (code, out, err) = sync_new(&db, &dir.path, "things");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("app.things.old_doc is of type json"), "{err}");
}

//! Invalid indexes, what an interrupted CONCURRENTLY statement leaves, are visible: `status`
//! names each with the statements that fix it (and `--exit-code` exits 1), `repair
//! --mark-applied` refuses while the repaired migration left one, and `drift` tells an
//! invalid index from the valid one of the same definition.
//!
//! pgstrata drops what a failed `CREATE INDEX CONCURRENTLY` of its own leaves, so the invalid
//! indexes here come from a `REINDEX … CONCURRENTLY` that fails, from a run killed while its
//! `CREATE INDEX CONCURRENTLY` waits, and from statements run by hand.

use std::process::Stdio;

use postgres::Client;
use serde_json::Value;

use crate::harness::{TempDir, TestDb, history, pgstrata_for, run, wait_until};

/// `status --format json`, parsed, with its exit code under `--exit-code`.
fn status_json(db: &TestDb, project: &TempDir) -> (i32, Value) {
    let (code, out, err) =
        run(pgstrata_for(db, &project.path).args(["status", "--exit-code", "--format", "json"]));
    let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, value)
}

/// The `(schema.name, table)` of every invalid index `status --format json` lists.
fn invalid_names(status: &Value) -> Vec<(String, String)> {
    status["invalid_indexes"]
        .as_array()
        .expect("an invalid_indexes array")
        .iter()
        .map(|index| {
            (
                format!("{}.{}", text(&index["schema"]), text(&index["name"])),
                format!("{}.{}", text(&index["table_schema"]), text(&index["table"])),
            )
        })
        .collect()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value}"))
}

/// Runs every statement of every invalid index's `fix`, each on its own as CONCURRENTLY
/// statements must be: the fix `status` prints is what a DBA would paste.
fn run_fixes(client: &mut Client, status: &Value) {
    for index in status["invalid_indexes"].as_array().unwrap() {
        for statement in index["fix"].as_array().unwrap() {
            client
                .batch_execute(text(statement))
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    }
}

/// A unique index over `isbn_key(isbn)`, an IMMUTABLE function the test can make return the
/// same value for every row (as a changed collation or locale can do under a real index), so
/// that rebuilding the index fails on duplicates. V2 rebuilds the table's indexes concurrently.
fn reindex_project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__books.sql",
            "CREATE TABLE books (id bigint PRIMARY KEY, isbn text NOT NULL);\n\
             CREATE FUNCTION isbn_key(isbn text) RETURNS text LANGUAGE sql IMMUTABLE\n\
             AS $$ SELECT lower(isbn) $$;\n\
             CREATE UNIQUE INDEX books_isbn_key ON books (isbn_key(isbn));\n\
             INSERT INTO books VALUES (1, 'A'), (2, 'B');\n",
        ),
        (
            "rollbacks/V1__books.sql",
            "DROP TABLE books;\nDROP FUNCTION isbn_key(text);\n",
        ),
        (
            "migrations/V2__reindex.sql",
            "-- pgstrata:no-transaction\nREINDEX TABLE CONCURRENTLY books;\n",
        ),
        (
            "rollbacks/V2__reindex.sql",
            "-- nothing to undo: a REINDEX changes no schema\n",
        ),
    ])
}

const ISBN_KEY_SAME: &str = "CREATE OR REPLACE FUNCTION isbn_key(isbn text) RETURNS text \
     LANGUAGE sql IMMUTABLE AS $$ SELECT 'same' $$";
const ISBN_KEY_LOWER: &str = "CREATE OR REPLACE FUNCTION isbn_key(isbn text) RETURNS text \
     LANGUAGE sql IMMUTABLE AS $$ SELECT lower(isbn) $$";

#[test]
fn a_failed_reindex_concurrently_is_flagged_by_status_and_blocks_repair_until_fixed() {
    let db = TestDb::new();
    let project = reindex_project();
    let mut client = db.connect();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    let (code, value) = status_json(&db, &project);
    assert_eq!(
        (code, &value["clean"]),
        (1, &Value::Bool(false)),
        "V2 pending"
    );
    assert_eq!(invalid_names(&value), vec![], "no invalid index yet");

    client.batch_execute(ISBN_KEY_SAME).unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2, "the REINDEX fails on duplicates: {err}");
    assert_eq!(history(&mut client).last(), Some(&(2, "running".into())));

    // The copies REINDEX was building are left INVALID: the table's two, and its TOAST
    // table's, listed under the table a REINDEX TABLE names. By schema, then name.
    let (code, value) = status_json(&db, &project);
    assert_eq!(code, 1);
    let names = invalid_names(&value);
    assert_eq!(names.len(), 3, "{value:#}");
    assert!(
        names[0].0.starts_with("pg_toast.pg_toast_") && names[0].0.ends_with("_index_ccnew"),
        "{names:?}"
    );
    assert_eq!(
        names[1..],
        [
            (
                "public.books_isbn_key_ccnew".to_string(),
                "public.books".to_string()
            ),
            ("public.books_pkey_ccnew".into(), "public.books".into()),
        ]
    );
    assert_eq!(names[0].1, "public.books");
    let isbn = &value["invalid_indexes"][1];
    assert_eq!(isbn["cause"], "reindex_copy");
    assert_eq!(
        isbn["fix"],
        serde_json::json!(["DROP INDEX CONCURRENTLY \"public\".\"books_isbn_key_ccnew\";"])
    );

    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("status"));
    assert!(
        out.contains("invalid index public.books_isbn_key_ccnew on public.books: the copy")
            && out.contains("  fix: DROP INDEX CONCURRENTLY \"public\".\"books_isbn_key_ccnew\";")
            && out.contains("2 recorded, 0 pending; 3 invalid indexes")
            && !out.contains("clean"),
        "{out}"
    );
    assert_eq!(code, 0, "without --exit-code");

    // Recording V2 as applied would hide the leftovers: refused, naming each.
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "2", "--mark-applied"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "migration 2 (reindex) cannot be recorded as applied: it left 3 indexes INVALID"
        ) && err.contains("public.books_pkey_ccnew on public.books")
            && err.contains("fix: DROP INDEX CONCURRENTLY \"public\".\"books_pkey_ccnew\";")
            && err.contains("then run `pgstrata repair --version 2 --mark-applied` again"),
        "{err}"
    );
    assert_eq!(history(&mut client).last(), Some(&(2, "running".into())));

    // An invalid index the migration does not build is not the migration's: it stays listed
    // by status but does not block the repair.
    client
        .batch_execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('x'), ('x')")
        .unwrap();
    assert!(
        client
            .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY notes_body ON notes (body)")
            .is_err()
    );

    // Fix as status says, finish the migration by hand, then record it.
    run_fixes(&mut client, &value);
    client.batch_execute(ISBN_KEY_LOWER).unwrap();
    client
        .batch_execute("REINDEX TABLE CONCURRENTLY books")
        .unwrap();
    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "2", "--mark-applied"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migration 2 recorded as applied"), "{out}");

    let (code, value) = status_json(&db, &project);
    assert_eq!(code, 1, "notes_body is still invalid");
    assert_eq!(
        invalid_names(&value),
        vec![("public.notes_body".to_string(), "public.notes".to_string())]
    );
    client
        .batch_execute("DROP INDEX CONCURRENTLY notes_body")
        .unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 recorded, 0 pending; clean"), "{out}");
}

/// V2 builds a unique index concurrently, outside a transaction.
fn create_index_project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__tags.sql",
            "CREATE TABLE tags (id bigint PRIMARY KEY, label text NOT NULL);\n\
             INSERT INTO tags VALUES (1, 'a'), (2, 'b');\n",
        ),
        ("rollbacks/V1__tags.sql", "DROP TABLE tags;\n"),
        (
            "migrations/V2__tags_label.sql",
            "-- pgstrata:no-transaction\n\
             CREATE UNIQUE INDEX CONCURRENTLY tags_label_key ON tags (label);\n",
        ),
        (
            "rollbacks/V2__tags_label.sql",
            "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY tags_label_key;\n",
        ),
    ])
}

/// Whether `tags_label_key` is valid, and whether it is ready (maintained by writes).
fn tags_label_key(client: &mut Client) -> (bool, bool) {
    let row = client
        .query_one(
            "SELECT indisvalid, indisready FROM pg_index \
             WHERE indexrelid = 'tags_label_key'::regclass",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn repair_refuses_while_a_killed_runs_create_index_concurrently_left_its_index_invalid() {
    let db = TestDb::new();
    let project = create_index_project();
    let mut client = db.connect();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "1"]));
    assert_eq!(code, 0, "{err}");

    // A session holding an old snapshot makes CREATE INDEX CONCURRENTLY wait in its last
    // step, when the index is built but not yet valid; the run is killed there, and the
    // server ends the statement when it sees its client gone.
    let mut old_snapshot = db.connect();
    old_snapshot
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .unwrap();
    let mut child = pgstrata_for(&db, &project.path)
        .arg("up")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut watcher = db.connect();
    let waiting = |watcher: &mut Client, how: &str| -> bool {
        watcher
            .query_one(
                &format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%' {how}"
                ),
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    };
    wait_until("the index build to wait for the old snapshot", || {
        waiting(&mut watcher, "AND wait_event_type = 'Lock'")
    });
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    child.wait().unwrap();
    wait_until("the server to end the killed run's statement", || {
        !waiting(&mut watcher, "")
    });
    old_snapshot.batch_execute("COMMIT").unwrap();
    assert_eq!(history(&mut client).last(), Some(&(2, "running".into())));
    assert_eq!(tags_label_key(&mut client), (false, true), "invalid, ready");

    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "invalid index public.tags_label_key on public.tags: queries do not use it, but \
             writes maintain it"
        ) && out.contains(
            "  fix: DROP INDEX CONCURRENTLY \"public\".\"tags_label_key\"; CREATE UNIQUE INDEX \
             CONCURRENTLY tags_label_key ON public.tags USING btree (label);"
        ),
        "{out}"
    );

    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "2", "--mark-applied"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "migration 2 (tags_label) cannot be recorded as applied: it left an index INVALID"
        ) && err.contains("public.tags_label_key on public.tags")
            && err.contains("hint: drop it with DROP INDEX CONCURRENTLY, then build it again"),
        "{err}"
    );
    assert_eq!(history(&mut client).last(), Some(&(2, "running".into())));

    // Dropped and built again, as status said: the migration is done, and recorded.
    let (_, value) = status_json(&db, &project);
    run_fixes(&mut client, &value);
    assert_eq!(tags_label_key(&mut client), (true, true));
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "2", "--mark-applied"]));
    assert_eq!(code, 0, "{err}");
    let (code, value) = status_json(&db, &project);
    assert_eq!(
        (code, &value["clean"]),
        (0, &Value::Bool(true)),
        "{value:#}"
    );
    assert_eq!(value["invalid_indexes"], serde_json::json!([]));
}

#[test]
fn drift_tells_an_invalid_index_from_the_valid_one_in_the_snapshot() {
    let db = TestDb::new();
    let project = create_index_project();
    let mut client = db.connect();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("drift"));
    assert_eq!(code, 0, "{out}");

    // Rebuilt by hand over duplicates: the same definition, now invalid.
    client
        .batch_execute("DROP INDEX tags_label_key; INSERT INTO tags VALUES (3, 'a')")
        .unwrap();
    let failed =
        client.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY tags_label_key ON tags (label)");
    assert!(failed.is_err());
    assert_eq!(tags_label_key(&mut client), (false, false));

    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("drift"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("~ index public.tags_label_key")
            && out.contains("+-- INVALID, not ready: queries do not use it")
            && out.contains(
                "+-- to fix: DROP INDEX CONCURRENTLY \"public\".\"tags_label_key\"; then build it"
            )
            && out.contains("drift: 1 object differs"),
        "{out}"
    );
    let (code, value) = status_json(&db, &project);
    assert_eq!(code, 1);
    assert_eq!(
        invalid_names(&value),
        vec![(
            "public.tags_label_key".to_string(),
            "public.tags".to_string()
        )]
    );

    client
        .batch_execute("DELETE FROM tags WHERE id = 3")
        .unwrap();
    run_fixes(&mut client, &value);
    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("drift"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(status_json(&db, &project).0, 0);
}

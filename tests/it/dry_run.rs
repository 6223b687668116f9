//! Dry runs show the SQL each step would send: the file, pgstrata's own statements (the
//! history row, the session reset, the limits), the directives in force, and the view
//! rebuild; in text and in JSON; and change nothing.

use crate::harness::{TempDir, TestDb, history, pgstrata_for, relation_exists, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__authors.sql",
            "-- pgstrata:lock-timeout 2s\nCREATE TABLE authors (id bigint PRIMARY KEY, name text);\n",
        ),
        ("rollbacks/V1__authors.sql", "DROP TABLE authors;\n"),
        (
            "migrations/V2__authors_name.sql",
            "-- pgstrata:no-transaction\n\
             CREATE INDEX CONCURRENTLY authors_name ON authors (name);\n\
             CREATE INDEX CONCURRENTLY authors_name_id ON authors (name, id);\n",
        ),
        (
            "rollbacks/V2__authors_name.sql",
            "-- pgstrata:no-transaction\n\
             DROP INDEX CONCURRENTLY authors_name_id;\n\
             DROP INDEX CONCURRENTLY authors_name;\n",
        ),
        (
            "views/named.sql",
            "-- pgstrata:requires V1\nCREATE OR REPLACE VIEW named AS SELECT id, name FROM authors WHERE name IS NOT NULL;\n",
        ),
    ])
}

fn ok(db: &TestDb, p: &TempDir, args: &[&str]) -> String {
    let (code, out, err) = run(pgstrata_for(db, &p.path).args(args));
    assert_eq!(code, 0, "{args:?}\nstdout:\n{out}\nstderr:\n{err}");
    out
}

#[test]
fn up_dry_run_shows_each_files_sql_with_pgstrata_s_own_and_changes_nothing() {
    let db = TestDb::new();
    let p = project();
    let out = ok(&db, &p, &["up", "--dry-run"]);
    // The existing lines stay as they were.
    assert!(out.contains("up    V1     authors"), "{out}");
    assert!(
        out.contains("would apply 2 migrations, would change 1 view"),
        "{out}"
    );
    // V1: its directive, its text in one transaction with its history row.
    assert!(
        out.contains("    -- lock_timeout 2s, statement_timeout 0\n    BEGIN;\n    SET LOCAL lock_timeout = '2000ms';"),
        "{out}"
    );
    assert!(
        out.contains("    CREATE TABLE authors (id bigint PRIMARY KEY, name text);"),
        "{out}"
    );
    assert!(out.contains("    RESET ALL;"), "{out}");
    assert!(
        out.contains("INSERT INTO \"pgstrata\".history (version, name, checksum"),
        "{out}"
    );
    assert!(out.contains("VALUES (1, 'authors', '"), "{out}");
    assert!(out.contains("    COMMIT;"), "{out}");
    // V2: no-transaction, statement by statement, between a running row and its final state.
    assert!(out.contains("    -- no-transaction"), "{out}");
    assert!(out.contains("'running'"), "{out}");
    assert!(out.contains("SET lock_timeout = '0ms';"), "{out}");
    assert!(
        out.contains("    CREATE INDEX CONCURRENTLY authors_name ON authors (name);\n    CREATE INDEX CONCURRENTLY authors_name_id ON authors (name, id);\n"),
        "{out}"
    );
    assert!(out.contains("SET state = 'applied'"), "{out}");
    // The view rebuild: the view file's SQL, in a transaction.
    assert!(
        out.contains("view  created    public.named (views/named.sql)"),
        "{out}"
    );
    assert!(
        out.contains("    CREATE OR REPLACE VIEW named AS SELECT id, name FROM authors"),
        "{out}"
    );
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "authors"));
    assert!(!relation_exists(&mut client, "named"));
    assert!(history(&mut client).is_empty());
}

#[test]
fn down_and_redo_dry_runs_show_the_rollbacks_and_the_history_deletion() {
    let db = TestDb::new();
    let p = project();
    ok(&db, &p, &["up"]);
    let out = ok(&db, &p, &["down", "--to", "0", "--dry-run"]);
    assert!(out.contains("would roll back 2 migrations"), "{out}");
    assert!(
        out.contains("    DROP INDEX CONCURRENTLY authors_name_id;\n    DROP INDEX CONCURRENTLY authors_name;\n"),
        "{out}"
    );
    assert!(out.contains("    DROP TABLE authors;"), "{out}");
    assert!(
        out.contains("DELETE FROM \"pgstrata\".history WHERE version = 1"),
        "{out}"
    );
    assert!(
        out.contains("DELETE FROM \"pgstrata\".history WHERE version = 2"),
        "{out}"
    );
    assert!(out.contains("    DROP VIEW \"public\".\"named\";"), "{out}");
    assert!(out.contains("managed view named requires V1"), "{out}");

    let out = ok(&db, &p, &["redo", "--dry-run"]);
    assert!(out.contains("down  V2     authors_name"), "{out}");
    assert!(out.contains("up    V2     authors_name"), "{out}");
    assert!(out.contains("'reverting'"), "{out}");
    assert!(out.contains("'running'"), "{out}");
    assert!(
        out.contains("would roll back 1 migration, would apply 1 migration"),
        "{out}"
    );

    let mut client = db.connect();
    assert_eq!(history(&mut client).len(), 2);
    assert!(relation_exists(&mut client, "authors_name_id"));
    assert!(relation_exists(&mut client, "named"));
}

#[test]
fn json_dry_runs_carry_the_sql_of_every_step_and_view() {
    let db = TestDb::new();
    let p = project();
    let out = ok(&db, &p, &["up", "--dry-run", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
    let steps = report["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{out}");
    let first = steps[0]["sql"].as_str().expect("sql");
    assert!(first.starts_with("-- lock_timeout 2s"), "{first}");
    assert!(first.contains("CREATE TABLE authors"), "{first}");
    assert!(
        first.contains("INSERT INTO \"pgstrata\".history"),
        "{first}"
    );
    let second = steps[1]["sql"].as_str().expect("sql");
    assert!(second.starts_with("-- no-transaction"), "{second}");
    let view = report["views"][0]["sql"].as_str().expect("view sql");
    assert!(view.contains("CREATE OR REPLACE VIEW named"), "{view}");

    // A real run's report has no `sql`.
    let out = ok(&db, &p, &["up", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert!(report["steps"][0].get("sql").is_none(), "{out}");

    let out = ok(&db, &p, &["down", "--dry-run", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
    let down = report["steps"][0]["sql"].as_str().expect("sql");
    assert!(
        down.contains("DROP INDEX CONCURRENTLY authors_name_id"),
        "{down}"
    );
    assert!(down.contains("DELETE FROM \"pgstrata\".history"), "{down}");
}

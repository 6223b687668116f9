//! `adopt-refinery` on databases that refinery itself migrated (its real runner, from the
//! refinery crate), so the checksums are refinery's own.

use crate::harness::{TempDir, TestDb, history, pgstrata_for, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__authors.sql",
            "CREATE TABLE authors (id int PRIMARY KEY);\r\n",
        ),
        ("rollbacks/V1__authors.sql", "DROP TABLE authors;\n"),
        (
            "migrations/V2__books.sql",
            "CREATE TABLE books (id int, author_id int REFERENCES authors);\n",
        ),
        ("rollbacks/V2__books.sql", "DROP TABLE books;\n"),
    ])
}

/// Applies the project's migrations/ with refinery's runner.
fn migrate_with_refinery(db: &TestDb, project: &TempDir) {
    let migrations = refinery::load_sql_migrations(project.path.join("migrations")).unwrap();
    let mut client = db.connect();
    refinery::Runner::new(&migrations).run(&mut client).unwrap();
}

#[test]
fn adopting_records_refinerys_migrations_and_pgstrata_carries_on() {
    let db = TestDb::new();
    let p = project();
    migrate_with_refinery(&db, &p);
    // A migration written after the switch.
    p.write(
        "migrations/V3__isbn.sql",
        "ALTER TABLE books ADD COLUMN isbn text;\n",
    );
    p.write(
        "rollbacks/V3__isbn.sql",
        "ALTER TABLE books DROP COLUMN isbn;\n",
    );
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("adopted 2 migrations from refinery_schema_history"),
        "{out}"
    );
    let mut client = db.connect();
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
    let applied_by: String = client
        .query_one(
            "SELECT applied_by FROM pgstrata.history WHERE version = 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied_by, "refinery");

    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0);
    assert!(
        out.contains("up    V3") && out.contains("applied 1 migration"),
        "{out}"
    );
    let (code, _, err) = run(pgstrata_for(&db, &p.path).args(["down", "--to", "0"]));
    assert_eq!(
        code, 0,
        "refinery's migrations roll back with pgstrata's rollbacks: {err}"
    );
    assert!(history(&mut client).is_empty());

    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(
        code, 2,
        "refinery's table is left in place but only adopted once"
    );
    assert!(
        err.contains("pgstrata already manages this database"),
        "{err}"
    );
}

#[test]
fn a_file_edited_since_refinery_ran_it_is_refused_and_nothing_is_recorded() {
    let db = TestDb::new();
    let p = project();
    migrate_with_refinery(&db, &p);
    p.write(
        "migrations/V2__books.sql",
        "CREATE TABLE books (id bigint, author_id int REFERENCES authors);\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V2__books.sql: changed since refinery applied it"),
        "{err}"
    );
    assert!(
        !err.contains("V1__authors"),
        "V1 is unchanged (its CRLF is refinery's too): {err}"
    );
    assert!(history(&mut db.connect()).is_empty());
}

#[test]
fn adopting_where_refinery_never_ran_says_so() {
    let db = TestDb::new();
    let p = project();
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no table refinery_schema_history here"),
        "{err}"
    );
}

/// Applies the project's migrations/ with refinery's runner, its history in `table` (given to
/// refinery as refinery_cli's `--table-name` gives it).
fn migrate_with_refinery_into(db: &TestDb, project: &TempDir, table: &str) {
    let migrations = refinery::load_sql_migrations(project.path.join("migrations")).unwrap();
    let mut client = db.connect();
    refinery::Runner::new(&migrations)
        .set_migration_table_name(table)
        .run(&mut client)
        .unwrap();
}

// `--table app.refinery_history` looked for one table named "app.refinery_history".
#[test]
fn a_schema_qualified_refinery_table_is_read_as_refinery_wrote_it() {
    let cases = [
        ("app.refinery_history", "CREATE SCHEMA app"),
        ("App.Refinery_History", "CREATE SCHEMA app"),
        ("\"My.Schema\".\"Hist\"", "CREATE SCHEMA \"My.Schema\""),
    ];
    for (table, schema) in cases {
        let db = TestDb::new();
        db.connect().batch_execute(schema).unwrap();
        let p = project();
        migrate_with_refinery_into(&db, &p, table);
        let (code, out, err) =
            run(pgstrata_for(&db, &p.path).args(["adopt-refinery", "--table", table]));
        assert_eq!(code, 0, "{table}: {out}{err}");
        assert!(
            out.contains(&format!("adopted 2 migrations from {table}")),
            "{out}"
        );
        assert_eq!(
            history(&mut db.connect()),
            vec![(1, "applied".into()), (2, "applied".into())]
        );
    }
    // A name that is not one is refused before anything is read or written.
    let db = TestDb::new();
    let p = project();
    migrate_with_refinery(&db, &p);
    let (code, _, err) = run(pgstrata_for(&db, &p.path).args([
        "adopt-refinery",
        "--table",
        "refinery_schema_history; DROP TABLE books",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("is not a table name"), "{err}");
    assert!(crate::harness::relation_exists(&mut db.connect(), "books"));
    let (code, _, err) =
        run(pgstrata_for(&db, &p.path).args(["adopt-refinery", "--table", "nope.t"]));
    assert_eq!(code, 2);
    assert!(err.contains("there is no table nope.t here"), "{err}");
}

/// A refinery project whose V2 wraps itself in BEGIN; … COMMIT;, as psql users write them.
fn wrapped_project() -> TempDir {
    let p = project();
    p.write(
        "migrations/V2__books.sql",
        "-- books\r\nBEGIN;\r\nCREATE TABLE books (id int, author_id int REFERENCES authors);\r\n\
         COMMIT;\r\n",
    );
    p
}

// refinery ran files wrapped in BEGIN … COMMIT (its own transaction made the pair a no-op);
// pgstrata refused the project, so such a database could not be adopted at all.
#[test]
fn a_file_wrapped_in_begin_commit_is_adopted_by_unwrapping_it_on_request() {
    let db = TestDb::new();
    let p = wrapped_project();
    migrate_with_refinery(&db, &p);
    let original = std::fs::read_to_string(p.path.join("migrations/V2__books.sql")).unwrap();

    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("migrations/V2__books.sql: wraps its whole text in BEGIN; … COMMIT;")
            && err.contains("--unwrap-transactions"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
    let unchanged = std::fs::read_to_string(p.path.join("migrations/V2__books.sql")).unwrap();
    assert_eq!(unchanged, original, "nothing written without the flag");

    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["adopt-refinery", "--unwrap-transactions"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("its BEGIN; and COMMIT; are commented out")
            && out.contains("rewrote 1 file in migrations/"),
        "{out}"
    );
    let rewritten = std::fs::read_to_string(p.path.join("migrations/V2__books.sql")).unwrap();
    assert!(
        rewritten.starts_with("-- books\r\n/* BEGIN; (commented out")
            && rewritten.contains("REFERENCES authors);\r\n/* COMMIT; (commented out"),
        "line numbers and line ends kept: {rewritten:?}"
    );
    // Recorded with the checksum of the file as it now is: pgstrata sees it as applied.
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}");
    // And runs it as its own: rolled back, applied again in one transaction, checked.
    for command in ["down --to 0", "up", "check --write-snapshots", "check"] {
        let (code, out, err) = run(pgstrata_for(&db, &p.path).args(command.split_whitespace()));
        assert_eq!(code, 0, "{command}: {out}{err}");
    }
}

#[test]
fn transaction_control_that_unwrapping_would_change_is_refused_where_it_is() {
    let db = TestDb::new();
    let p = project();
    p.write(
        "migrations/V2__books.sql",
        "BEGIN;\nCREATE TABLE books (id int);\nCOMMIT;\nBEGIN;\nALTER TABLE books ADD c int;\nCOMMIT;\n",
    );
    migrate_with_refinery(&db, &p);
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["adopt-refinery", "--unwrap-transactions"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("migrations/V2__books.sql:3:1: `COMMIT`: only a file wrapped whole"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
}

// A NULL in a hand-edited refinery table panicked in the reader.
#[test]
fn a_hand_edited_refinery_table_is_an_error_not_a_panic() {
    let db = TestDb::new();
    let p = project();
    migrate_with_refinery(&db, &p);
    db.connect()
        .batch_execute("UPDATE refinery_schema_history SET name = NULL WHERE version = 2")
        .unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("adopt-refinery"));
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("refinery_schema_history cannot be adopted: row 2 has no name (NULL)"),
        "{err}"
    );
    assert!(history(&mut db.connect()).is_empty());
}

/// `adopt --from refinery` is `adopt-refinery` under the command every tool shares.
#[test]
fn adopt_from_refinery_is_adopt_refinery() {
    let db = TestDb::new();
    let p = project();
    migrate_with_refinery(&db, &p);
    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["adopt", "--from", "refinery"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("adopted 2 migrations from refinery_schema_history"),
        "{out}"
    );
    assert_eq!(
        history(&mut db.connect()),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
}

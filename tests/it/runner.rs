//! `up`, `down`, `redo`, `status` and `repair` through the binary, against real databases.

use std::fs;

use crate::harness::{TempDir, TestDb, fixture, history, pgstrata_for, relation_exists, run};

/// Three migrations: a table, a second table with a foreign key, an added column.
fn three_migrations() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__authors.sql",
            "CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);\n",
        ),
        ("rollbacks/V1__authors.sql", "DROP TABLE authors;\n"),
        (
            "migrations/V2__books.sql",
            "CREATE TABLE books (\n    id bigint PRIMARY KEY,\n    author_id bigint NOT NULL REFERENCES authors (id),\n    title text NOT NULL UNIQUE\n);\n",
        ),
        ("rollbacks/V2__books.sql", "DROP TABLE books;\n"),
        (
            "migrations/V3__isbn.sql",
            "ALTER TABLE books ADD COLUMN isbn text;\n",
        ),
        (
            "rollbacks/V3__isbn.sql",
            "ALTER TABLE books DROP COLUMN isbn;\n",
        ),
    ])
}

#[test]
fn up_applies_everything_then_a_rerun_does_nothing() {
    let db = TestDb::new();
    let project = three_migrations();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 3 migrations"), "{out}");
    let mut client = db.connect();
    assert_eq!(
        history(&mut client),
        vec![
            (1, "applied".into()),
            (2, "applied".into()),
            (3, "applied".into())
        ]
    );
    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(history(&mut client).len(), 3);
}

#[test]
fn up_to_stops_at_the_version_given() {
    let db = TestDb::new();
    let project = three_migrations();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "V2"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(history(&mut db.connect()).len(), 2);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--to", "9"]));
    assert_eq!(code, 2);
    assert!(err.contains("there is no migration 9"), "{err}");
}

#[test]
fn down_one_down_to_and_redo() {
    let db = TestDb::new();
    let project = three_migrations();
    let mut client = db.connect();
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);

    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rolled back 1 migration"), "{out}");
    assert_eq!(history(&mut client).len(), 2);
    let isbn: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'books' AND column_name = 'isbn'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(isbn, 0, "V3's column is gone");

    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["down", "--to", "1"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);
    assert!(!relation_exists(&mut client, "books"));

    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("redo"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("down  V1") && out.contains("up    V1"),
        "{out}"
    );
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);

    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["down", "--steps", "5"]));
    assert_eq!(code, 0, "{err}");
    assert!(history(&mut client).is_empty());
    assert!(!relation_exists(&mut client, "authors"));

    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "nothing to roll back");
}

#[test]
fn dry_run_changes_nothing() {
    let db = TestDb::new();
    let project = three_migrations();
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["up", "--dry-run"]));
    assert_eq!(code, 0);
    assert!(out.contains("would apply 3 migrations"), "{out}");
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "authors"));
    assert!(history(&mut client).is_empty());
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let (code, out, _) =
        run(pgstrata_for(&db, &project.path).args(["down", "--to", "0", "--dry-run"]));
    assert_eq!(code, 0);
    assert!(out.contains("would roll back 3 migrations"), "{out}");
    assert_eq!(history(&mut client).len(), 3);
}

#[test]
fn failing_third_migration_keeps_the_first_two_and_leaves_nothing_of_itself() {
    let db = TestDb::new();
    let project = three_migrations();
    // The error is at line 4, column 12 (after a multibyte character on line 2).
    project.write(
        "migrations/V3__isbn.sql",
        "-- V3: add an ISBN\n-- «first» a column that works, then a typo\nALTER TABLE books ADD COLUMN isbn text;\nUPDATE books SET isbnn = '';\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V3__isbn.sql:4:18: ERROR 42703: column \"isbnn\" of relation \"books\" does not exist"),
        "{err}"
    );
    assert!(
        err.contains(" 4 | UPDATE books SET isbnn = '';\n   |                  ^"),
        "{err}"
    );
    let mut client = db.connect();
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
    let isbn: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'books' AND column_name = 'isbn'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        isbn, 0,
        "the failing migration's first statement was rolled back"
    );
}

#[test]
fn edited_applied_migration_is_refused_and_flagged() {
    let db = TestDb::new();
    let project = three_migrations();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["up", "--to", "2"])).0,
        0
    );
    project.write(
        "migrations/V1__authors.sql",
        "CREATE TABLE authors (id int PRIMARY KEY);\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migration 1 was applied but migrations/V1__authors.sql has changed since"),
        "{err}"
    );
    assert!(
        err.contains("applied sha256") && err.contains("file "),
        "{err}"
    );
    assert_eq!(history(&mut db.connect()).len(), 2, "V3 was not applied");
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 1);
    assert!(out.contains("V1      modified"), "{out}");
}

#[test]
fn crlf_copy_of_an_applied_migration_is_not_modified() {
    let db = TestDb::new();
    let project = TempDir::new();
    let fixture = fixture("crlf_checksum");
    for folder in ["migrations", "rollbacks"] {
        fs::create_dir_all(project.path.join(folder)).unwrap();
        fs::copy(
            fixture.join(folder).join("V1__t1.sql"),
            project.path.join(folder).join("V1__t1.sql"),
        )
        .unwrap();
    }
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let crlf = fs::read(fixture.join("crlf/V1__t1.sql")).unwrap();
    assert!(
        crlf.windows(2).any(|w| w == b"\r\n"),
        "the fixture kept its CRLF line ends"
    );
    fs::write(project.path.join("migrations/V1__t1.sql"), crlf).unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("V1      applied"), "{out}");
    let (code, out, _) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to do"), "{out}");
}

#[test]
fn create_index_concurrently_runs_in_a_no_transaction_migration() {
    let db = TestDb::new();
    let project = three_migrations();
    project.write(
        "migrations/V4__title_index.sql",
        "-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY books_isbn ON books (isbn);\nCREATE INDEX CONCURRENTLY books_author ON books (author_id);\n",
    );
    project.write(
        "rollbacks/V4__title_index.sql",
        "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY books_author;\nDROP INDEX CONCURRENTLY books_isbn;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let mut client = db.connect();
    assert!(relation_exists(&mut client, "books_isbn"));
    let valid: bool = client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'books_author'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    assert_eq!(history(&mut client).last(), Some(&(4, "applied".into())));
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(!relation_exists(&mut client, "books_isbn"));
    assert_eq!(history(&mut client).len(), 3);
}

#[test]
fn interrupted_no_transaction_migration_is_refused_until_repaired() {
    let db = TestDb::new();
    let project = three_migrations();
    // The second statement fails after the first committed: the migration is half done.
    project.write(
        "migrations/V4__indexes.sql",
        "-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY books_isbn ON books (isbn);\nCREATE INDEX CONCURRENTLY books_nope ON books (nope);\n",
    );
    project.write(
        "rollbacks/V4__indexes.sql",
        "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS books_isbn;\n",
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("migrations/V4__indexes.sql:3:"), "{err}");
    assert!(
        err.contains("statement 2 of 2 (line 3) failed; the 1 before it were committed"),
        "{err}"
    );
    let mut client = db.connect();
    assert_eq!(history(&mut client).last(), Some(&(4, "running".into())));

    for args in [vec!["up"], vec!["down"], vec!["redo"]] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path).args(&args));
        assert_eq!(code, 2, "{args:?}");
        assert!(
            err.contains("pgstrata repair --version 4 --mark-applied")
                && err.contains("pgstrata repair --version 4 --forget"),
            "{args:?}: {err}"
        );
    }
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 1);
    assert!(out.contains("V4      dirty"), "{out}");

    // Undo the partial work by hand, then record that none of it is in place.
    client.batch_execute("DROP INDEX books_isbn").unwrap();
    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "4", "--forget"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed from the history"), "{out}");
    assert_eq!(history(&mut client).len(), 3);
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["repair", "--version", "3", "--forget"]));
    assert_eq!(code, 2, "an applied migration is not repaired");
    assert!(err.contains("was not interrupted"), "{err}");
}

#[test]
fn irreversible_rollback_is_refused_with_its_reason_before_anything_runs() {
    let db = TestDb::new();
    let project = three_migrations();
    project.write(
        "rollbacks/V2__books.sql",
        "-- pgstrata:irreversible the books table holds data we cannot restore\n",
    );
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["down", "--to", "0"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("migration 2 cannot be rolled back: rollbacks/V2__books.sql is marked irreversible: the books table holds data we cannot restore"),
        "{err}"
    );
    assert_eq!(
        history(&mut db.connect()).len(),
        3,
        "V3 was not rolled back either"
    );
    assert_eq!(
        run(pgstrata_for(&db, &project.path).arg("down")).0,
        0,
        "V3 alone can go"
    );
}

#[test]
fn out_of_order_pending_migration_is_refused() {
    let db = TestDb::new();
    let project = three_migrations();
    fs::remove_file(project.path.join("migrations/V2__books.sql")).unwrap();
    fs::remove_file(project.path.join("rollbacks/V2__books.sql")).unwrap();
    project.write("migrations/V3__isbn.sql", "CREATE TABLE three (id int);\n");
    project.write("rollbacks/V3__isbn.sql", "DROP TABLE three;\n");
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
    project.write("migrations/V2__late.sql", "CREATE TABLE late (id int);\n");
    project.write("rollbacks/V2__late.sql", "DROP TABLE late;\n");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V2__late.sql is pending but migration 3 is already applied"),
        "{err}"
    );
}

#[test]
fn every_invalid_project_is_refused_naming_the_file_with_nothing_changed() {
    let cases = [
        (
            "bad_name",
            "migrations/V2_missing_underscore.sql: the name does not parse",
        ),
        ("duplicate_version", "version 1 is also used by"),
        (
            "missing_rollback",
            "migrations/V2__no_rollback.sql: has no rollback",
        ),
        (
            "orphan_rollback",
            "rollbacks/V2__no_migration.sql: has no migration",
        ),
        (
            "unknown_directive",
            "migrations/V2__typo.sql:1: unknown directive `-- pgstrata:no-transacton`",
        ),
        (
            "view_requires_unknown",
            "views/v.sql: requires V7, but there is no migration 7",
        ),
        (
            "commit_inside",
            "migrations/V2__commits.sql:3:1: `COMMIT` controls the transaction",
        ),
    ];
    let db = TestDb::new();
    for (fixture_name, expected) in cases {
        let (code, out, err) =
            run(pgstrata_for(&db, &fixture(&format!("invalid/{fixture_name}"))).arg("up"));
        assert_eq!(code, 2, "{fixture_name}: {out}{err}");
        assert!(err.contains(expected), "{fixture_name}: {err}");
        assert!(err.contains("nothing was run"), "{fixture_name}: {err}");
    }
    let not_utf8 = three_migrations();
    fs::write(
        not_utf8.path.join("rollbacks/V2__books.sql"),
        b"DROP TABLE books; -- caf\xe9\n",
    )
    .unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &not_utf8.path).arg("up"));
    assert_eq!(code, 2);
    assert!(
        err.contains("rollbacks/V2__books.sql: is not UTF-8 text (invalid byte at offset 24)"),
        "{err}"
    );
    assert!(
        !err.contains("has no rollback"),
        "one problem, reported once: {err}"
    );
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "t1"), "nothing ran");
    assert!(history(&mut client).is_empty());
}

#[test]
fn file_ending_in_a_comment_without_newline_is_applied_and_recorded() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE t (id int) -- no semicolon, no newline",
        ),
        ("rollbacks/V1__t.sql", "DROP TABLE t"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let mut client = db.connect();
    assert!(relation_exists(&mut client, "t"));
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);
}

#[test]
fn deferred_constraint_failing_at_commit_records_nothing() {
    let db = TestDb::new();
    // The violation is only detected at COMMIT, after the history row was written.
    let project = TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p_id int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO c VALUES (42);\n",
        ),
        ("rollbacks/V1__t.sql", "DROP TABLE c;\nDROP TABLE p;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2);
    assert!(err.contains("ERROR 23503"), "{err}");
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "p"));
    assert!(history(&mut client).is_empty());
    // The session was left clean: a second run on a fixed file works.
    project.write(
        "migrations/V1__t.sql",
        "CREATE TABLE p (id int PRIMARY KEY);\n",
    );
    project.write("rollbacks/V1__t.sql", "DROP TABLE p;\n");
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("up")).0, 0);
}

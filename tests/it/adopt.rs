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

//! The no-op `up` builds no parse tree, but what it must see it sees: a file the parser refuses
//! is reported when a rollback changed since it was recorded, and before a connection error
//! (see also parser::load_errors for an applied file recorded with its checksum).

use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ])
}

#[test]
fn an_edited_rollback_the_parser_refuses_is_reported_by_the_next_up() {
    let db = TestDb::new();
    let p = project();
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to do"), "{out}");
    // Not as recorded any more: the full way, which parses every file.
    p.write("rollbacks/V1__a.sql", "DROP TABLE a;\nDROP TABEL b;\n");
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rollbacks/V1__a.sql:2"), "{err}");
}

#[test]
fn a_file_the_parser_refuses_is_reported_before_a_connection_error() {
    let p = project();
    p.write("migrations/V2__b.sql", "CREATE TABEL b (id int);\n");
    p.write("rollbacks/V2__b.sql", "DROP TABLE b;\n");
    let (code, _, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args([
            "--database-url",
            "host=/nonexistent-socket-dir dbname=x user=x",
        ])
        .arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("migrations/V2__b.sql:1"), "{err}");
}

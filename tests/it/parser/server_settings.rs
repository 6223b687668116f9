//! A server that reads string literals with `standard_conforming_strings = off` reads
//! `'it\'s'` differently from PostgreSQL's parser, which pgstrata splits files with: every
//! command that connects refuses it, exit 2, with the reason and the fix, before it runs or
//! records anything.

use pgstrata::db::quote_ident;

use super::{GOOD, assert_error_exit, has_history_schema};
use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, relation_exists, run};

/// Every command that connects to the database it is given.
const CONNECTING: &[&[&str]] = &[
    &["up"],
    &["up", "--dry-run"],
    &["down"],
    &["down", "--dry-run"],
    &["redo"],
    &["status"],
    &["snapshot"],
    &["drift"],
    &["repair", "--version", "1", "--forget"],
    &["adopt-refinery"],
];

fn assert_refused_for_its_reading(what: &str, result: &(i32, String, String)) {
    assert_error_exit(what, result);
    let stderr = &result.2;
    assert!(
        stderr.contains("the server reads string literals with standard_conforming_strings = off"),
        "{what}: {stderr}"
    );
    assert!(
        stderr.contains("ALTER ROLE … SET standard_conforming_strings = on"),
        "{what}: the fix: {stderr}"
    );
}

#[test]
fn a_database_set_to_read_strings_the_old_way_is_refused_by_every_command() {
    let db = TestDb::new();
    db.connect()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET standard_conforming_strings = off",
            quote_ident(&db.name)
        ))
        .unwrap();
    let project = TempDir::with_files(&GOOD);
    for command in CONNECTING {
        let what = command.join(" ");
        let result = run(pgstrata_for(&db, &project.path).args(*command));
        assert_refused_for_its_reading(&what, &result);
        let mut client = db.connect();
        assert!(!has_history_schema(&mut client), "{what}");
        assert!(!relation_exists(&mut client, "m"), "{what}");
    }
}

/// The same setting made for the session (PGOPTIONS, a role's setting): still refused.
#[test]
fn a_session_set_to_read_strings_the_old_way_is_refused() {
    let db = TestDb::new();
    let project = TempDir::with_files(&GOOD);
    let url = format!(
        "{} options='-c standard_conforming_strings=off'",
        db.conninfo
    );
    for command in [&["up"][..], &["status"]] {
        let what = command.join(" ");
        let result = run(pgstrata()
            .arg("--dir")
            .arg(&project.path)
            .arg("--database-url")
            .arg(&url)
            .args(command));
        assert_refused_for_its_reading(&what, &result);
    }
    assert!(!has_history_schema(&mut db.connect()));
}

/// `check` on a named server opens its temporary database with the same settings, and
/// skips the session check that every other command makes: with the setting off, this file,
/// which a server reading strings the standard way (and PostgreSQL's parser) reads as an
/// INSERT and a CREATE TABLE, passes check as one INSERT of a string.
#[test]
fn check_on_a_server_set_to_read_strings_the_old_way_is_refused() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (
            "migrations/V1__a.sql",
            "CREATE TABLE a (s text);\nINSERT INTO a VALUES ('a\\'); CREATE TABLE b (x int); --');\n",
        ),
        (
            "rollbacks/V1__a.sql",
            "DROP TABLE IF EXISTS b;\nDROP TABLE a;\n",
        ),
    ]);
    let url = format!(
        "{} options='-c standard_conforming_strings=off'",
        db.conninfo
    );
    let result = run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .arg("--database-url")
        .arg(&url)
        .args(["check", "--write-snapshots"]));
    assert_refused_for_its_reading("check", &result);
}

//! Whatever PostgreSQL's parser rejects is a load error, whichever file holds it (migration,
//! rollback or view) and whichever command loads the project to run or compare it (`up`,
//! `down`, `redo`, `status`, `drift`, `check`, the dry runs): exit 2, `file:line:col` with the
//! line and a caret under the column, before anything runs: no history table created, no
//! statement of any file run.

use super::{
    GOOD, Kind, Targets, assert_error_exit, caret, every_command_refuses, good_but,
    has_history_schema,
};
use crate::harness::{self, TempDir, TestDb, history, pgstrata_for, psql, relation_exists, run};

/// A file the parser refuses, and where and why.
struct Rejected {
    sql: &'static str,
    line: usize,
    col: usize,
    message: &'static str,
    hint: Option<&'static str>,
}

/// Each starts with a good statement (`CREATE TABLE a`), which must not run either.
const REJECTED: &[Rejected] = &[
    Rejected {
        sql: "CREATE TABLE a (id int);\n/* never closed\nCREATE TABLE b (id int);\n",
        line: 2,
        col: 1,
        message: "unterminated /* comment",
        hint: None,
    },
    // PostgreSQL's comments nest: the inner `/*` opens a second level, which the only `*/`
    // closes, so the outer comment never ends.
    Rejected {
        sql: "CREATE TABLE a (id int);\n/* the archive/* reports */\nCREATE TABLE b (id int);\n",
        line: 2,
        col: 1,
        message: "unterminated /* comment",
        hint: None,
    },
    // Columns count characters, not bytes: `été` is 3 characters, 5 bytes.
    Rejected {
        sql: "CREATE TABLE a (id int);\nINSERT INTO a VALUES ('été', 'open);\n",
        line: 2,
        col: 30,
        message: "unterminated quoted string",
        hint: None,
    },
    Rejected {
        sql: "CREATE TABLE a (id int);\nDO $body$ BEGIN NULL; END $bodY$;\n",
        line: 2,
        col: 4,
        message: "unterminated dollar-quoted string",
        hint: None,
    },
    Rejected {
        sql: "CREATE TABLE a (id int);\nCREATE TABLE \"b (id int);\n",
        line: 2,
        col: 14,
        message: "unterminated quoted identifier",
        hint: None,
    },
    Rejected {
        sql: "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int,);\n",
        line: 3,
        col: 24,
        message: "syntax error at or near \")\"",
        hint: None,
    },
    Rejected {
        sql: "CREATE TABLE a (id int);\n\\set x 1\nCREATE TABLE b (id int);\n",
        line: 2,
        col: 1,
        message: "syntax error at or near",
        hint: Some("psql meta-commands"),
    },
    Rejected {
        sql: "CREATE TABLE a (id int);\n\\copy a from 'a.csv'\n",
        line: 2,
        col: 1,
        message: "syntax error at or near",
        hint: Some("psql meta-commands"),
    },
    // A NUL byte is refused before the parser sees the file: tests/fixtures/invalid/nul_byte.
];

/// The error names the file, line and column, shows the line with its caret and the hint.
fn assert_located(what: &str, stderr: &str, path: &str, case: &Rejected) {
    let at = format!("{path}:{}:{}: {}", case.line, case.col, case.message);
    assert!(
        stderr.contains(&at),
        "{what}: expected `{at}` in:\n{stderr}"
    );
    assert!(
        stderr.contains("(PostgreSQL's parser; nothing was run)"),
        "{what}: {stderr}"
    );
    let caret = caret(case.sql, case.line, case.col);
    assert!(
        stderr.contains(&caret),
        "{what}: expected\n{caret}\nin:\n{stderr}"
    );
    if let Some(hint) = case.hint {
        assert!(
            stderr.contains(&format!("hint: {hint}")),
            "{what}: {stderr}"
        );
    }
}

fn rejected_in(kind: Kind) {
    let targets = Targets::new();
    for case in REJECTED {
        every_command_refuses(&targets, kind, case.sql, &|what, stderr| {
            assert_located(what, stderr, kind.path(), case)
        });
    }
}

#[test]
fn what_the_parser_rejects_in_a_migration_is_a_load_error_for_every_command() {
    rejected_in(Kind::Migration);
}

#[test]
fn what_the_parser_rejects_in_a_rollback_is_a_load_error_for_every_command() {
    rejected_in(Kind::Rollback);
}

#[test]
fn what_the_parser_rejects_in_a_view_is_a_load_error_for_every_command() {
    rejected_in(Kind::View);
}

/// Every problem of the project is reported at once, each at its own place.
#[test]
fn rejections_in_several_files_are_all_reported() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        (GOOD[0].0, REJECTED[1].sql),
        (GOOD[1].0, REJECTED[2].sql),
        (GOOD[2].0, REJECTED[5].sql),
    ]);
    let result = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_error_exit("up", &result);
    for (kind, case) in [(0, 1), (1, 2), (2, 5)] {
        assert_located("up", &result.2, GOOD[kind].0, &REJECTED[case]);
    }
}

/// The bug that opened this part of issue 8: the hand-written lexer did not nest comments,
/// so this no-transaction migration ran its first statement, skipped the other two and was
/// recorded as applied with exit 0.
#[test]
fn a_nested_comment_in_a_no_transaction_migration_runs_and_records_nothing() {
    let sql = "-- pgstrata:no-transaction\n\
               CREATE TABLE reports (id int);\n\
               /* the archive/* reports */\n\
               CREATE TABLE archive (id int);\n\
               CREATE INDEX CONCURRENTLY archive_id ON archive (id);\n";
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__archive.sql", sql),
        (
            "rollbacks/V1__archive.sql",
            "DROP TABLE archive, reports;\n",
        ),
    ]);
    let result = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_error_exit("up", &result);
    assert!(
        result
            .2
            .contains("migrations/V1__archive.sql:3:1: unterminated /* comment"),
        "{}",
        result.2
    );
    assert!(result.2.contains(&caret(sql, 3, 1)), "{}", result.2);
    let mut client = db.connect();
    assert!(!has_history_schema(&mut client));
    assert_eq!(history(&mut client), vec![]);
    for relation in ["reports", "archive", "archive_id"] {
        assert!(!relation_exists(&mut client, relation), "{relation}");
    }
    // psql rejects the file too, but only once it reaches the comment, after running the
    // statement before it; pgstrata runs nothing.
    let by_psql = TestDb::new();
    let dir = TempDir::with_files(&[("archive.sql", sql)]);
    let (code, _, err) = run(psql(&by_psql).arg("-f").arg(dir.path.join("archive.sql")));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("unterminated /* comment"), "{err}");
    let mut client = by_psql.connect();
    assert!(relation_exists(&mut client, "reports"));
    assert!(!relation_exists(&mut client, "archive"));
}

/// A no-op `up` (everything applied, files unchanged) answers from names and checksums
/// without parsing; a rollback edited since into something the parser rejects then passes
/// `up` with exit 0 while `status` on the same project exits 2.
#[test]
fn a_no_op_up_still_refuses_a_rollback_the_parser_rejects() {
    let db = TestDb::new();
    harness::up(&db, &TempDir::with_files(&GOOD).path, None);
    let files = good_but(Kind::Rollback, REJECTED[1].sql);
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let project = TempDir::with_files(&files);
    let result = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_error_exit("up", &result);
    assert_located("up", &result.2, GOOD[1].0, &REJECTED[1]);
}

/// The bug left databases where a migration the parser rejects is recorded as applied,
/// with that file's checksum (an older pgstrata split it with a hand lexer and skipped
/// statements). A no-op `up` compares checksums only, and must still refuse the file.
#[test]
fn a_no_op_up_refuses_an_applied_migration_the_parser_rejects() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ]);
    harness::up(&db, &project.path, None);
    let broken = "-- pgstrata:no-transaction\nCREATE TABLE a (id int);\n\
                  /* the archive/* reports */\nCREATE TABLE b (id int);\n";
    project.write("migrations/V1__a.sql", broken);
    // As an older run would have recorded it: with the broken file's checksum.
    let checksum = pgstrata::checksum::sha256_hex(&pgstrata::checksum::normalize(broken));
    db.connect()
        .execute(
            "UPDATE pgstrata.history SET checksum = $1 WHERE version = 1",
            &[&checksum],
        )
        .unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("migrations/V1__a.sql:3:1: unterminated /* comment"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

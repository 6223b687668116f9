//! Statements the parser accepts but pgstrata cannot run the way it runs their file are
//! refused when the project loads, with the reason, at file:line:col: COPY with the client,
//! settings that change how the server reads what pgstrata sends, transaction control, and
//! statements that cannot run inside the transaction pgstrata opens. Their legitimate
//! neighbours still run.

use super::{
    GOOD, KINDS, Kind, Targets, assert_error_exit, caret, every_command_refuses, has_history_schema,
};
use crate::harness::{TempDir, TestDb, history, pgstrata_for, query_text, relation_exists, run};

/// `path:line:col: \`<statement head>\` … reason …` and the caret under the statement.
fn assert_refused(what: &str, stderr: &str, at: (&str, usize, usize), sql: &str, why: &str) {
    let (path, line, col) = at;
    let located = format!("{path}:{line}:{col}: `");
    let Some(start) = stderr.find(&located) else {
        panic!("{what}: expected a problem at {path}:{line}:{col} in:\n{stderr}");
    };
    // The problem runs to the next one, which starts on its own line with a file's path.
    let rest = &stderr[start..];
    let end = ["\n  migrations/", "\n  rollbacks/", "\n  views/"]
        .iter()
        .filter_map(|next| rest.find(next))
        .min()
        .unwrap_or(rest.len());
    let problem = &rest[..end];
    assert!(
        problem.contains(why),
        "{what}: expected `{why}` in:\n{problem}"
    );
    let caret = caret(sql, line, col);
    assert!(
        problem.contains(&caret),
        "{what}: expected\n{caret}\nin:\n{problem}"
    );
    assert!(stderr.contains("nothing was run"), "{what}: {stderr}");
}

/// A refusal the same in every kind of file.
struct Refused {
    sql: &'static str,
    at: (usize, usize),
    why: &'static str,
}

const IN_ANY_FILE: &[Refused] = &[
    Refused {
        sql: "SELECT 1;\nCOPY (SELECT 1) TO STDOUT;\n",
        at: (2, 1),
        why: "(COPY … TO STDOUT) exchanges data with the client, which pgstrata does not do",
    },
    Refused {
        sql: "SELECT 1;\nCOPY pg_catalog.pg_am FROM STDIN;\n",
        at: (2, 1),
        why: "(COPY … FROM STDIN) exchanges data with the client, which pgstrata does not do",
    },
    Refused {
        sql: "SELECT 1;\nSET client_encoding = 'LATIN1';\n",
        at: (2, 1),
        why: "changes client_encoding, after which the server reads",
    },
    Refused {
        sql: "SELECT 1;\nSET NAMES 'SQL_ASCII';\n",
        at: (2, 1),
        why: "changes client_encoding",
    },
    Refused {
        sql: "SELECT 1;\nSET standard_conforming_strings = off;\n",
        at: (2, 1),
        why: "changes standard_conforming_strings, after which the server reads",
    },
    Refused {
        sql: "SELECT 1;\n  SELECT pg_catalog.set_config('standard_conforming_strings', \
              'off', false);\n",
        at: (2, 3),
        why: "changes standard_conforming_strings",
    },
    Refused {
        sql: "SELECT 1;\nDISCARD ALL;\n",
        at: (2, 1),
        why: "`DISCARD ALL` releases every advisory lock of the session, the migration lock",
    },
    Refused {
        sql: "SELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;\n",
        at: (2, 1),
        why: "controls the transaction, but pgstrata runs each",
    },
];

#[test]
fn copy_with_the_client_encoding_changes_and_transaction_blocks_are_refused_in_every_file() {
    for kind in KINDS {
        let targets = Targets::new();
        for case in IN_ANY_FILE {
            every_command_refuses(&targets, kind, case.sql, &|what, stderr| {
                assert_refused(
                    what,
                    stderr,
                    (kind.path(), case.at.0, case.at.1),
                    case.sql,
                    case.why,
                )
            });
        }
    }
}

/// pg_dump writes COPY data after `COPY … FROM stdin;`, which psql sends; the parser stops at
/// the data, and the error says what it is.
#[test]
fn copy_data_in_pg_dump_format_is_named_as_such() {
    let sql = "CREATE TABLE a (id int, s text);\nCOPY a (id, s) FROM stdin;\n1\tone\n\\.\n";
    let targets = Targets::new();
    every_command_refuses(&targets, Kind::Migration, sql, &|what, stderr| {
        assert!(
            stderr.contains("migrations/V1__m.sql:3:1: syntax error at or near \"1\""),
            "{what}: {stderr}"
        );
        assert!(stderr.contains(&caret(sql, 3, 1)), "{what}: {stderr}");
        assert!(
            stderr.contains("hint: these lines are the data of the `COPY … FROM STDIN`"),
            "{what}: {stderr}"
        );
    });
}

/// Each `BEGIN` and `COMMIT` of a migration written psql-style is named.
#[test]
fn psql_style_transaction_blocks_in_a_migration_are_refused_with_the_fix() {
    let sql = "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nEND;\n";
    let targets = Targets::new();
    every_command_refuses(&targets, Kind::Migration, sql, &|what, stderr| {
        for at in [(1, 1), (3, 1), (4, 1), (6, 1)] {
            assert_refused(
                what,
                stderr,
                (GOOD[0].0, at.0, at.1),
                sql,
                "controls the transaction",
            );
        }
        assert!(
            stderr.contains("put `-- pgstrata:no-transaction` in the file's leading comments"),
            "{what}: {stderr}"
        );
    });
}

/// A view file is rebuilt in pgstrata's one transaction: no-transaction is no way out.
#[test]
fn statements_that_need_their_own_transaction_are_refused_in_a_view() {
    let targets = Targets::new();
    for sql in [
        "CREATE VIEW v AS SELECT 1 AS one;\nCOMMIT;\n",
        "CREATE VIEW v AS SELECT 1 AS one;\n\
         CREATE INDEX CONCURRENTLY i ON pg_catalog.pg_am (amname);\n",
    ] {
        every_command_refuses(&targets, Kind::View, sql, &|what, stderr| {
            assert_refused(what, stderr, (GOOD[2].0, 2, 1), sql, "view rebuild in one");
            assert!(
                !stderr.contains("pgstrata:no-transaction"),
                "{what}: {stderr}"
            );
        });
    }
}

#[test]
fn transaction_control_in_a_no_transaction_file_is_refused() {
    let targets = Targets::new();
    for (kind, sql, at) in [
        (
            Kind::Migration,
            "-- pgstrata:no-transaction\nCREATE TABLE a (id int);\nBEGIN;\n\
             CREATE TABLE b (id int);\nCOMMIT;\n",
            [(3, 1), (5, 1)],
        ),
        (
            Kind::Rollback,
            "-- pgstrata:no-transaction\nSAVEPOINT s;\nDROP TABLE m;\nROLLBACK TO SAVEPOINT s;\n",
            [(2, 1), (4, 1)],
        ),
    ] {
        every_command_refuses(&targets, kind, sql, &|what, stderr| {
            for at in at {
                assert_refused(
                    what,
                    stderr,
                    (kind.path(), at.0, at.1),
                    sql,
                    "controls a transaction, but this no-transaction file runs each statement \
                     on its own",
                );
            }
        });
    }
}

/// Applies a project's migrations with the binary; returns the project.
fn applied(db: &TestDb, files: &[(&str, &str)]) -> TempDir {
    let project = TempDir::with_files(files);
    let (code, out, err) = run(pgstrata_for(db, &project.path).arg("up"));
    assert_eq!(code, 0, "{out}{err}");
    project
}

/// Runs `down` after the rollback has been rewritten as `rollback`.
fn down_with(db: &TestDb, project: &TempDir, path: &str, rollback: &str) -> (i32, String, String) {
    project.write(path, rollback);
    run(pgstrata_for(db, &project.path).arg("down"))
}

/// The bug: a rollback written psql-style committed its first block, failed in its second,
/// and the migration stayed recorded `applied`, with `status` clean.
#[test]
fn a_rollback_with_psql_style_blocks_is_refused_before_it_runs() {
    let db = TestDb::new();
    let project = applied(
        &db,
        &[
            (
                "migrations/V1__ab.sql",
                "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
            ),
            ("rollbacks/V1__ab.sql", "DROP TABLE b;\nDROP TABLE a;\n"),
        ],
    );
    let rollback = "BEGIN;\nDROP TABLE b;\nCOMMIT;\nBEGIN;\nDROP TABLE a_typo;\nCOMMIT;\n";
    let result = down_with(&db, &project, "rollbacks/V1__ab.sql", rollback);
    assert_error_exit("down", &result);
    for at in [(1, 1), (3, 1), (4, 1), (6, 1)] {
        assert_refused(
            "down",
            &result.2,
            ("rollbacks/V1__ab.sql", at.0, at.1),
            rollback,
            "controls the transaction, but pgstrata runs each rollback in one transaction",
        );
    }
    let mut client = db.connect();
    assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
    assert!(relation_exists(&mut client, "a") && relation_exists(&mut client, "b"));
    let result = run(pgstrata_for(&db, &project.path).arg("status"));
    assert_error_exit("status", &result);
}

/// The bug: `DROP INDEX CONCURRENTLY` in a rollback without `-- pgstrata:no-transaction`
/// passed loading and failed in the middle of `down`.
#[test]
fn drop_index_concurrently_in_a_transactional_rollback_is_refused_before_it_runs() {
    let db = TestDb::new();
    let project = applied(
        &db,
        &[
            (
                "migrations/V1__t.sql",
                "CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\n",
            ),
            ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ],
    );
    let rollback =
        "DROP TABLE unrelated_if_exists_guard;\nDROP INDEX CONCURRENTLY t_id;\nDROP TABLE t;\n";
    let result = down_with(&db, &project, "rollbacks/V1__t.sql", rollback);
    assert_error_exit("down", &result);
    assert_refused(
        "down",
        &result.2,
        ("rollbacks/V1__t.sql", 2, 1),
        rollback,
        "`DROP INDEX CONCURRENTLY t_id` cannot run inside a transaction block, and pgstrata \
         runs each rollback in one; put `-- pgstrata:no-transaction`",
    );
    let mut client = db.connect();
    assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
    assert!(relation_exists(&mut client, "t_id") && relation_exists(&mut client, "t"));

    // With the directive it runs, statement by statement.
    let rollback = "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY t_id;\nDROP TABLE t;\n";
    let (code, out, err) = down_with(&db, &project, "rollbacks/V1__t.sql", rollback);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(history(&mut client), vec![]);
    assert!(!relation_exists(&mut client, "t"));
}

/// The bug: `SELECT set_config('client_encoding', 'LATIN1', false)` slipped past the `SET`
/// check, and the no-transaction file's next statement stored 'café' as 'cafÃ©' (exit 0).
#[test]
fn set_config_of_client_encoding_in_a_no_transaction_file_is_refused_before_it_runs() {
    let db = TestDb::new();
    let migration = "-- pgstrata:no-transaction\n\
                     CREATE TABLE a (s text);\n\
                     SELECT set_config('client_encoding', 'LATIN1', false);\n\
                     INSERT INTO a VALUES ('café');\n";
    let project = TempDir::with_files(&[
        ("migrations/V1__a.sql", migration),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ]);
    let result = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_error_exit("up", &result);
    assert_refused(
        "up",
        &result.2,
        ("migrations/V1__a.sql", 3, 1),
        migration,
        "changes client_encoding",
    );
    let mut client = db.connect();
    assert!(!has_history_schema(&mut client));
    assert!(!relation_exists(&mut client, "a"));
}

/// Neighbours of what is refused, which must keep working.
#[test]
fn savepoints_inside_a_transactional_migration_run() {
    let db = TestDb::new();
    applied(
        &db,
        &[
            (
                "migrations/V1__sp.sql",
                "CREATE TABLE sp (id int);\nSAVEPOINT before_insert;\nINSERT INTO sp VALUES (1);\n\
                 ROLLBACK TO SAVEPOINT before_insert;\nINSERT INTO sp VALUES (2);\n\
                 RELEASE SAVEPOINT before_insert;\n",
            ),
            ("rollbacks/V1__sp.sql", "DROP TABLE sp;\n"),
        ],
    );
    let mut client = db.connect();
    assert_eq!(
        query_text(&mut client, "SELECT string_agg(id::text, ',') FROM sp"),
        "2"
    );
    assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
}

#[test]
fn create_index_concurrently_runs_in_a_no_transaction_migration() {
    let db = TestDb::new();
    let project = applied(
        &db,
        &[
            (
                "migrations/V1__t.sql",
                "-- pgstrata:no-transaction\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n\
                 CREATE INDEX CONCURRENTLY t_id ON t (id);\n",
            ),
            (
                "rollbacks/V1__t.sql",
                "-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY t_id;\nDROP TABLE t;\n",
            ),
        ],
    );
    let mut client = db.connect();
    assert_eq!(
        query_text(
            &mut client,
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_id'::regclass"
        ),
        "true"
    );
    assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["down", "--allow-data-loss"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!relation_exists(&mut client, "t_id"));
}

/// pg_dump's header sets client_encoding to UTF8 and standard_conforming_strings on, and the
/// search path through set_config: all harmless, all accepted.
#[test]
fn settings_that_keep_the_reading_unchanged_run() {
    let db = TestDb::new();
    applied(
        &db,
        &[
            (
                "migrations/V1__dump.sql",
                "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\
                 SET standard_conforming_strings = on;\n\
                 SELECT pg_catalog.set_config('search_path', '', false);\n\
                 SET check_function_bodies = false;\nSET client_min_messages = warning;\n\
                 CREATE TABLE public.dump (s text);\n\
                 INSERT INTO public.dump VALUES (E'caf\\u00e9');\n",
            ),
            ("rollbacks/V1__dump.sql", "DROP TABLE public.dump;\n"),
        ],
    );
    let mut client = db.connect();
    assert_eq!(query_text(&mut client, "SELECT s FROM dump"), "café");
}

/// COPY to or from a file on the server exchanges nothing with the client: it is not refused.
#[test]
fn copy_to_and_from_a_server_file_runs() {
    let db = TestDb::new();
    // Written by the server's own user; /tmp is writable for it.
    let file = std::env::temp_dir().join(format!(
        "pgstrata-copy-{}-{}.csv",
        std::process::id(),
        db.name
    ));
    let file = file.to_str().unwrap().to_string();
    let migration = format!(
        "CREATE TABLE src (id int, s text);\nINSERT INTO src VALUES (1, 'one'), (2, 'two');\n\
         COPY src TO '{file}' (FORMAT csv);\nCREATE TABLE dst (LIKE src);\n\
         COPY dst FROM '{file}' (FORMAT csv);\n"
    );
    applied(
        &db,
        &[
            ("migrations/V1__copy.sql", &migration),
            ("rollbacks/V1__copy.sql", "DROP TABLE dst, src;\n"),
        ],
    );
    let written = std::fs::read_to_string(&file);
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        written.expect("the server wrote the file"),
        "1,one\n2,two\n"
    );
    let mut client = db.connect();
    assert_eq!(
        query_text(
            &mut client,
            "SELECT string_agg(s, ',' ORDER BY id) FROM dst"
        ),
        "one,two"
    );
}

/// A no-transaction file runs each statement under pgstrata's lock_timeout, set once and
/// sent again only when it changes; a `RESET ALL` (or `DISCARD ALL`) in the file returns it
/// to the server's default, none, for every later statement, which can then queue behind a
/// long transaction and block all readers of its table. Either refusing such statements at
/// load or setting the limits again after them would do.
#[test]
fn a_session_reset_in_a_no_transaction_file_does_not_lift_the_lock_timeout() {
    let db = TestDb::new();
    let migration = "-- pgstrata:no-transaction\n\
                     CREATE TABLE before AS SELECT current_setting('lock_timeout') AS v;\n\
                     RESET ALL;\n\
                     CREATE TABLE after_reset AS SELECT current_setting('lock_timeout') AS v;\n";
    let project = TempDir::with_files(&[
        ("migrations/V1__a.sql", migration),
        ("rollbacks/V1__a.sql", "DROP TABLE after_reset, before;\n"),
    ]);
    let result = run(pgstrata_for(&db, &project.path).args(["--lock-timeout", "1500ms", "up"]));
    let mut client = db.connect();
    if result.0 == 2 {
        assert_refused(
            "up",
            &result.2,
            ("migrations/V1__a.sql", 3, 1),
            migration,
            "RESET ALL",
        );
        assert!(!has_history_schema(&mut client));
        return;
    }
    assert_eq!(result.0, 0, "{}{}", result.1, result.2);
    assert_eq!(query_text(&mut client, "SELECT v FROM before"), "1500ms");
    assert_eq!(
        query_text(&mut client, "SELECT v FROM after_reset"),
        "1500ms"
    );
}

//! Statements split and classified by PostgreSQL's own parser (issue 8, part 2), proved
//! against the real server: a corpus of tricky files gives the same database whether psql
//! runs it or pgstrata does (statement by statement or in one transaction); whatever the
//! parser rejects, and whatever cannot run the way pgstrata runs its file, is a load error at
//! file:line:col before anything runs, from every command that loads the project; a server
//! that reads strings differently from the parser is refused.

mod corpus;
mod load_errors;
mod refusals;
mod server_settings;

use postgres::Client;

use crate::harness::{
    self, TempDir, TestDb, history, pgstrata, pgstrata_for, query_text, relation_exists, run,
};

/// A migration, its rollback and a view that all load and run.
pub const GOOD: [(&str, &str); 3] = [
    ("migrations/V1__m.sql", "CREATE TABLE m (id int);\n"),
    ("rollbacks/V1__m.sql", "DROP TABLE m;\n"),
    ("views/v.sql", "CREATE VIEW v AS SELECT 1 AS one;\n"),
];

/// The kinds of file pgstrata runs, each named by the path of its file in a project built
/// from [`GOOD`].
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Migration,
    Rollback,
    View,
}

pub const KINDS: [Kind; 3] = [Kind::Migration, Kind::Rollback, Kind::View];

impl Kind {
    pub fn path(self) -> &'static str {
        match self {
            Kind::Migration => GOOD[0].0,
            Kind::Rollback => GOOD[1].0,
            Kind::View => GOOD[2].0,
        }
    }
}

/// [`GOOD`] with the file of `kind` replaced by `sql`.
pub fn good_but(kind: Kind, sql: &str) -> Vec<(&'static str, String)> {
    GOOD.iter()
        .map(|(path, good)| {
            let text = if *path == kind.path() { sql } else { good };
            (*path, text.to_string())
        })
        .collect()
}

/// The two lines under `file:line:col` that show the source line and a caret under `col`.
pub fn caret(source: &str, line: usize, col: usize) -> String {
    let text = source.split('\n').nth(line - 1).expect("the line exists");
    let gutter = line.to_string();
    format!(
        " {gutter} | {text}\n {} | {}^",
        " ".repeat(gutter.len()),
        " ".repeat(col - 1)
    )
}

/// Whether pgstrata has touched the database at all: its history schema exists.
pub fn has_history_schema(client: &mut Client) -> bool {
    query_text(
        client,
        "SELECT (count(*) > 0)::text FROM pg_catalog.pg_namespace WHERE nspname = 'pgstrata'",
    ) == "true"
}

/// An error exit of the binary: code 2, `error: …` on stderr, no panic.
pub fn assert_error_exit(what: &str, (code, out, err): &(i32, String, String)) {
    assert_eq!(*code, 2, "{what}: exit code\nstdout: {out}\nstderr: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

/// The databases the commands of [`every_command_refuses`] run on: one pgstrata never
/// touched (for `up`) and one where [`GOOD`] is applied (for `down`, `redo`, `status`…).
pub struct Targets {
    fresh: TestDb,
    applied: TestDb,
}

impl Targets {
    pub fn new() -> Targets {
        let applied = TestDb::new();
        harness::up(&applied, &TempDir::with_files(&GOOD).path, None);
        Targets {
            fresh: TestDb::new(),
            applied,
        }
    }
}

/// [`GOOD`] with the file of `kind` replaced by `sql` is refused by every command that loads
/// the project to run or compare it (`up`, `down`, `redo`, `status`, `drift`, `check`, and the
/// dry runs): exit 2, nothing run, and `expect(what, stderr)` holds. Statements of `sql`
/// create nothing called `a` or `b`, which must not exist afterwards.
pub fn every_command_refuses(
    targets: &Targets,
    kind: Kind,
    sql: &str,
    expect: &dyn Fn(&str, &str),
) {
    let files = good_but(kind, sql);
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let project = TempDir::with_files(&files);
    let path = kind.path();

    for command in [&["up"][..], &["up", "--dry-run"]] {
        let what = format!("{}, {path} holding {sql:?}", command.join(" "));
        let result = run(pgstrata_for(&targets.fresh, &project.path).args(command));
        assert_error_exit(&what, &result);
        expect(&what, &result.2);
        assert_eq!(result.1, "", "{what}: nothing to report");
        let mut client = targets.fresh.connect();
        assert!(!has_history_schema(&mut client), "{what}");
        for relation in ["a", "b", "m", "v"] {
            assert!(
                !relation_exists(&mut client, relation),
                "{what}: {relation}"
            );
        }
    }

    for command in ["down", "redo", "status", "drift"] {
        let what = format!("{command}, {path} holding {sql:?}");
        let result = run(pgstrata_for(&targets.applied, &project.path).arg(command));
        assert_error_exit(&what, &result);
        expect(&what, &result.2);
        let mut client = targets.applied.connect();
        assert_eq!(history(&mut client), vec![(1, "applied".to_string())]);
        assert!(relation_exists(&mut client, "m") && relation_exists(&mut client, "v"));
        assert!(!relation_exists(&mut client, "a"), "{what}");
    }

    // `check` loads the project before it starts its scratch server.
    let what = format!("check, {path} holding {sql:?}");
    let result = run(pgstrata().arg("--dir").arg(&project.path).arg("check"));
    assert_error_exit(&what, &result);
    expect(&what, &result.2);
    assert!(!result.1.contains("checking"), "{what}: {}", result.1);
}

//! The differential test: each file of `tests/fixtures/parser_corpus/` is run by psql (`psql
//! -X -v ON_ERROR_STOP=1 -f`, the psql of the server's own build) into one fresh database, and
//! by pgstrata into others, as a `-- pgstrata:no-transaction` migration (statement by
//! statement) and as an ordinary one (one transaction). The databases must end up equal: the
//! same schema snapshot, the same rows, and for the no-transaction run the same rows written
//! by the same statements (psql commits each statement on its own too, so rows are grouped by
//! the transaction that wrote them, `xmin`). A statement split in the wrong place, skipped or
//! merged with its neighbour shows up as a difference.
//!
//! Deliberate differences, each with its own test below: pgstrata reads every file with a
//! leading UTF-8 byte-order mark removed and CRLF line ends read as LF (`checksum::normalize`,
//! so that a Windows checkout is not "modified"); psql keeps CRLF, so a literal spanning lines
//! of a CRLF file holds CRLF under psql and LF under pgstrata. psql strips a BOM itself, but
//! only when its client encoding is UTF-8 (otherwise the BOM is a syntax error). The main
//! comparison therefore gives psql the normalised text, which is the documented rule.

use std::fs;

use pgstrata::checksum::normalize;
use pgstrata::snapshot;
use postgres::Client;

use crate::harness::{TempDir, TestDb, fixture, history, pgstrata_for, psql, query_text, run};

/// What a corpus file leaves in a database.
#[derive(Debug, PartialEq, Eq)]
struct State {
    snapshot: String,
    /// Every row of every table, as `table: (row)`, sorted.
    rows: Vec<String>,
    /// The same rows grouped by the transaction that wrote them; groups sorted.
    transactions: Vec<Vec<String>>,
}

fn state(db: &TestDb) -> State {
    let mut client = db.connect();
    let options = snapshot::SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    };
    let snapshot = snapshot::take(&mut client, &options)
        .expect("taking a snapshot")
        .render();
    let mut written = std::collections::BTreeMap::<String, Vec<String>>::new();
    for table in tables(&mut client) {
        let sql = format!("SELECT r.xmin::text, r::text FROM {table} AS r");
        for row in client.query(&sql, &[]).expect("reading a table") {
            let (xmin, text): (String, String) = (row.get(0), row.get(1));
            written
                .entry(xmin)
                .or_default()
                .push(format!("{table}: {text}"));
        }
    }
    let mut transactions: Vec<Vec<String>> = written
        .into_values()
        .map(|mut rows| {
            rows.sort();
            rows
        })
        .collect();
    transactions.sort();
    let mut rows: Vec<String> = transactions.concat();
    rows.sort();
    State {
        snapshot,
        rows,
        transactions,
    }
}

/// The tables outside the system and pgstrata's own schema, qualified and quoted.
fn tables(client: &mut Client) -> Vec<String> {
    let sql = "SELECT format('%I.%I', n.nspname, c.relname) \
                 FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                WHERE c.relkind IN ('r', 'p') \
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgstrata') \
                  AND n.nspname NOT LIKE 'pg\\_toast%' \
                ORDER BY 1";
    client
        .query(sql, &[])
        .expect("listing tables")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A corpus file as it is on disk.
fn corpus(name: &str) -> String {
    fs::read_to_string(fixture("parser_corpus").join(name)).expect("reading a corpus file")
}

/// The statement count a corpus file declares in its header (`-- statements: N`).
fn declared_statements(text: &str) -> usize {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("-- statements: "))
        .expect("every corpus file declares `-- statements: N`");
    line.trim().parse().expect("a count")
}

/// The file with `-- pgstrata:no-transaction` as its first line: after its byte-order mark,
/// in its own line ends.
fn with_no_transaction(raw: &str) -> String {
    let eol = if raw.contains("\r\n") { "\r\n" } else { "\n" };
    let (bom, rest) = match raw.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", raw),
    };
    format!("{bom}-- pgstrata:no-transaction{eol}{rest}")
}

/// Applies `migration` as V1 with `pgstrata up`.
fn pgstrata_up(db: &TestDb, migration: &str) {
    let project = TempDir::with_files(&[
        ("migrations/V1__corpus.sql", migration),
        (
            "rollbacks/V1__corpus.sql",
            "-- pgstrata:irreversible the corpus is only ever applied\n",
        ),
    ]);
    let (code, out, err) = run(pgstrata_for(db, &project.path).arg("up"));
    assert_eq!(code, 0, "pgstrata up in {}:\n{out}{err}", db.name);
    assert_eq!(history(&mut db.connect()), vec![(1, "applied".to_string())]);
}

/// Runs `text` as a file with psql; returns psql's exit code and stderr.
fn psql_file(db: &TestDb, text: &str, client_encoding: &str) -> (i32, String) {
    let dir = TempDir::with_files(&[("script.sql", text)]);
    let (code, _, err) = run(psql(db)
        .env("PGCLIENTENCODING", client_encoding)
        .arg("-f")
        .arg(dir.path.join("script.sql")));
    (code, err)
}

/// Runs `text` with psql, which must succeed.
fn psql_ok(db: &TestDb, text: &str) {
    let (code, err) = psql_file(db, text, "UTF8");
    assert_eq!(code, 0, "psql in {}: {err}", db.name);
    assert!(!err.contains("ERROR"), "psql in {}: {err}", db.name);
}

/// The differential test of one corpus file.
fn differential(name: &str) {
    let raw = corpus(name);
    let normalized = normalize(&raw);
    // Deep files need the parser's own stack, as the loader gives it.
    let statements = pgstrata::sql::with_room(|| pgstrata::sql::parse(&normalized))
        .expect("starting the parser thread")
        .unwrap_or_else(|e| panic!("{name}: {}", e.render(name, &normalized)));
    assert_eq!(
        statements.len(),
        declared_statements(&raw),
        "{name}: pgstrata's statements: {:#?}",
        statements
            .iter()
            .map(|s| s.text(&normalized))
            .collect::<Vec<_>>()
    );

    let by_psql = TestDb::new();
    psql_ok(&by_psql, &normalized);
    let expected = state(&by_psql);
    assert!(
        !expected.rows.is_empty(),
        "{name}: the corpus file wrote no rows"
    );

    let one_by_one = TestDb::new();
    pgstrata_up(&one_by_one, &with_no_transaction(&raw));
    assert_eq!(
        state(&one_by_one),
        expected,
        "{name}: no-transaction migration vs psql"
    );

    let in_one_transaction = TestDb::new();
    pgstrata_up(&in_one_transaction, &raw);
    let transactional = state(&in_one_transaction);
    assert_eq!(
        transactional.snapshot, expected.snapshot,
        "{name}: transactional migration vs psql"
    );
    assert_eq!(
        transactional.rows, expected.rows,
        "{name}: transactional migration vs psql"
    );
    assert_eq!(
        transactional.transactions.len(),
        1,
        "{name}: a transactional migration writes in one transaction"
    );
}

/// One test per corpus file, and the list of the files they cover.
macro_rules! corpus_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                differential(concat!(stringify!($name), ".sql"));
            }
        )*
        const COVERED: &[&str] = &[$(concat!(stringify!($name), ".sql")),*];
    };
}

corpus_tests!(
    begin_atomic,
    bom,
    crlf,
    deep_expressions,
    do_block,
    dollar_quotes,
    escape_strings,
    multibyte,
    nested_comments,
    no_final_semicolon,
    quoted_identifiers,
    trailing_comments,
    unicode_escapes,
);

#[test]
fn every_corpus_file_has_its_test() {
    let mut on_disk: Vec<String> = fs::read_dir(fixture("parser_corpus"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, COVERED);
}

#[test]
fn the_bom_and_crlf_files_are_what_they_claim() {
    // A checkout that rewrote them would make their tests prove nothing.
    let bom = corpus("bom.sql");
    assert!(bom.starts_with('\u{feff}'), "bom.sql lost its BOM");
    assert!(!bom.contains('\r'));
    let crlf = corpus("crlf.sql");
    assert_eq!(
        crlf.matches("\r\n").count(),
        crlf.matches('\n').count(),
        "crlf.sql must end every line in CRLF (see its .gitattributes)"
    );
    for name in COVERED
        .iter()
        .filter(|n| !["bom.sql", "crlf.sql"].contains(n))
    {
        let text = corpus(name);
        assert_eq!(
            normalize(&text),
            text,
            "{name}: psql runs exactly this text"
        );
    }
}

/// Documents the deliberate CRLF difference: pgstrata reads CRLF as LF (a Windows checkout
/// must not change what a migration does), psql keeps the CR in literals and function bodies.
#[test]
fn a_literal_spanning_lines_of_a_crlf_file_holds_lf_under_pgstrata_and_crlf_under_psql() {
    let raw = corpus("crlf.sql");
    let ours = TestDb::new();
    pgstrata_up(&ours, &raw);
    let by_psql = TestDb::new();
    psql_ok(&by_psql, &raw);
    let literal = |db: &TestDb, id: i32| {
        query_text(
            &mut db.connect(),
            &format!("SELECT s FROM crlf WHERE id = {id}"),
        )
    };
    assert_eq!(literal(&ours, 1), "one line; then\nthe next");
    assert_eq!(literal(&by_psql, 1), "one line; then\r\nthe next");
    // An escape is the text's own, not a line end: both keep it.
    assert_eq!(literal(&ours, 3), "escaped\r\nnot a line end");
    assert_eq!(literal(&by_psql, 3), "escaped\r\nnot a line end");
    let body = |db: &TestDb| {
        query_text(
            &mut db.connect(),
            "SELECT prosrc FROM pg_proc WHERE proname = 'crlf_f'",
        )
    };
    assert!(!body(&ours).contains('\r'), "{:?}", body(&ours));
    assert!(body(&by_psql).contains("\r\n"), "{:?}", body(&by_psql));
    // And so the schemas differ: the function's source is part of the snapshot.
    assert_ne!(state(&ours).snapshot, state(&by_psql).snapshot);
    // Given the text pgstrata reads, psql builds the same database.
    let by_psql_normalized = TestDb::new();
    psql_ok(&by_psql_normalized, &normalize(&raw));
    let (expected, actual) = (state(&by_psql_normalized), state(&ours));
    assert_eq!(
        (expected.snapshot, expected.rows),
        (actual.snapshot, actual.rows)
    );
}

/// Documents how each reads a byte-order mark: pgstrata always drops it; psql drops it on the
/// first line when its client encoding is UTF-8 (psql's mainloop.c), and otherwise reads it as
/// part of the first token, a syntax error.
#[test]
fn a_bom_is_dropped_by_pgstrata_always_and_by_psql_only_in_utf8() {
    let raw = corpus("bom.sql");
    let ours = TestDb::new();
    pgstrata_up(&ours, &raw);
    let utf8 = TestDb::new();
    psql_ok(&utf8, &raw);
    let (expected, actual) = (state(&utf8), state(&ours));
    assert_eq!(
        (expected.snapshot, expected.rows),
        (actual.snapshot, actual.rows)
    );
    let other = TestDb::new();
    let (code, err) = psql_file(&other, &raw, "SQL_ASCII");
    assert_eq!(code, 3, "psql stops at the first error: {err}");
    assert!(err.contains("syntax error at or near"), "{err}");
    assert!(
        query_text(
            &mut other.connect(),
            "SELECT (to_regclass('bom') IS NULL)::text"
        ) == "true"
    );
}

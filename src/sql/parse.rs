//! Splitting a script into statements with PostgreSQL's own grammar: libpg_query, through
//! the pg_query crate. A script the parser rejects is a [`SyntaxError`] at the exact
//! character where the parser stopped, whatever the reason (an unterminated comment, string,
//! dollar quote or quoted identifier, a psql meta-command, a syntax error).

use std::ffi::{CStr, CString, c_char, c_int};

use pg_query::protobuf;
use prost::Message;

use super::classify::{Class, classify};
use super::text;

/// One statement of a script, located by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of its first token in the script.
    pub start: usize,
    /// Byte offset just past its last token (the `;` not included).
    pub end: usize,
    pub class: Class,
}

impl Statement {
    /// The statement's text in `script`.
    pub fn text<'a>(&self, script: &'a str) -> &'a str {
        &script[self.start..self.end]
    }

    /// The statement's first words, for messages: `CREATE INDEX CONCURRENTLY`.
    pub fn head(&self, script: &str) -> String {
        self.text(script)
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The parser refused the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The parser's message, shortened (the caret shows where).
    pub message: String,
    /// Byte offset in the script where the parser stopped.
    pub offset: usize,
    /// What to do about it, when pgstrata knows better than the parser's message.
    pub hint: Option<&'static str>,
}

impl SyntaxError {
    /// `file:line:col: message`, the line with a caret, and the hint.
    pub fn render(&self, file: &str, script: &str) -> String {
        let (line, col) = text::line_col(script, self.offset);
        let mut out = format!(
            "{file}:{line}:{col}: {} (PostgreSQL's parser; nothing was run)\n{}",
            self.message,
            text::excerpt(script, self.offset)
        );
        if let Some(hint) = self.hint {
            out.push_str("\n  hint: ");
            out.push_str(hint);
        }
        out
    }
}

/// Runs `parse_all` (which parses) on a thread with room for deep parse trees. libpg_query
/// stops at PostgreSQL's own depth limit (the server accepts some 1,000 chained `||`), but
/// decoding and dropping a tree that deep takes more stack in Rust than a main thread has
/// (500 chained `||` overflowed 8 MB in a debug build) once prost's limit of 100 nested
/// messages, which refused about 50, is lifted (see Cargo.toml). The stack is only reserved:
/// pages are used as a tree needs them. One thread for a whole project, not one per file.
pub fn with_room<T: Send>(parse_all: impl FnOnce() -> T + Send) -> std::io::Result<T> {
    const STACK: usize = 256 << 20;
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("sql-parser".into())
            .stack_size(STACK)
            .spawn_scoped(scope, parse_all)?;
        Ok(parser
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Splits `script` into its statements, each classified; comments and empty statements
/// are not statements. A very deep statement needs [`with_room`].
pub fn parse(script: &str) -> Result<Vec<Statement>, SyntaxError> {
    if let Some(nul) = script.find('\0') {
        return Err(SyntaxError {
            message: "the file contains a NUL byte, which is not text".to_string(),
            offset: nul,
            hint: Some("save it as UTF-8 text"),
        });
    }
    let tree = match parse_tree(script) {
        Ok(tree) => tree,
        Err(failure) => return Err(locate_failure(script, failure)),
    };
    let mut statements = Vec::with_capacity(tree.stmts.len());
    for raw in &tree.stmts {
        let start = usize::try_from(raw.stmt_location)
            .unwrap_or(0)
            .min(script.len());
        // A length of 0 means "to the end of the script" (the last statement, no `;`).
        let end = match usize::try_from(raw.stmt_len) {
            Ok(len) if len > 0 => (start + len).min(script.len()),
            _ => script.len(),
        };
        let end = start + script[start..end].trim_end().len();
        let class = raw
            .stmt
            .as_ref()
            .and_then(|node| node.node.as_ref())
            .map(classify)
            .unwrap_or_default();
        statements.push(Statement { start, end, class });
    }
    Ok(statements)
}

/// The whole parse tree of `script`, for what needs more than [`parse`] keeps (the lint
/// rules). A very deep statement needs [`with_room`].
pub(super) fn parse_tree_of(script: &str) -> Result<protobuf::ParseResult, SyntaxError> {
    parse_tree(script).map_err(|failure| locate_failure(script, failure))
}

/// Checks that PostgreSQL's parser accepts `script`, without building its tree: what a no-op
/// `up` does for every file, several times cheaper than [`parse`]. Use [`parse`] for the
/// statements and what they are.
pub fn check_syntax(script: &str) -> Result<(), SyntaxError> {
    match raw_check(script) {
        Ok(()) => Ok(()),
        Err(failure) => Err(locate_failure(script, failure)),
    }
}

/// The parser's error for `script`, located.
fn locate_failure(script: &str, failure: Failure) -> SyntaxError {
    let offset = usize::try_from(failure.cursor)
        .ok()
        .and_then(|c| text::char_position_to_byte(script, c))
        .unwrap_or(0)
        .min(script.len());
    let hint = if follows_copy_from_stdin(&script[..offset]) {
        Some(
            "these lines are the data of the `COPY … FROM STDIN` before them (pg_dump's format), \
             which psql sends and pgstrata does not: load the data with INSERT … VALUES, or \
             COPY from a file on the server",
        )
    } else if script[offset..].starts_with('\\') {
        Some(
            "psql meta-commands (\\set, \\i, \\copy, \\connect…) are not SQL: pgstrata sends files \
             to the server, not to psql; write the SQL they stand for",
        )
    } else {
        None
    };
    SyntaxError {
        message: shorten(&failure.message),
        offset,
        hint,
    }
}

/// Whether `before` (the script up to where the parser stopped) ends with a `COPY … FROM
/// STDIN`: what the parser then trips over is the data that psql would have sent after it.
fn follows_copy_from_stdin(before: &str) -> bool {
    let Ok(tree) = parse_tree(before) else {
        return false;
    };
    let last = tree.stmts.last();
    matches!(
        last.and_then(|raw| raw.stmt.as_ref()).and_then(|n| n.node.as_ref()),
        Some(pg_query::NodeEnum::CopyStmt(copy)) if copy.is_from && copy.filename.is_empty() && !copy.is_program
    )
}

/// Shortens `… at or near "<the rest of the file>"`, which an unterminated comment or string
/// produces, to its first line and 40 characters.
fn shorten(message: &str) -> String {
    const NEAR: &str = " at or near \"";
    let Some(at) = message.find(NEAR) else {
        return message.to_string();
    };
    let near = &message[at + NEAR.len()..];
    let near = near.strip_suffix('"').unwrap_or(near);
    let first_line = near.lines().next().unwrap_or("");
    if first_line.len() == near.len() && near.chars().count() <= 40 {
        return message.to_string();
    }
    let short: String = first_line.chars().take(40).collect();
    format!("{}{NEAR}{short}…\"", &message[..at])
}

// libpg_query's C API (pg_query.h), as linked by the pg_query crate. Called directly, not
// through `pg_query::parse`: that keeps only the error's message (not its position), and
// walks every parse tree to collect tables, functions and aliases pgstrata does not use,
// which was most of the time of loading a project.
#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    /// 1-based character position in the input.
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

#[repr(C)]
struct PgQuerySplitResult {
    stmts: *mut *mut std::ffi::c_void,
    n_stmts: c_int,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

/// `PG_QUERY_PARSE_DEFAULT`: the top-level SQL grammar.
const PARSE_DEFAULT: c_int = 0;

unsafe extern "C" {
    fn pg_query_parse_protobuf_opts(
        input: *const c_char,
        parser_options: c_int,
    ) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
    fn pg_query_split_with_parser(input: *const c_char) -> PgQuerySplitResult;
    fn pg_query_free_split_result(result: PgQuerySplitResult);
}

/// What the parser said about a script it refused.
struct Failure {
    message: String,
    /// 1-based character position.
    cursor: i32,
}

/// Whether the parser accepts `script` (the raw parse the splitter runs, no tree built).
fn raw_check(script: &str) -> Result<(), Failure> {
    let Ok(input) = CString::new(script) else {
        return Err(Failure {
            message: "the file contains a NUL byte, which is not text".to_string(),
            cursor: 0,
        });
    };
    // SAFETY: as in `parse_tree`: a valid NUL-terminated input that outlives the call, the
    // result read before it is freed, and freed once with the library's own function.
    unsafe {
        let result = pg_query_split_with_parser(input.as_ptr());
        let outcome = match result.error.as_ref() {
            Some(error) => Err(failure(error)),
            None => Ok(()),
        };
        pg_query_free_split_result(result);
        outcome
    }
}

/// The parser's error as pgstrata keeps it.
///
/// # Safety
/// `error.message` is null or a valid C string.
unsafe fn failure(error: &PgQueryError) -> Failure {
    Failure {
        message: if error.message.is_null() {
            "the parser failed without a message".to_string()
        } else {
            // SAFETY: the caller's promise.
            unsafe { CStr::from_ptr(error.message) }
                .to_string_lossy()
                .into_owned()
        },
        cursor: error.cursorpos,
    }
}

/// The parse tree of `script` (which holds no NUL byte), or the parser's error.
fn parse_tree(script: &str) -> Result<protobuf::ParseResult, Failure> {
    let Ok(input) = CString::new(script) else {
        return Err(Failure {
            message: "the file contains a NUL byte, which is not text".to_string(),
            cursor: 0,
        });
    };
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // read before it is freed, and freed exactly once with the library's own function.
    unsafe {
        let result = pg_query_parse_protobuf_opts(input.as_ptr(), PARSE_DEFAULT);
        let outcome = match result.error.as_ref() {
            Some(error) => Err(failure(error)),
            None => {
                let bytes = if result.parse_tree.data.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(
                        result.parse_tree.data as *const u8,
                        result.parse_tree.len,
                    )
                };
                protobuf::ParseResult::decode(bytes).map_err(|err| Failure {
                    message: format!("could not read the parser's tree: {err}"),
                    cursor: 0,
                })
            }
        };
        pg_query_free_protobuf_parse_result(result);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{ReindexTarget, TransactionControl};

    fn texts(script: &str) -> Vec<&str> {
        parse(script)
            .unwrap()
            .iter()
            .map(|s| s.text(script))
            .collect()
    }

    #[test]
    fn splits_where_the_server_would() {
        let script = "CREATE TABLE t (a text DEFAULT ';');\n-- a comment; here\n\
                      /* block; /* nested; */ still */ INSERT INTO t VALUES ($$;$$, $x$ ; $x$);\n\
                      SELECT \"semi;colon\" FROM t; SELECT E'it\\'s;'";
        assert_eq!(
            texts(script),
            vec![
                "CREATE TABLE t (a text DEFAULT ';')",
                "INSERT INTO t VALUES ($$;$$, $x$ ; $x$)",
                "SELECT \"semi;colon\" FROM t",
                "SELECT E'it\\'s;'",
            ]
        );
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let script = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  \
                      SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n  SELECT 3;\nEND;\nSELECT f(1);";
        let statements = texts(script);
        assert_eq!(statements.len(), 2, "{statements:?}");
        assert!(statements[0].ends_with("END"), "{statements:?}");
    }

    #[test]
    fn comments_and_empty_statements_are_not_statements() {
        assert!(texts("-- nothing\n/* at all */\n ; ;").is_empty());
        let script = "-- header\nSELECT 1;\n\n  SELECT 2 -- trailing\n";
        let statements = parse(script).unwrap();
        assert_eq!(statements[1].start, script.find("SELECT 2").unwrap());
        assert_eq!(statements[1].text(script), "SELECT 2 -- trailing");
    }

    #[test]
    fn an_unterminated_nested_comment_is_an_error_at_its_start() {
        // PostgreSQL comments nest, so this one never ends; a lexer that does not nest them
        // would run the first statement and skip the rest.
        let script =
            "CREATE TABLE a (id int);\n/* the archive/* reports */\nCREATE TABLE b (id int);\n";
        let err = parse(script).unwrap_err();
        assert_eq!(err.offset, script.find("/*").unwrap());
        assert!(
            err.message.starts_with("unterminated /* comment"),
            "{err:?}"
        );
        assert!(err.message.ends_with("…\""), "shortened: {err:?}");
        let shown = err.render("migrations/V1__x.sql", script);
        assert!(
            shown.starts_with("migrations/V1__x.sql:2:1: unterminated"),
            "{shown}"
        );
        assert!(
            shown.contains(" 2 | /* the archive/* reports */\n   | ^"),
            "{shown}"
        );
    }

    #[test]
    fn every_kind_of_rejection_is_located() {
        for (script, at, message) in [
            ("SELECT 'é';\nSELECT 1 +;", "+;", "syntax error"),
            (
                "SELECT 1;\nSELECT 'open",
                "'open",
                "unterminated quoted string",
            ),
            (
                "SELECT $body$ x",
                "$body$",
                "unterminated dollar-quoted string",
            ),
            ("SELECT \"open", "\"open", "unterminated quoted identifier"),
            ("SELECT 1;\n\\set x 1\n", "\\set", "syntax error"),
            ("SELECT a a a FROM t", "a FROM", "syntax error"),
        ] {
            let err = parse(script).unwrap_err();
            let expected = script.find(at).unwrap();
            // A syntax error points at the token where the parser stopped: the `;` after `+`.
            let expected = if at == "+;" { expected + 1 } else { expected };
            assert_eq!(err.offset, expected, "{script:?}: {err:?}");
            assert!(err.message.contains(message), "{script:?}: {err:?}");
        }
        let meta = parse("\\copy t from 'x'").unwrap_err();
        assert!(meta.hint.is_some_and(|h| h.contains("psql meta-commands")));
    }

    #[test]
    fn the_data_of_a_copy_from_stdin_is_named_as_such() {
        // pg_dump's format: without the hint, the error is a bare syntax error at the data.
        for script in [
            "CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM stdin;\n1\tone\n\\.\n",
            "COPY t FROM STDIN;\n\\.\n",
        ] {
            let err = parse(script).unwrap_err();
            // The error is at the first line after the COPY: its data.
            let data = script.to_ascii_lowercase().find("stdin;\n").unwrap() + "stdin;\n".len();
            assert_eq!(err.offset, data, "{script:?}: {err:?}");
            assert!(
                err.hint
                    .is_some_and(|h| h.contains("data of the `COPY … FROM STDIN`")),
                "{script:?}: {err:?}"
            );
        }
        let other = parse("COPY t FROM '/tmp/x';\nSELEC 1;").unwrap_err();
        assert_eq!(other.hint, None);
    }

    #[test]
    fn deep_expressions_parse() {
        // prost's default limit of 100 nested messages refused about 50 chained `||`, which
        // PostgreSQL runs; with the limit lifted, a deep tree must not overflow the stack.
        let deep = |script: String| with_room(move || parse(&script)).unwrap();
        for depth in [60, 300, 600] {
            let chain = vec!["'x'"; depth].join(" || ");
            let calls = format!("{}1{}", "abs(".repeat(depth / 3), ")".repeat(depth / 3));
            let script =
                format!("SELECT {chain};\nSELECT {calls};\nCREATE INDEX CONCURRENTLY i ON t (a);");
            let statements = deep(script).unwrap_or_else(|e| panic!("{depth}: {e:?}"));
            assert_eq!(statements.len(), 3);
            assert!(statements[2].class.concurrent);
        }
        // Deeper than PostgreSQL itself goes: refused like the server refuses it.
        let chain = vec!["'x'"; 20_000].join(" || ");
        let err = deep(format!("SELECT {chain}")).unwrap_err();
        assert!(
            err.message.contains("stack depth limit exceeded"),
            "{err:?}"
        );
    }

    #[test]
    fn check_syntax_agrees_with_parse() {
        for script in [
            "SELECT 1; /* a /* b */ SELECT 2",
            "SELECT 1;\n\\set x 1\n",
            "CREATE TABLE a (id int); SELECT 'x",
            "SELECT 1; SELECT 2;",
            "DO $$ BEGIN RAISE NOTICE 'a;b'; END $$;",
        ] {
            assert_eq!(
                check_syntax(script).err(),
                parse(script).err(),
                "{script:?}"
            );
        }
    }

    #[test]
    fn a_nul_byte_is_an_error_at_its_place() {
        let err = parse("SELECT 1;\nSELECT\0 2;").unwrap_err();
        assert_eq!(err.offset, 16);
    }

    #[test]
    fn classes_come_from_the_parse_tree() {
        let class = |sql: &str| parse(sql).unwrap().remove(0).class;
        assert_eq!(class("COMMIT").transaction, Some(TransactionControl::Block));
        assert_eq!(class("END").transaction, Some(TransactionControl::Block));
        assert_eq!(
            class("ROLLBACK TO SAVEPOINT a").transaction,
            Some(TransactionControl::Savepoint)
        );
        assert_eq!(class("SELECT 'COMMIT'").transaction, None);
        let cic = class("CREATE UNIQUE INDEX CONCURRENTLY i ON s.t (a)");
        assert!(cic.concurrent && cic.needs_autocommit.is_some());
        let index = cic.concurrent_index.unwrap();
        assert_eq!(
            (
                index.schema.as_deref(),
                index.name.as_deref(),
                index.table.as_str()
            ),
            (Some("s"), Some("i"), "t")
        );
        // A quoted identifier that spells a keyword is not the keyword.
        assert_eq!(
            class("CREATE INDEX \"concurrently\" ON t (a)").needs_autocommit,
            None
        );
        assert!(class("DROP INDEX CONCURRENTLY i").concurrent);
        assert!(class("REINDEX (CONCURRENTLY) INDEX i").concurrent);
        assert!(class("REINDEX INDEX CONCURRENTLY i").concurrent);
        assert!(class("REINDEX DATABASE d").needs_autocommit.is_some());
        assert_eq!(
            class("REINDEX (CONCURRENTLY) INDEX s.i").concurrent_reindex,
            Some(ReindexTarget::Index {
                schema: Some("s".into()),
                name: "i".into()
            })
        );
        assert_eq!(
            class("REINDEX TABLE CONCURRENTLY \"T\"").concurrent_reindex,
            Some(ReindexTarget::Table {
                schema: None,
                name: "T".into()
            })
        );
        assert_eq!(
            class("REINDEX SCHEMA CONCURRENTLY app").concurrent_reindex,
            Some(ReindexTarget::Schema("app".into()))
        );
        assert_eq!(
            class("REINDEX DATABASE CONCURRENTLY d").concurrent_reindex,
            Some(ReindexTarget::Database)
        );
        // Without CONCURRENTLY a failure rolls back and leaves nothing behind.
        assert_eq!(class("REINDEX INDEX i").concurrent_reindex, None);
        assert_eq!(
            class("CREATE INDEX CONCURRENTLY i ON t (a)").concurrent_reindex,
            None
        );
        assert!(class("REINDEX TABLE t").needs_autocommit.is_none());
        assert!(class("ALTER TABLE p DETACH PARTITION c CONCURRENTLY").concurrent);
        assert!(class("VACUUM t").needs_autocommit.is_some());
        assert!(class("ANALYZE t").needs_autocommit.is_none());
        assert!(class("DISCARD ALL").needs_autocommit.is_some());
        assert!(class("DISCARD ALL").releases_locks);
        assert!(class("SELECT pg_advisory_unlock_all()").releases_locks);
        assert!(class("SELECT pg_catalog.pg_advisory_unlock_all()").releases_locks);
        assert!(!class("DO $$ BEGIN PERFORM 1; END $$").releases_locks);
        assert!(!class("SELECT pg_advisory_unlock(42)").releases_locks);
        // RESET in another form lifts the file's limits as RESET does.
        assert!(class("SET lock_timeout TO DEFAULT").resets_limits);
        assert!(class("SET LOCAL statement_timeout = DEFAULT").resets_limits);
        assert!(!class("SET lock_timeout = '5s'").resets_limits);
        assert!(class("DISCARD TEMP").needs_autocommit.is_none());
        assert!(class("CLUSTER").needs_autocommit.is_some());
        assert!(class("CLUSTER t USING i").needs_autocommit.is_none());
        assert!(
            class("ALTER SYSTEM SET work_mem = '8MB'")
                .cluster_wide
                .is_some()
        );
        assert_eq!(
            class("COPY t FROM STDIN").copy_with_client,
            Some("COPY … FROM STDIN")
        );
        assert!(
            class("COPY (SELECT 1) TO STDOUT")
                .copy_with_client
                .is_some()
        );
        assert!(class("COPY t TO '/tmp/x'").copy_with_client.is_none());
        assert!(
            class("SET client_encoding = 'LATIN1'")
                .changes_reading
                .is_some()
        );
        assert!(class("SET NAMES 'LATIN1'").changes_reading.is_some());
        assert!(
            class("SET client_encoding = 'UTF8'")
                .changes_reading
                .is_none()
        );
        assert!(
            class("SET standard_conforming_strings = off")
                .changes_reading
                .is_some()
        );
        assert!(
            class("SET standard_conforming_strings = on")
                .changes_reading
                .is_none()
        );
        // The function form of SET, which a no-transaction file could otherwise use to make
        // the server read its later statements in LATIN1.
        for changing in [
            "SELECT set_config('client_encoding', 'LATIN1', false)",
            "SELECT pg_catalog.set_config('Standard_Conforming_Strings', 'off', false)",
            "SELECT 1 FROM set_config('client_encoding', 'SQL_ASCII', false)",
            "SELECT set_config('client_encoding', current_setting('x.y'), false)",
        ] {
            assert!(class(changing).changes_reading.is_some(), "{changing}");
        }
        for harmless in [
            "SELECT set_config('client_encoding', 'UTF8', true)",
            "SELECT set_config('standard_conforming_strings', 'on', false)",
            "SELECT set_config('search_path', 'app', false)",
            "SELECT 'set_config(''client_encoding'', ''LATIN1'', false)'",
            "CREATE FUNCTION f() RETURNS text LANGUAGE sql BEGIN ATOMIC \
             SELECT set_config('client_encoding', 'LATIN1', false); END",
        ] {
            assert!(class(harmless).changes_reading.is_none(), "{harmless}");
        }
        // What may COMMIT part of its work outside a transaction block (never retried).
        assert!(class("CALL backfill()").may_commit);
        assert!(class("PREPARE p AS SELECT 1").prepares);
        assert!(!class("EXECUTE p").prepares);
        assert!(class("DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$").may_commit);
        assert!(class("DO $$ BEGIN CALL p(); END $$").may_commit);
        assert!(class("DO LANGUAGE plpgsql $$ BEGIN ROLLBACK; END $$").may_commit);
        assert!(!class("DO $$ BEGIN PERFORM f(); END $$").may_commit);
        assert!(!class("SELECT 'COMMIT'").may_commit);
        assert_eq!(class("CREATE ROLE app").cluster_wide, Some("roles"));
        assert_eq!(class("GRANT app TO other").cluster_wide, Some("roles"));
        assert_eq!(class("GRANT SELECT ON t TO app").cluster_wide, None);
        let making = "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'r') THEN \
                      CREATE ROLE r NOLOGIN; END IF; END $$";
        assert_eq!(class(making).cluster_wide, Some("roles"));
        assert_eq!(class("DO $$ BEGIN PERFORM 1; END $$").cluster_wide, None);
        assert_eq!(
            class("COMMENT ON DATABASE d IS 'x'").cluster_wide,
            Some("databases")
        );
        assert!(
            class("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p")
                .needs_autocommit
                .is_some()
        );
        assert!(
            class("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false)")
                .needs_autocommit
                .is_none()
        );
    }
}

//! Just enough SQL lexing to find statement boundaries and their leading keywords.
//!
//! pgstrata never rewrites SQL. It needs statement boundaries to run a no-transaction
//! migration one statement at a time, leading keywords to refuse `COMMIT` inside a migration
//! before anything runs, and line/column arithmetic to show server errors at their source.
//! The rules follow psql's lexer (`psqlscan.l`): quotes, `E''` strings, quoted identifiers,
//! nested block comments, dollar quotes, parentheses, and `BEGIN ... END` bodies of
//! `CREATE FUNCTION/PROCEDURE` (SQL-standard bodies contain semicolons).

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text from its first token through its terminating semicolon (if any).
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub offset: usize,
    /// The first few bare words (keywords or identifiers), upper-cased.
    pub words: Vec<String>,
}

/// How many leading words a statement keeps: enough to classify it.
const WORDS_KEPT: usize = 8;

/// Splits a script into statements. Comments and whitespace between statements are dropped;
/// a statement made only of comments is not a statement.
pub fn split(script: &str) -> Vec<Statement<'_>> {
    let mut lexer = Lexer {
        bytes: script.as_bytes(),
        pos: 0,
        token_start: 0,
    };
    let mut statements = Vec::new();
    let mut current = StatementState::default();
    while let Some(token) = lexer.next_token() {
        match token {
            Token::Space | Token::Comment => continue,
            Token::Semicolon if current.paren_depth == 0 && current.begin_depth == 0 => {
                if let Some(start) = current.start {
                    statements.push(current.finish(script, start, lexer.pos));
                }
                current = StatementState::default();
                continue;
            }
            _ => {}
        }
        let token_start = lexer.token_start;
        current.start.get_or_insert(token_start);
        current.end = lexer.pos;
        match token {
            Token::Word => current.word(&script[token_start..lexer.pos]),
            Token::Open => current.paren_depth += 1,
            Token::Close => current.paren_depth = current.paren_depth.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(start) = current.start {
        let end = current.end;
        statements.push(current.finish(script, start, end));
    }
    statements
}

#[derive(Default)]
struct StatementState {
    start: Option<usize>,
    end: usize,
    words: Vec<String>,
    word_count: usize,
    paren_depth: usize,
    begin_depth: usize,
}

impl StatementState {
    fn word(&mut self, word: &str) {
        let upper = word.to_ascii_uppercase();
        self.word_count += 1;
        if self.defines_routine() && self.paren_depth == 0 {
            match upper.as_str() {
                "BEGIN" => self.begin_depth += 1,
                // CASE also ends with END; it only matters inside a BEGIN block.
                "CASE" if self.begin_depth > 0 => self.begin_depth += 1,
                "END" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
        if self.words.len() < WORDS_KEPT {
            self.words.push(upper);
        }
    }

    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: the statements whose bodies may be
    /// `BEGIN ATOMIC ... END` with semicolons inside.
    fn defines_routine(&self) -> bool {
        let w: Vec<&str> = self.words.iter().map(String::as_str).collect();
        matches!(
            w.as_slice(),
            ["CREATE", "FUNCTION" | "PROCEDURE", ..]
                | ["CREATE", "OR", "REPLACE", "FUNCTION" | "PROCEDURE", ..]
        )
    }

    fn finish(self, script: &str, start: usize, end: usize) -> Statement<'_> {
        Statement {
            text: &script[start..end],
            offset: start,
            words: self.words,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Space,
    Comment,
    Word,
    Quoted,
    Semicolon,
    Open,
    Close,
    Other,
}

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    token_start: usize,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn next_token(&mut self) -> Option<Token> {
        self.token_start = self.pos;
        let c = self.peek(0)?;
        let token = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                self.pos += 1;
                Token::Space
            }
            b'-' if self.peek(1) == Some(b'-') => {
                while self.peek(0).is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
                Token::Comment
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.block_comment();
                Token::Comment
            }
            b'\'' => {
                self.pos += 1;
                self.quoted(b'\'', false);
                Token::Quoted
            }
            b'"' => {
                self.pos += 1;
                self.quoted(b'"', false);
                Token::Quoted
            }
            b'$' => self.dollar(),
            b';' => {
                self.pos += 1;
                Token::Semicolon
            }
            b'(' | b'[' => {
                self.pos += 1;
                Token::Open
            }
            b')' | b']' => {
                self.pos += 1;
                Token::Close
            }
            c if is_word_start(c) => self.word(),
            _ => {
                self.pos += 1;
                Token::Other
            }
        };
        Some(token)
    }

    /// A word, or a string prefix (`E'..'`, `B'..'`, `X'..'`, `U&'..'`, `N'..'`).
    fn word(&mut self) -> Token {
        let start = self.pos;
        while self.peek(0).is_some_and(is_word_char) {
            self.pos += 1;
        }
        let word = &self.bytes[start..self.pos];
        if self.peek(0) == Some(b'\'') && word.len() == 1 {
            let backslash_escapes = matches!(word[0], b'e' | b'E');
            if matches!(
                word[0],
                b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N'
            ) {
                self.pos += 1;
                self.quoted(b'\'', backslash_escapes);
                return Token::Quoted;
            }
        }
        if matches!(word, b"u" | b"U")
            && self.peek(0) == Some(b'&')
            && let Some(quote @ (b'\'' | b'"')) = self.peek(1)
        {
            self.pos += 2;
            self.quoted(quote, false);
            return Token::Quoted;
        }
        Token::Word
    }

    /// Consumes up to and including the closing quote; a doubled quote is an escaped quote.
    fn quoted(&mut self, quote: u8, backslash_escapes: bool) {
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if backslash_escapes && c == b'\\' {
                self.pos += 1;
            } else if c == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
        self.pos = self.pos.min(self.bytes.len());
    }

    /// Block comments nest in PostgreSQL.
    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if c == b'/' && self.peek(1) == Some(b'*') {
                depth += 1;
                self.pos += 2;
            } else if c == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
    }

    /// `$tag$ ... $tag$`, or a lone `$` (a parameter such as `$1`).
    fn dollar(&mut self) -> Token {
        let mut end = self.pos + 1;
        if self.bytes.get(end).is_some_and(|&c| is_word_start(c)) {
            while self
                .bytes
                .get(end)
                .is_some_and(|&c| is_word_start(c) || c.is_ascii_digit())
            {
                end += 1;
            }
        }
        if self.bytes.get(end) != Some(&b'$') {
            self.pos += 1;
            return Token::Other;
        }
        let delimiter = &self.bytes[self.pos..=end];
        self.pos = end + 1;
        match find(&self.bytes[self.pos..], delimiter) {
            Some(at) => self.pos += at + delimiter.len(),
            None => self.pos = self.bytes.len(),
        }
        Token::Quoted
    }
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_char(c: u8) -> bool {
    is_word_start(c) || c.is_ascii_digit() || c == b'$'
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Why a statement cannot run inside the transaction pgstrata opens for a migration, if it
/// cannot: it controls the transaction itself, or PostgreSQL refuses it in a transaction block.
pub fn transaction_conflict(statement: &Statement) -> Option<&'static str> {
    let w: Vec<&str> = statement.words.iter().map(String::as_str).collect();
    let concurrently = w.contains(&"CONCURRENTLY");
    match w.as_slice() {
        ["BEGIN" | "START" | "COMMIT" | "END" | "ABORT", ..] => Some("controls the transaction"),
        ["ROLLBACK", next, ..] if *next != "TO" => Some("controls the transaction"),
        ["ROLLBACK"] => Some("controls the transaction"),
        ["PREPARE", "TRANSACTION", ..] => Some("controls the transaction"),
        ["CREATE", "INDEX" | "UNIQUE", ..] | ["DROP", "INDEX", ..] | ["REINDEX", ..]
            if concurrently =>
        {
            Some("cannot run inside a transaction block")
        }
        ["ALTER", "TABLE", ..] if concurrently && w.contains(&"DETACH") => {
            Some("cannot run inside a transaction block")
        }
        ["VACUUM", ..]
        | ["CREATE" | "DROP", "DATABASE" | "TABLESPACE", ..]
        | ["ALTER", "SYSTEM", ..] => Some("cannot run inside a transaction block"),
        _ => None,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, byte_offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, byte_offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based character position (PostgreSQL's error positions count
/// characters of the text sent); `None` when out of range.
pub fn char_position_to_byte(text: &str, position: usize) -> Option<usize> {
    let index = position.checked_sub(1)?;
    text.char_indices()
        .map(|(byte, _)| byte)
        .chain(std::iter::once(text.len()))
        .nth(index)
}

/// The text of the 1-based line `line`, without its newline.
pub fn line_text(text: &str, line: usize) -> &str {
    text.split('\n').nth(line - 1).unwrap_or("")
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str) -> Vec<&str> {
        split(script).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let script = "CREATE TABLE t (a text DEFAULT ';');\n-- a comment; here\n\
                      /* block; /* nested; */ still */ INSERT INTO t VALUES ($$;$$, $x$ ; $x$);\n\
                      SELECT \"we;ird\" FROM t; SELECT E'it\\'s;' ";
        assert_eq!(
            texts(script),
            vec![
                "CREATE TABLE t (a text DEFAULT ';');",
                "INSERT INTO t VALUES ($$;$$, $x$ ; $x$);",
                "SELECT \"we;ird\" FROM t;",
                "SELECT E'it\\'s;'",
            ]
        );
    }

    #[test]
    fn offsets_point_into_the_script() {
        let script = "-- header\nSELECT 1;\n\n  SELECT 2;";
        let statements = split(script);
        assert_eq!(statements[1].offset, script.find("SELECT 2").unwrap());
        assert_eq!(line_col(script, statements[1].offset), (4, 3));
    }

    #[test]
    fn comment_only_script_has_no_statements() {
        assert!(split("-- nothing\n/* at all */\n").is_empty());
    }

    #[test]
    fn sql_standard_function_bodies_keep_their_semicolons() {
        let script = "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
                      BEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n  SELECT 3;\nEND;\n\
                      SELECT f(1);";
        let found = texts(script);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].ends_with("END;"));
        assert_eq!(found[1], "SELECT f(1);");
    }

    #[test]
    fn dollar_in_identifiers_and_parameters_is_not_a_quote() {
        assert_eq!(
            texts("SELECT a$b$ FROM t WHERE x = $1; SELECT 2;"),
            vec!["SELECT a$b$ FROM t WHERE x = $1;", "SELECT 2;"]
        );
    }

    #[test]
    fn transaction_control_and_non_transactional_statements_are_recognised() {
        let conflict = |sql: &str| transaction_conflict(&split(sql)[0]);
        assert!(conflict("COMMIT;").is_some());
        assert!(conflict("begin;").is_some());
        assert!(conflict("START TRANSACTION ISOLATION LEVEL SERIALIZABLE;").is_some());
        assert!(conflict("ROLLBACK;").is_some());
        assert!(conflict("ROLLBACK TO SAVEPOINT s;").is_none());
        assert!(conflict("CREATE INDEX CONCURRENTLY i ON t (a);").is_some());
        assert!(conflict("CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);").is_some());
        assert!(conflict("CREATE INDEX i ON t (a);").is_none());
        assert!(conflict("VACUUM t;").is_some());
        assert!(conflict("DO $$ BEGIN COMMIT; END $$;").is_none());
        assert!(conflict("SELECT 'COMMIT';").is_none());
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "SELECT 'é';\nSELEC x;";
        // The server would report the 'SELEC' at character 13.
        let byte = char_position_to_byte(text, 13).unwrap();
        assert_eq!(&text[byte..byte + 5], "SELEC");
        assert_eq!(line_col(text, byte), (2, 1));
        assert_eq!(line_col(text, text.find('\'').unwrap() + 1), (1, 9));
        assert_eq!(line_text(text, 2), "SELEC x;");
        assert_eq!(char_position_to_byte(text, 0), None);
        assert_eq!(char_position_to_byte(text, 100), None);
    }
}

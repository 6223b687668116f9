//! A server error shown at its source: `migrations/V3__x.sql:12:5: ERROR 42703: …`, with
//! detail, hint, context and the offending line with a caret.
//!
//! PostgreSQL reports a position as a 1-based character index into the text sent; pgstrata
//! sends file text unchanged (or one statement of it, at a known offset), so the position
//! maps to the exact line and column of the file.

use std::fmt;

use postgres::error::{DbError, ErrorPosition};

use crate::sql::text;

/// A server error located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub file: String,
    /// 1-based line and column, when the server gave a position (or the statement is known).
    pub location: Option<(usize, usize)>,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// PL/pgSQL call stack or the internal query, when the error happened inside a function.
    pub context: Option<String>,
    /// The source line and the caret column, for display.
    pub excerpt: Option<(String, usize)>,
}

/// Where a file's text sits in what was sent to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Bytes sent before the file's text (pgstrata's own `BEGIN;`).
    pub prefix: usize,
    /// How many bytes of the file's text were sent.
    pub len: usize,
    /// Where in the file the sent part starts.
    pub offset: usize,
    /// True when one statement was sent on its own: its start is a location even when the
    /// server gives no position.
    pub single_statement: bool,
}

impl Placement {
    /// The whole file, sent as it is.
    pub fn whole(file_text: &str) -> Placement {
        Placement {
            prefix: 0,
            len: file_text.len(),
            offset: 0,
            single_statement: false,
        }
    }

    /// The file byte of a byte of the sent text, if it is file text.
    fn to_file(self, sent_byte: usize) -> Option<usize> {
        let relative = sent_byte.checked_sub(self.prefix)?;
        (relative <= self.len).then_some(relative + self.offset)
    }
}

impl SourceError {
    /// Locates `err`, raised by running `sent`, which holds part of `file_text` as `placement`
    /// says. Returns `None` when `err` did not come from the server (e.g. a broken connection).
    pub fn locate(
        err: &postgres::Error,
        file: &str,
        file_text: &str,
        sent: &str,
        placement: Placement,
    ) -> Option<SourceError> {
        let db = err.as_db_error()?;
        Some(SourceError::locate_db(db, file, file_text, sent, placement))
    }

    /// [`SourceError::locate`] for a message the server sent: an error, or a notice (see
    /// `crate::notices`), which carries the same fields.
    pub fn locate_db(
        db: &DbError,
        file: &str,
        file_text: &str,
        sent: &str,
        placement: Placement,
    ) -> SourceError {
        let mut context = db.where_().map(str::to_string);
        let byte = match db.position() {
            Some(ErrorPosition::Original(position)) => {
                text::char_position_to_byte(sent, *position as usize)
                    .and_then(|b| placement.to_file(b))
            }
            Some(ErrorPosition::Internal { position, query }) => {
                let internal = format!("internal query at character {position}: {query}");
                context = Some(match context {
                    Some(c) => format!("{c}\n{internal}"),
                    None => internal,
                });
                None
            }
            None => None,
        };
        // Without a position, a statement sent on its own is still a location.
        let byte = byte.or(placement.single_statement.then_some(placement.offset));
        let location = byte.map(|b| text::line_col(file_text, b));
        let excerpt =
            location.map(|(line, col)| (text::line_text(file_text, line).to_string(), col));
        SourceError {
            file: file.to_string(),
            location,
            code: db.code().code().to_string(),
            severity: db.severity().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
            context,
            excerpt,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, col)) => write!(f, "{}:{line}:{col}: ", self.file)?,
            None => write!(f, "{}: ", self.file)?,
        }
        write!(f, "{} {}: {}", self.severity, self.code, self.message)?;
        if let (Some((source, col)), Some((line, _))) = (&self.excerpt, self.location) {
            write!(f, "\n{}", text::caret_lines(line, source, *col))?;
        }
        for (label, value) in [
            ("detail", &self.detail),
            ("hint", &self.hint),
            ("context", &self.context),
        ] {
            if let Some(value) = value {
                write!(f, "\n  {label}: {}", value.replace('\n', "\n    "))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_location_line_and_caret() {
        let err = SourceError {
            file: "migrations/V3__x.sql".into(),
            location: Some((12, 8)),
            code: "42703".into(),
            severity: "ERROR".into(),
            message: "column \"foo\" does not exist".into(),
            detail: None,
            hint: Some("Perhaps you meant \"food\".".into()),
            context: None,
            excerpt: Some(("SELECT foo FROM t;".into(), 8)),
        };
        assert_eq!(
            err.to_string(),
            "migrations/V3__x.sql:12:8: ERROR 42703: column \"foo\" does not exist\n \
             12 | SELECT foo FROM t;\n    |        ^\n  hint: Perhaps you meant \"food\"."
        );
    }
}

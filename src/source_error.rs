//! A server error shown at its source: `migrations/V3__x.sql:12:5: ERROR 42703: …`, with
//! detail, hint, context and the offending line with a caret.
//!
//! PostgreSQL reports a position as a 1-based character index into the text sent; pgstrata
//! sends file text unchanged (or one statement of it, at a known offset), so the position
//! maps to the exact line and column of the file.

use std::fmt;

use postgres::error::ErrorPosition;

use crate::sqltext;

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

impl SourceError {
    /// Locates `err`, raised by running `sent` (which starts at byte `offset` of `file_text`).
    /// Returns `None` when `err` did not come from the server (e.g. a broken connection).
    pub fn locate(
        err: &postgres::Error,
        file: &str,
        file_text: &str,
        sent: &str,
        offset: usize,
    ) -> Option<SourceError> {
        let db = err.as_db_error()?;
        let mut context = db.where_().map(str::to_string);
        let byte = match db.position() {
            Some(ErrorPosition::Original(position)) => {
                sqltext::char_position_to_byte(sent, *position as usize).map(|b| b + offset)
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
        let byte = byte.or((sent.len() < file_text.len()).then_some(offset));
        let location = byte.map(|b| sqltext::line_col(file_text, b));
        let excerpt =
            location.map(|(line, col)| (sqltext::line_text(file_text, line).to_string(), col));
        Some(SourceError {
            file: file.to_string(),
            location,
            code: db.code().code().to_string(),
            severity: db.severity().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
            context,
            excerpt,
        })
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, col)) => write!(f, "{}:{line}:{col}: ", self.file)?,
            None => write!(f, "{}: ", self.file)?,
        }
        write!(f, "{} {}: {}", self.severity, self.code, self.message)?;
        if let (Some((text, col)), Some((line, _))) = (&self.excerpt, self.location) {
            let gutter = line.to_string();
            let pad = " ".repeat(gutter.len());
            // Tabs keep their width in the caret line so the caret lines up.
            let lead: String = text
                .chars()
                .take(col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n {gutter} | {text}\n {pad} | {lead}^")?;
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

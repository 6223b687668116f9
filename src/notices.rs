//! The server's own words: NOTICE, WARNING and the other messages PostgreSQL sends beside a
//! statement's result (`RAISE WARNING`, "relation … already exists, skipping", "identifier …
//! will be truncated"), collected from a connection and attributed to the file that caused
//! them.
//!
//! A [`Notices`] buffer is attached to a connection when it is opened (the driver calls back
//! for every notice while a statement runs). Whoever sends a file's SQL then says which file,
//! and which part of it, the notices received since came from ([`Notices::place`]): a position
//! the server gives is mapped to file:line:col as for errors (see `source_error`). What nobody
//! places is pgstrata's own bookkeeping and is dropped ([`Notices::discard`]). This module
//! never prints.

use std::sync::{Arc, Mutex, PoisonError};

use postgres::error::DbError;
use serde::Serialize;

use crate::source_error::{Placement, SourceError};
use crate::sql::text;

/// A message the server sent while a file ran, located in that file where the server gave
/// a position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// `WARNING`, `NOTICE`, `INFO`, `LOG` or `DEBUG`, untranslated.
    pub severity: String,
    /// The SQLSTATE: `01000` for a plain `RAISE WARNING`, `00000` for a plain notice.
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The PL/pgSQL call stack or internal query (JSON only: every `RAISE` has one).
    pub context: Option<String>,
    /// The file it came from; `None` for the view rebuild as a whole.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The source line and caret column, for display.
    #[serde(skip)]
    excerpt: Option<(String, usize)>,
}

impl Notice {
    /// A WARNING is always shown; `--quiet` hides the rest (NOTICE, and INFO, LOG and DEBUG,
    /// which PostgreSQL ranks below NOTICE).
    pub fn is_warning(&self) -> bool {
        self.severity == "WARNING"
    }

    /// The lines shown on stderr: `file:line:col: SEVERITY: message`, the source line with a
    /// caret when located, then `detail:` and `hint:` lines.
    pub fn display(&self) -> String {
        let source = self.file.as_deref().unwrap_or("the view rebuild");
        let mut shown = match (self.line, self.column) {
            (Some(line), Some(col)) => format!("{source}:{line}:{col}: "),
            _ => format!("{source}: "),
        };
        shown.push_str(&format!("{}: {}", self.severity, self.message));
        if let (Some((text_line, col)), Some(line)) = (&self.excerpt, self.line) {
            shown.push('\n');
            shown.push_str(&text::caret_lines(line, text_line, *col));
        }
        for (label, value) in [("detail", &self.detail), ("hint", &self.hint)] {
            if let Some(value) = value {
                shown.push_str(&format!("\n  {label}: {}", value.replace('\n', "\n    ")));
            }
        }
        shown
    }

    fn new(db: &DbError, located: Option<SourceError>) -> Notice {
        // The untranslated severity (PostgreSQL 9.6+), so that `--quiet` works whatever the
        // server's language; DEBUG1..5 all read DEBUG.
        let severity = match db.parsed_severity() {
            Some(severity) => severity.to_string(),
            None => db.severity().to_string(),
        };
        let (file, location, excerpt, context) = match located {
            Some(found) => (
                Some(found.file),
                found.location,
                found.excerpt,
                found.context,
            ),
            None => (None, None, None, db.where_().map(str::to_string)),
        };
        Notice {
            severity,
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
            context,
            file,
            line: location.map(|(line, _)| line),
            column: location.map(|(_, col)| col),
            excerpt,
        }
    }
}

/// Notices received on one connection, shared with the driver's callback. Cloning shares the
/// buffer. A buffer attached to no connection stays empty.
#[derive(Clone, Default)]
pub struct Notices {
    buffer: Arc<Mutex<Buffer>>,
}

#[derive(Default)]
struct Buffer {
    /// Received and not yet placed, in order.
    received: Vec<DbError>,
    /// Placed in a file, waiting for [`Notices::take`].
    placed: Vec<Notice>,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notices")
    }
}

impl Notices {
    pub fn new() -> Notices {
        Notices::default()
    }

    /// Makes connections opened with `config` deliver their notices here.
    pub fn attach(&self, config: &mut postgres::Config) {
        let buffer = Arc::clone(&self.buffer);
        config.notice_callback(move |notice| lock(&buffer).received.push(notice));
    }

    /// Drops what was received and not placed: pgstrata's own statements (the history's
    /// `CREATE SCHEMA IF NOT EXISTS`, …) and attempts that were rolled back and retried.
    /// Notices already placed are kept.
    pub fn discard(&self) {
        lock(&self.buffer).received.clear();
    }

    /// Whether anything was received and not placed (so that a caller can skip building what
    /// `place` needs, a copy of what was sent, in the common case of no notices).
    pub fn pending(&self) -> bool {
        !lock(&self.buffer).received.is_empty()
    }

    /// Says that what was received since the last `place` or `discard` came from running
    /// `sent`, which holds part of the file `path` (text `file_text`) as `placement` says.
    pub fn place(&self, path: &str, file_text: &str, sent: &str, placement: Placement) {
        let mut buffer = lock(&self.buffer);
        let received = std::mem::take(&mut buffer.received);
        for db in &received {
            let located = SourceError::locate_db(db, path, file_text, sent, placement);
            buffer.placed.push(Notice::new(db, Some(located)));
        }
    }

    /// Everything placed since the last `take`, then what was received and not placed,
    /// attributed to `file` without a location (`None`: to the view rebuild as a whole).
    pub fn take(&self, file: Option<&str>) -> Vec<Notice> {
        let mut buffer = lock(&self.buffer);
        let received = std::mem::take(&mut buffer.received);
        let mut notices = std::mem::take(&mut buffer.placed);
        notices.extend(received.iter().map(|db| {
            let mut notice = Notice::new(db, None);
            notice.file = file.map(str::to_string);
            notice
        }));
        notices
    }
}

/// The buffer, also after a panic elsewhere held it (a list of messages cannot be left
/// inconsistent by one).
fn lock(buffer: &Mutex<Buffer>) -> std::sync::MutexGuard<'_, Buffer> {
    buffer.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(severity: &str, line: Option<usize>) -> Notice {
        Notice {
            severity: severity.into(),
            code: "01000".into(),
            message: "careful".into(),
            detail: Some("two\nlines".into()),
            hint: None,
            context: Some("PL/pgSQL function inline_code_block line 1 at RAISE".into()),
            file: Some("migrations/V3__x.sql".into()),
            line,
            column: line.map(|_| 5),
            excerpt: line.map(|_| ("SET x = 1;".to_string(), 5)),
        }
    }

    #[test]
    fn display_names_the_file_and_leaves_the_context_to_json() {
        assert_eq!(
            notice("WARNING", None).display(),
            "migrations/V3__x.sql: WARNING: careful\n  detail: two\n    lines"
        );
        assert_eq!(
            notice("NOTICE", Some(2)).display(),
            "migrations/V3__x.sql:2:5: NOTICE: careful\n 2 | SET x = 1;\n   |     ^\n  \
             detail: two\n    lines"
        );
    }

    #[test]
    fn only_warnings_count_as_warnings() {
        assert!(notice("WARNING", None).is_warning());
        for severity in ["NOTICE", "INFO", "LOG", "DEBUG"] {
            assert!(!notice(severity, None).is_warning());
        }
    }

    #[test]
    fn a_detached_buffer_stays_empty() {
        let notices = Notices::new();
        notices.discard();
        assert!(notices.take(Some("migrations/V1__a.sql")).is_empty());
    }
}

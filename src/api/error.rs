//! The library's error: what went wrong, as a [`ErrorKind`] a caller can branch on, and what
//! a run had done before it failed. The CLI's JSON reports carry the same kind's
//! [`name`](ErrorKind::name) as `error.kind`, so a program and a pipeline see one vocabulary.

use std::fmt;

use crate::api::report::Report;
use crate::error::Refusal;

/// An error from pgstrata: its [`kind`](Error::kind), the full message (every cause, as
/// `Display` shows it: "applying migrations/V3__x.sql: …"), and for `up` and `down` the
/// [`report`](Error::report) of what was done before the failure.
pub struct Error {
    kind: ErrorKind,
    report: Option<Box<Report>>,
    inner: anyhow::Error,
}

/// What kind of failure an [`Error`] is. New kinds may be added: match with a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The project's files are invalid: one line per problem, each naming its file. Nothing
    /// was run. (`invalid_project`)
    InvalidProject { problems: Vec<String> },
    /// An applied migration's file has changed since it was applied: a checksum mismatch.
    /// Nothing was run. (`modified`)
    ChecksumMismatch {
        version: i64,
        /// `migrations/V3__x.sql`.
        file: String,
        /// sha256 (hex) recorded when it was applied, and of the file now.
        applied: String,
        current: String,
    },
    /// Another run held the migration lock for longer than the lock wait. Nothing was run.
    /// (`lock_timeout`)
    LockBusy {
        /// The session holding it: pid, application, client, since when.
        holder: String,
    },
    /// pgstrata refused for another reason the message explains; `reason` is its stable name:
    /// `dirty`, `missing_on_disk`, `out_of_order`, `irreversible`, `unknown_version`,
    /// `blocked` (every attempt lost a race for a table lock, the last was rolled back),
    /// `invalid_indexes`, `data_loss`. The step it refused was not run.
    Refused { reason: &'static str },
    /// The server refused a statement (`database`), located in the file that holds it when
    /// known.
    Sql {
        /// The SQLSTATE, e.g. `42P01`.
        sqlstate: String,
        /// `migrations/V3__x.sql`, when the statement came from a project file.
        file: Option<String>,
        /// 1-based line and column in `file`.
        line: Option<usize>,
        column: Option<usize>,
    },
    /// No connection could be made, or it was lost (`connection`).
    Connection,
    /// Anything else: settings, files, usage (`error`).
    Other,
}

impl ErrorKind {
    /// The stable name of the kind, as the CLI's JSON reports give it in `error.kind`:
    /// `invalid_project`, `modified`, `lock_timeout`, a refusal's reason, `database`,
    /// `connection` or `error`.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::InvalidProject { .. } => "invalid_project",
            ErrorKind::ChecksumMismatch { .. } => "modified",
            ErrorKind::LockBusy { .. } => "lock_timeout",
            ErrorKind::Refused { reason } => reason,
            ErrorKind::Sql { .. } => "database",
            ErrorKind::Connection => "connection",
            ErrorKind::Other => "error",
        }
    }

    /// Whether pgstrata refused to act (the project, the history or the lock said no) rather
    /// than something failing while it acted.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ErrorKind::InvalidProject { .. }
                | ErrorKind::ChecksumMismatch { .. }
                | ErrorKind::LockBusy { .. }
                | ErrorKind::Refused { .. }
        )
    }

    /// The kind of an internal error, found in its chain of causes.
    pub(crate) fn of(err: &anyhow::Error) -> ErrorKind {
        if let Some(refusal) = err.chain().find_map(|c| c.downcast_ref::<Refusal>()) {
            return match refusal {
                Refusal::InvalidProject(problems) => ErrorKind::InvalidProject {
                    problems: problems.clone(),
                },
                Refusal::Modified {
                    version,
                    file,
                    applied,
                    current,
                } => ErrorKind::ChecksumMismatch {
                    version: *version,
                    file: file.clone(),
                    applied: applied.clone(),
                    current: current.clone(),
                },
                Refusal::LockTimeout { holder, .. } => ErrorKind::LockBusy {
                    holder: holder.clone(),
                },
                other => ErrorKind::Refused {
                    reason: other.kind(),
                },
            };
        }
        // Opening a connection failed, whatever the server answered (a wrong password is a
        // server error too), or an open one was lost.
        // (anyhow finds a context value through the layers of context added after it.)
        let connecting = err.downcast_ref::<crate::conninfo::Connecting>().is_some();
        if connecting || crate::db::connection_lost(err).is_some() {
            return ErrorKind::Connection;
        }
        if let Some(source) = err
            .chain()
            .find_map(|c| c.downcast_ref::<crate::source_error::SourceError>())
        {
            return ErrorKind::Sql {
                sqlstate: source.code.clone(),
                file: Some(source.file.clone()),
                line: source.location.map(|(line, _)| line),
                column: source.location.map(|(_, column)| column),
            };
        }
        if let Some(pg) = err
            .chain()
            .find_map(|c| c.downcast_ref::<postgres::Error>())
        {
            return match pg.as_db_error() {
                Some(db) => ErrorKind::Sql {
                    sqlstate: db.code().code().to_string(),
                    file: None,
                    line: None,
                    column: None,
                },
                // No answer from a server: it could not be reached, or refused the session.
                None => ErrorKind::Connection,
            };
        }
        ErrorKind::Other
    }
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// For `up` and `down`: what was done before the failure (migrations applied or rolled
    /// back, each committed with its history row), when anything was attempted.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_deref()
    }

    pub(crate) fn with_report(mut self, report: Report) -> Error {
        self.report = Some(Box::new(report));
        self
    }
}

impl From<anyhow::Error> for Error {
    fn from(inner: anyhow::Error) -> Error {
        Error {
            kind: ErrorKind::of(&inner),
            report: None,
            inner,
        }
    }
}

impl fmt::Display for Error {
    /// The message with every cause, as the CLI shows it after `error: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.inner)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &format!("{:#}", self.inner))
            .finish()
    }
}

impl std::error::Error for Error {}

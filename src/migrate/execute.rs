//! Sending a file's SQL to the server under its time limits, and turning a server error into
//! a [`SourceError`] located in that file (and the notices it raised into notices placed in
//! it).
//!
//! The file text is sent exactly as loaded (normalised), at most behind pgstrata's own
//! `BEGIN;` and `SET LOCAL` lines, so the server's error positions map to positions in the
//! file.

use std::time::Duration;

use anyhow::Result;
use postgres::{Client, GenericClient};

use crate::config::Limits;
use crate::migrate::project::SqlFile;
use crate::notices::Notices;
use crate::source_error::{Placement, SourceError};
use crate::sql::Statement;

/// The time limits a file runs under: its own directives over the run's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub lock_retries: u32,
    /// The file set its own `-- pgstrata:lock-timeout`, which then applies to every
    /// statement, CONCURRENTLY ones included.
    lock_timeout_from_file: bool,
    /// The file set its own `-- pgstrata:statement-timeout`.
    statement_timeout_from_file: bool,
}

impl FileLimits {
    pub fn of(run: &Limits, file: &SqlFile) -> FileLimits {
        FileLimits {
            lock_timeout: file.lock_timeout.unwrap_or(run.lock_timeout),
            statement_timeout: file.statement_timeout.unwrap_or(run.statement_timeout),
            lock_retries: run.lock_retries,
            lock_timeout_from_file: file.lock_timeout.is_some(),
            statement_timeout_from_file: file.statement_timeout.is_some(),
        }
    }

    /// The run's limits, for work that is not a file (the view rebuild).
    pub fn of_run(run: &Limits) -> FileLimits {
        FileLimits::of(run, &SqlFile::default())
    }

    /// The lock timeout for one statement of a no-transaction file: a CONCURRENTLY
    /// statement waits for older transactions anywhere in the database without blocking any
    /// reader or writer, and a lock timeout would only make it fail half done (an INVALID
    /// index left behind); so the run's setting does not apply to it, the file's own does.
    pub fn lock_timeout_for(&self, statement: &Statement) -> Duration {
        if statement.class.concurrent && !self.lock_timeout_from_file {
            Duration::ZERO
        } else {
            self.lock_timeout
        }
    }

    /// `SET LOCAL` lines for the file's own limits, for its transaction (they end with it);
    /// empty when the file has none. The run's limits are the session's already: they are
    /// part of the baseline every file starts from (see `session::Baseline`).
    pub fn set_local(&self) -> String {
        let mut sql = String::new();
        if self.lock_timeout_from_file {
            sql.push_str(&format!(
                "SET LOCAL lock_timeout = '{}ms';\n",
                self.lock_timeout.as_millis()
            ));
        }
        if self.statement_timeout_from_file {
            sql.push_str(&format!(
                "SET LOCAL statement_timeout = '{}ms';\n",
                self.statement_timeout.as_millis()
            ));
        }
        sql
    }
}

/// `SET lock_timeout …; SET statement_timeout …;` with `verb` (`SET` or `SET LOCAL`).
pub fn set_sql(lock_timeout: Duration, statement_timeout: Duration, verb: &str) -> String {
    format!(
        "{verb} lock_timeout = '{}ms';\n{verb} statement_timeout = '{}ms';\n",
        lock_timeout.as_millis(),
        statement_timeout.as_millis()
    )
}

/// Runs the whole file as one batch in whatever transaction is open on `client`.
pub fn run_batch(client: &mut impl GenericClient, file: &SqlFile) -> Result<()> {
    client
        .batch_execute(&file.sql)
        .map_err(|err| located(err, file))
}

/// Runs one statement of a file on its own (a no-transaction file: `CREATE INDEX
/// CONCURRENTLY` must be sent alone, and commits on its own).
pub fn run_statement(
    client: &mut impl GenericClient,
    file: &SqlFile,
    statement: &Statement,
) -> Result<()> {
    let text = statement.text(&file.sql);
    client.batch_execute(text).map_err(|err| {
        let placement = statement_placement(text, statement);
        match SourceError::locate(&err, &file.path, &file.sql, text, placement) {
            Some(source) => anyhow::Error::new(source),
            None => anyhow::Error::new(err).context(format!("running {}", file.path)),
        }
    })
}

/// Runs the file under its limits, then `epilogue` (SQL of pgstrata's own), as one
/// transaction in ONE round trip: `BEGIN; [SET LOCAL …;] <file>; <epilogue>; COMMIT`. On
/// failure the transaction is rolled back and the error located in the file.
pub fn run_in_one_trip(
    client: &mut Client,
    file: &SqlFile,
    limits: &FileLimits,
    epilogue: &str,
) -> Result<()> {
    let head = one_trip_head(limits);
    let batch = one_trip_sql(file, limits, epilogue);
    match client.batch_execute(&batch) {
        Ok(()) => Ok(()),
        Err(err) => {
            // After an error the server skipped the rest, COMMIT included; end the
            // transaction. (If COMMIT itself failed, this only draws a warning.)
            let _ = client.batch_execute("ROLLBACK");
            let placement = Placement {
                prefix: head.len(),
                ..Placement::whole(&file.sql)
            };
            Err(locate(err, file, &batch, placement))
        }
    }
}

/// What [`run_in_one_trip`] sends: the file under its limits, then `epilogue`, in one
/// transaction (also what a dry run shows).
pub fn one_trip_sql(file: &SqlFile, limits: &FileLimits, epilogue: &str) -> String {
    // The newline ends a trailing `--` comment; the semicolon a last statement without one.
    format!(
        "{}{}\n;\n{epilogue}COMMIT;",
        one_trip_head(limits),
        file.sql
    )
}

/// What [`run_in_one_trip`] sends before the file's text.
fn one_trip_head(limits: &FileLimits) -> String {
    format!("BEGIN;\n{}", limits.set_local())
}

/// Runs the file under its limits, then `epilogue`, inside the transaction already open on
/// `client` (`up --single-transaction`), in one round trip: `SET LOCAL …; <file>; <epilogue>`.
/// Nothing is committed or rolled back here: on failure the caller's transaction is aborted,
/// and the error is located in the file.
pub fn run_in_open_transaction(
    client: &mut impl GenericClient,
    file: &SqlFile,
    limits: &FileLimits,
    epilogue: &str,
) -> Result<()> {
    let head = open_transaction_head(limits);
    let batch = open_transaction_sql(file, limits, epilogue);
    client.batch_execute(&batch).map_err(|err| {
        let placement = Placement {
            prefix: head.len(),
            ..Placement::whole(&file.sql)
        };
        locate(err, file, &batch, placement)
    })
}

/// What [`run_in_open_transaction`] sends (also what a dry run shows).
pub fn open_transaction_sql(file: &SqlFile, limits: &FileLimits, epilogue: &str) -> String {
    format!(
        "{}{}\n;\n{epilogue}",
        open_transaction_head(limits),
        file.sql
    )
}

/// The file's limits, always set: in one transaction for the whole run, a `SET LOCAL` of the
/// file before lasts until COMMIT, so every file sets both.
fn open_transaction_head(limits: &FileLimits) -> String {
    set_sql(limits.lock_timeout, limits.statement_timeout, "SET LOCAL")
}

/// Says that the notices received since the last placement came from
/// [`run_in_open_transaction`] running `file`.
pub fn place_open_transaction_notices(notices: &Notices, file: &SqlFile, limits: &FileLimits) {
    if !notices.pending() {
        return;
    }
    let head = open_transaction_head(limits);
    let placement = Placement {
        prefix: head.len(),
        ..Placement::whole(&file.sql)
    };
    let sent = format!("{head}{}", file.sql);
    notices.place(&file.path, &file.sql, &sent, placement);
}

/// Says that the notices received since the last placement came from [`run_in_one_trip`]
/// running `file`, so that their positions map into it.
pub fn place_one_trip_notices(notices: &Notices, file: &SqlFile, limits: &FileLimits) {
    if !notices.pending() {
        return;
    }
    let head = one_trip_head(limits);
    let placement = Placement {
        prefix: head.len(),
        ..Placement::whole(&file.sql)
    };
    // What follows the file's text is pgstrata's own: a position there maps to no line.
    let sent = format!("{head}{}", file.sql);
    notices.place(&file.path, &file.sql, &sent, placement);
}

/// Says that the notices received since the last placement came from [`run_batch`].
pub fn place_batch_notices(notices: &Notices, file: &SqlFile) {
    notices.place(
        &file.path,
        &file.sql,
        &file.sql,
        Placement::whole(&file.sql),
    );
}

/// Says that the notices received since the last placement came from [`run_statement`].
pub fn place_statement_notices(notices: &Notices, file: &SqlFile, statement: &Statement) {
    let text = statement.text(&file.sql);
    notices.place(
        &file.path,
        &file.sql,
        text,
        statement_placement(text, statement),
    );
}

fn statement_placement(text: &str, statement: &Statement) -> Placement {
    Placement {
        prefix: 0,
        len: text.len(),
        offset: statement.start,
        single_statement: true,
    }
}

/// A server error raised by running `file` as a whole, located in the file.
pub fn located(err: postgres::Error, file: &SqlFile) -> anyhow::Error {
    locate(err, file, &file.sql, Placement::whole(&file.sql))
}

fn locate(err: postgres::Error, file: &SqlFile, sent: &str, placement: Placement) -> anyhow::Error {
    match SourceError::locate(&err, &file.path, &file.sql, sent, placement) {
        Some(source) => anyhow::Error::new(source),
        None => anyhow::Error::new(err).context(format!("running {}", file.path)),
    }
}

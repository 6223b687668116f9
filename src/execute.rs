//! Sending a file's SQL to the server, and turning a server error into a [`SourceError`]
//! located in that file.
//!
//! The file text is sent exactly as loaded (normalised), at most behind pgstrata's own
//! `BEGIN;`, so the server's error positions map to positions in the file.

use anyhow::Result;
use postgres::{Client, GenericClient};

use crate::project::SqlFile;
use crate::source_error::{Placement, SourceError};
use crate::sqltext;

/// Runs the whole file as one batch in whatever transaction is open on `client`.
pub fn run_batch(client: &mut impl GenericClient, file: &SqlFile) -> Result<()> {
    client
        .batch_execute(&file.sql)
        .map_err(|err| located(err, file))
}

/// Runs the file one statement at a time, each committing on its own (for
/// `-- pgstrata:no-transaction` files: `CREATE INDEX CONCURRENTLY` must be sent alone).
/// On failure, says how many statements had already completed.
pub fn run_statements(client: &mut impl GenericClient, file: &SqlFile) -> Result<()> {
    let statements = sqltext::split(&file.sql);
    let total = statements.len();
    for (done, statement) in statements.iter().enumerate() {
        if let Err(err) = client.batch_execute(statement.text) {
            let placement = Placement {
                prefix: 0,
                len: statement.text.len(),
                offset: statement.offset,
                single_statement: true,
            };
            let error =
                match SourceError::locate(&err, &file.path, &file.sql, statement.text, placement) {
                    Some(source) => anyhow::Error::new(source),
                    None => anyhow::Error::new(err),
                };
            return Err(error.context(format!(
                "{}: statement {} of {total} failed; the {done} before it were committed \
                 (no-transaction file)",
                file.path,
                done + 1
            )));
        }
    }
    Ok(())
}

/// Runs the file, then `epilogue` (SQL of pgstrata's own), as one transaction in ONE round
/// trip: `BEGIN; <file>; <epilogue>; COMMIT`. On failure the transaction is rolled back and
/// the error located in the file.
pub fn run_in_one_trip(client: &mut Client, file: &SqlFile, epilogue: &str) -> Result<()> {
    const BEGIN: &str = "BEGIN;\n";
    // The newline ends a trailing `--` comment; the semicolon a last statement without one.
    let batch = format!("{BEGIN}{}\n;\n{epilogue};\nCOMMIT;", file.sql);
    match client.batch_execute(&batch) {
        Ok(()) => Ok(()),
        Err(err) => {
            // After an error the server skipped the rest, COMMIT included; end the
            // transaction. (If COMMIT itself failed, this only draws a warning.)
            let _ = client.batch_execute("ROLLBACK");
            let placement = Placement {
                prefix: BEGIN.len(),
                ..Placement::whole(&file.sql)
            };
            Err(locate(err, file, &batch, placement))
        }
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

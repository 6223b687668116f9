//! Sending a file's SQL to the server, and turning a server error into a [`SourceError`]
//! located in that file.
//!
//! The file text is sent exactly as loaded (normalised, nothing prepended), so the server's
//! error positions are positions in the file.

use anyhow::Result;
use postgres::GenericClient;

use crate::project::SqlFile;
use crate::source_error::SourceError;
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
            let error = match SourceError::locate(
                &err,
                &file.path,
                &file.sql,
                statement.text,
                statement.offset,
            ) {
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

/// A server error raised by running `file` as a whole, located in the file.
pub fn located(err: postgres::Error, file: &SqlFile) -> anyhow::Error {
    match SourceError::locate(&err, &file.path, &file.sql, &file.sql, 0) {
        Some(source) => anyhow::Error::new(source),
        None => anyhow::Error::new(err).context(format!("running {}", file.path)),
    }
}

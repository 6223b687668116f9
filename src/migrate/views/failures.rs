//! Failed rebuilds, kept for `status` in `<schema>.view_failures`: which view file the last
//! rebuild failed on, its checksum then, and the error. The table is optional (made by the
//! first failure, or with the history): a pgstrata that does not know it ignores it safely, as
//! a failure is shown only while the file is the one that failed and its view is not current.

use anyhow::{Context, Result};
use postgres::GenericClient;
use postgres::error::SqlState;
use postgres::types::Type;

use super::plan::file_key;
use crate::migrate::history::History;

/// The view file a rebuild failed on, so that the failure can be recorded for `status` (see
/// [`record_failure`]).
#[derive(Debug)]
pub struct FailedView {
    pub file: String,
    pub checksum: String,
}

/// Records that the rebuild failed on `failed` with `error` (the transaction was rolled back;
/// call with the lock held, outside a transaction).
pub fn record_failure(
    client: &mut impl GenericClient,
    history: &History,
    failed: &FailedView,
    error: &str,
) -> Result<()> {
    client
        .batch_execute(&history.sql(include_str!("../queries/view_failures_create.sql")))
        .context("creating the table of failed view rebuilds")?;
    client
        .execute_typed(
            &history.sql(include_str!("../queries/view_failure_record.sql")),
            &[
                (&file_key(&failed.file), Type::TEXT),
                (&failed.checksum, Type::TEXT),
                (&error, Type::TEXT),
            ],
        )
        .with_context(|| format!("recording that {} failed", failed.file))?;
    Ok(())
}

/// Forgets earlier failures after a rebuild that succeeded.
pub fn clear_failures(client: &mut impl GenericClient, history: &History) -> Result<()> {
    match client.batch_execute(&history.sql(include_str!("../queries/view_failures_clear.sql"))) {
        Err(err) if err.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(()),
        other => other.context("forgetting earlier failed view rebuilds"),
    }
}

/// The recorded failures: (file within views/, checksum, error). None when none was recorded.
pub(super) fn read_failures(
    client: &mut impl GenericClient,
    history: &History,
) -> Result<Vec<(String, String, String)>> {
    match client.query_typed(
        &history.sql(include_str!("../queries/view_failures_read.sql")),
        &[],
    ) {
        Ok(rows) => rows
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, postgres::Error>>()
            .with_context(|| {
                format!(
                    "{}.view_failures cannot be read; it was changed by hand: drop it (pgstrata \
                     makes it again)",
                    history.schema()
                )
            }),
        Err(err)
            if err.code() == Some(&SqlState::UNDEFINED_TABLE)
                || err.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            Ok(Vec::new())
        }
        Err(err) => Err(err).context("reading the failed view rebuilds"),
    }
}

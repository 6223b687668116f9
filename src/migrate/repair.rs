//! `repair`: recording the outcome of an interrupted no-transaction migration or rollback,
//! under the migration lock, once a person has looked at what it left.

use anyhow::{Result, bail};
use postgres::Client;

use crate::migrate::history::{History, RunState};
use crate::migrate::lock;
use crate::migrate::project::Project;
use crate::migrate::runner::Options;

/// How `repair` records the outcome of an interrupted no-transaction run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// All of the migration's effects are in place: record it as applied.
    MarkApplied,
    /// None are: remove its history row.
    Forget,
}

/// Records the outcome of an interrupted no-transaction migration or rollback. Refuses to
/// touch a version that is not dirty, and to mark one applied while an index its files build
/// is INVALID (see `invalid_index`; `project` names those indexes: without it, any invalid
/// index refuses).
pub fn repair(
    client: &mut Client,
    options: &Options,
    project: Option<&Project>,
    version: i64,
    action: Repair,
) -> Result<()> {
    let history = History::new(&options.history_schema);
    let (schema, wait) = (&options.history_schema, options.lock_wait);
    lock::with_lock(
        client,
        schema,
        wait,
        |_, _| {},
        |client| {
            let rows = history.read(client)?.unwrap_or_default();
            let Some(row) = rows.iter().find(|r| r.version == version) else {
                bail!(
                    "migration {version} is not recorded in the history; there is nothing to repair"
                );
            };
            if row.state == RunState::Applied {
                bail!(
                    "migration {version} is applied and was not interrupted; repair only records \
                 the outcome of an interrupted no-transaction run (use `pgstrata down` to undo \
                 it)"
                );
            }
            match action {
                Repair::MarkApplied => {
                    // An interrupted CONCURRENTLY statement leaves an invalid index that
                    // nothing else reports once the migration is recorded as applied.
                    crate::migrate::invalid_index::refuse_unfinished(client, project, row)?;
                    history.set_state(client, version, RunState::Applied, None)?;
                }
                Repair::Forget => {
                    history.delete(client, version)?;
                }
            }
            Ok(())
        },
    )
}

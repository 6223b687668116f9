//! The history table `<schema>.history` (and its companion `<schema>.views`): creating,
//! reading and writing it. Which rows to write, and when, is the runner's business.

use anyhow::{Context, Result};
use postgres::GenericClient;
use postgres::error::SqlState;

use crate::db::with_schema;

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub rollback_checksum: String,
    /// UTC, `2026-11-22T10:00:00Z`.
    pub applied_at: String,
    pub applied_by: String,
    pub execution_ms: i64,
    pub state: RunState,
}

/// `applied`, or a no-transaction migration (`running`) or rollback (`reverting`) in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Applied,
    Running,
    Reverting,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Applied => "applied",
            RunState::Running => "running",
            RunState::Reverting => "reverting",
        }
    }

    fn parse(text: &str) -> RunState {
        match text {
            "running" => RunState::Running,
            "reverting" => RunState::Reverting,
            _ => RunState::Applied,
        }
    }
}

/// The history of one database, in the configured schema.
#[derive(Debug, Clone)]
pub struct History {
    schema: String,
}

impl History {
    pub fn new(schema: &str) -> History {
        History {
            schema: schema.to_string(),
        }
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The schema's name with `{schema}` filled into a SQL template.
    pub fn sql(&self, template: &str) -> String {
        with_schema(template, &self.schema)
    }

    /// Creates the schema and tables if they do not exist. Call with the lock held.
    pub fn ensure(&self, client: &mut impl GenericClient) -> Result<()> {
        client
            .batch_execute(&self.sql(include_str!("sql/history_create.sql")))
            .with_context(|| format!("creating the history table {}.history", self.schema))
    }

    /// All rows in version order; `None` when the table does not exist yet.
    pub fn read(&self, client: &mut impl GenericClient) -> Result<Option<Vec<HistoryRow>>> {
        let rows = match client.query(&self.sql(include_str!("sql/history_read.sql")), &[]) {
            Ok(rows) => rows,
            Err(err)
                if err.code() == Some(&SqlState::UNDEFINED_TABLE)
                    || err.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
            {
                return Ok(None);
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("reading the history table {}.history", self.schema));
            }
        };
        Ok(Some(
            rows.iter()
                .map(|row| HistoryRow {
                    version: row.get(0),
                    name: row.get(1),
                    checksum: row.get(2),
                    rollback_checksum: row.get(3),
                    applied_at: row.get(4),
                    applied_by: row.get(5),
                    execution_ms: row.get(6),
                    state: RunState::parse(row.get(7)),
                })
                .collect(),
        ))
    }

    /// Records a migration with the given state.
    pub fn insert(
        &self,
        client: &mut impl GenericClient,
        migration: &crate::project::Migration,
        execution_ms: i64,
        state: RunState,
    ) -> Result<()> {
        client
            .execute(
                &self.sql(include_str!("sql/history_insert.sql")),
                &[
                    &migration.version,
                    &migration.name,
                    &migration.up.checksum,
                    &migration.down.checksum,
                    &execution_ms,
                    &state.as_str(),
                ],
            )
            .with_context(|| format!("recording migration {} in the history", migration.version))?;
        Ok(())
    }

    /// Changes a row's state (and its execution time when given).
    pub fn set_state(
        &self,
        client: &mut impl GenericClient,
        version: i64,
        state: RunState,
        execution_ms: Option<i64>,
    ) -> Result<u64> {
        client
            .execute(
                &self.sql(include_str!("sql/history_set_state.sql")),
                &[&version, &state.as_str(), &execution_ms],
            )
            .with_context(|| format!("updating migration {version} in the history"))
    }

    /// Deletes a row; returns how many were deleted.
    pub fn delete(&self, client: &mut impl GenericClient, version: i64) -> Result<u64> {
        client
            .execute(
                &self.sql(include_str!("sql/history_delete.sql")),
                &[&version],
            )
            .with_context(|| format!("removing migration {version} from the history"))
    }
}

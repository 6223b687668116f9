//! The history table `<schema>.history` (and its companion `<schema>.views`): creating,
//! reading and writing it. Which rows to write, and when, is the runner's business.

use anyhow::{Context, Result};
use postgres::GenericClient;
use postgres::error::SqlState;
use postgres::types::Type;

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
        let rows = match client.query_typed(&self.sql(include_str!("sql/history_read.sql")), &[]) {
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
        let mut rows: Vec<HistoryRow> = rows
            .iter()
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
            .collect();
        rows.sort_by_key(|row| row.version);
        Ok(Some(rows))
    }

    /// The INSERT that records `migration` as applied, to send in the same round trip as the
    /// migration itself (`BEGIN; <migration>; <this>; COMMIT`): one round trip per migration
    /// is what makes `up` as fast as `psql -1`. The simple-query protocol that carries a batch
    /// has no parameters, so this is the one place where values are written as literals; each
    /// is checked to be made of characters that cannot end a literal.
    pub fn record_statement(&self, migration: &crate::project::Migration) -> Result<String> {
        let safe = |value: &str, allowed: fn(u8) -> bool| {
            if value.is_empty() || !value.bytes().all(allowed) {
                anyhow::bail!(
                    "refusing to record migration {}: `{value}` is not a plain name or hash",
                    migration.version
                );
            }
            Ok(value.to_string())
        };
        let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let hex_byte = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        Ok(self
            .sql(include_str!("sql/history_record.sql"))
            .replace("{version}", &migration.version.to_string())
            .replace("{name}", &safe(&migration.name, name_byte)?)
            .replace("{checksum}", &safe(&migration.up.checksum, hex_byte)?)
            .replace(
                "{rollback_checksum}",
                &safe(&migration.down.checksum, hex_byte)?,
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
            .execute_typed(
                &self.sql(include_str!("sql/history_insert.sql")),
                &[
                    (&migration.version, Type::INT8),
                    (&migration.name, Type::TEXT),
                    (&migration.up.checksum, Type::TEXT),
                    (&migration.down.checksum, Type::TEXT),
                    (&execution_ms, Type::INT8),
                    (&state.as_str(), Type::TEXT),
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
            .execute_typed(
                &self.sql(include_str!("sql/history_set_state.sql")),
                &[
                    (&version, Type::INT8),
                    (&state.as_str(), Type::TEXT),
                    (&execution_ms, Type::INT8),
                ],
            )
            .with_context(|| format!("updating migration {version} in the history"))
    }

    /// Deletes a row; returns how many were deleted.
    pub fn delete(&self, client: &mut impl GenericClient, version: i64) -> Result<u64> {
        client
            .execute_typed(
                &self.sql(include_str!("sql/history_delete.sql")),
                &[(&version, Type::INT8)],
            )
            .with_context(|| format!("removing migration {version} from the history"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Migration, SqlFile};

    fn migration(name: &str, checksum: &str) -> Migration {
        let file = |path: &str| SqlFile {
            path: path.into(),
            sql: String::new(),
            checksum: checksum.into(),
            ..SqlFile::default()
        };
        Migration {
            version: 7,
            name: name.into(),
            up: file("migrations/V7.sql"),
            down: file("rollbacks/V7.sql"),
            irreversible: None,
        }
    }

    #[test]
    fn record_statement_writes_checked_literals_only() {
        let history = History::new("my schema");
        let sql = history
            .record_statement(&migration("add_x", &"ab12".repeat(16)))
            .unwrap();
        assert!(sql.contains("INSERT INTO \"my schema\".history"), "{sql}");
        assert!(sql.contains("VALUES (7, 'add_x', 'ab12"), "{sql}");
        for (name, checksum) in [("x'; DROP TABLE t; --", "ab"), ("ok", "AB"), ("ok", "ab'")] {
            assert!(
                history
                    .record_statement(&migration(name, checksum))
                    .is_err(),
                "{name} {checksum}"
            );
        }
    }
}

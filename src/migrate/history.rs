//! The history table `<schema>.history` (and its companion `<schema>.views`): creating,
//! reading and writing it. Which rows to write, and when, is the runner's business.

use anyhow::{Context, Result, anyhow};
use postgres::error::SqlState;
use postgres::types::{FromSql, Type, WasNull};
use postgres::{GenericClient, Row};

use crate::db::with_schema;

/// The format of pgstrata's tables this build writes and reads (`{schema}.meta`, see
/// queries/history_create.sql). A change to the tables raises it and upgrades older formats
/// (queries/history_upgrade.sql); a newer format is refused, since this build would misread
/// it. Format 2 added `history.out_of_order`.
pub const FORMAT: i32 = 2;

/// The tables pgstrata keeps in its history schema (queries/history_create.sql, history_meta.sql).
pub const TABLES: &[&str] = &["history", "views", "view_failures", "meta"];

/// pgstrata's tables as this build makes them: (table, [(column, type)]), types as
/// `format_type` prints them. Used only to say what is wrong with a table it cannot read.
const EXPECTED: &[(&str, &[(&str, &str)])] = &[
    (
        "history",
        &[
            ("version", "bigint"),
            ("name", "text"),
            ("checksum", "text"),
            ("rollback_checksum", "text"),
            ("applied_at", "timestamp with time zone"),
            ("applied_by", "text"),
            ("execution_ms", "bigint"),
            ("state", "text"),
            ("out_of_order", "boolean"),
        ],
    ),
    ("meta", &[("single", "boolean"), ("format", "integer")]),
];

/// The history's columns as queries/history_read.sql returns them (after `format`, `present`).
const READ_COLUMNS: &[&str] = &[
    "format",
    "present",
    "version",
    "name",
    "checksum",
    "rollback_checksum",
    "applied_at",
    "applied_by",
    "execution_ms",
    "state",
    "out_of_order",
];

/// `applied_by` of the migration `pgstrata baseline` recorded: the adopted database's whole
/// schema, whose rollback `down` never runs without `--allow-data-loss`.
pub const BASELINE_APPLIED_BY: &str = "baseline";

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
    /// Applied while a newer migration was already applied (`up --allow-out-of-order`).
    pub out_of_order: bool,
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

    /// `None` for a state this build does not know: the caller refuses it rather than guess
    /// (reading it as `applied` would let a half-run migration pass as done).
    fn parse(text: &str) -> Option<RunState> {
        match text {
            "applied" => Some(RunState::Applied),
            "running" => Some(RunState::Running),
            "reverting" => Some(RunState::Reverting),
            _ => None,
        }
    }
}

/// What reading the history found.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// In version order.
    pub rows: Vec<HistoryRow>,
    /// The format of the tables read: [`FORMAT`], or an older one this build reads and the
    /// runner upgrades the next time it holds the lock (1 for a history made before its
    /// format was recorded, which is format 1).
    pub format: i32,
}

impl Recorded {
    /// Whether the tables are in this build's format (nothing to upgrade).
    pub fn is_current(&self) -> bool {
        self.format == FORMAT
    }

    /// The rows, when the tables are in this build's format.
    pub fn current_rows(self) -> Option<Vec<HistoryRow>> {
        self.is_current().then_some(self.rows)
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

    /// Creates the schema and tables if they do not exist (as format 1, then upgraded: one
    /// way to every format), and records their format. Call with the lock held.
    pub fn ensure(&self, client: &mut impl GenericClient) -> Result<()> {
        let sql = [
            include_str!("queries/history_create.sql"),
            include_str!("queries/view_failures_create.sql"),
            include_str!("queries/history_meta.sql"),
            include_str!("queries/history_upgrade.sql"),
        ]
        .concat();
        client
            .batch_execute(&self.sql(&sql))
            .with_context(|| format!("creating the history table {}.history", self.schema))
    }

    /// Brings tables of an older format (or of none recorded: format 1) to [`FORMAT`], in
    /// place and in one transaction (a batch is one). Call with the lock held: no other run
    /// writes meanwhile, and readers see the old tables or the new ones, both readable.
    pub fn upgrade(&self, client: &mut impl GenericClient) -> Result<()> {
        let sql = [
            include_str!("queries/history_meta.sql"),
            include_str!("queries/history_upgrade.sql"),
        ]
        .concat();
        client.batch_execute(&self.sql(&sql)).with_context(|| {
            format!(
                "upgrading pgstrata's tables in schema {} to format {FORMAT}",
                self.schema
            )
        })
    }

    /// All rows in version order; `None` when the table does not exist yet. Fails, naming
    /// the table and the row, on anything it cannot read exactly: a newer format, a table
    /// made by someone else, a NULL or a value of another type, an unknown state.
    pub fn read(&self, client: &mut impl GenericClient) -> Result<Option<Vec<HistoryRow>>> {
        Ok(self.read_recorded(client)?.map(|recorded| recorded.rows))
    }

    /// [`History::read`], also saying whether the format was recorded.
    pub fn read_recorded(&self, client: &mut impl GenericClient) -> Result<Option<Recorded>> {
        if let Some(rows) = self.query(client, include_str!("queries/history_read.sql"))?
            && !rows.is_empty()
        {
            let format = self.cell::<Option<i32>>(&rows[0], 0, 0)?.unwrap_or(1);
            return Ok(Some(Recorded {
                rows: self.decode(&rows)?,
                format,
            }));
        }
        // No meta table (or an empty one): a history from before formats were recorded, or
        // none at all. Once per database: the runner records the format.
        let unversioned = include_str!("queries/history_read_unversioned.sql");
        Ok(match self.query(client, unversioned)? {
            Some(rows) => Some(Recorded {
                rows: self.decode(&rows)?,
                format: 1,
            }),
            None => None,
        })
    }

    /// Runs a read of pgstrata's tables: `None` when one of them (or the schema) is missing.
    fn query(&self, client: &mut impl GenericClient, template: &str) -> Result<Option<Vec<Row>>> {
        match client.query_typed(&self.sql(template), &[]) {
            Ok(rows) => Ok(Some(rows)),
            Err(err)
                if err.code() == Some(&SqlState::UNDEFINED_TABLE)
                    || err.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
            {
                Ok(None)
            }
            // A column missing or of another type: a table pgstrata did not make.
            Err(err)
                if err.code().is_some_and(|code| {
                    [
                        SqlState::UNDEFINED_COLUMN,
                        SqlState::UNDEFINED_FUNCTION,
                        SqlState::DATATYPE_MISMATCH,
                        SqlState::CANNOT_COERCE,
                    ]
                    .contains(code)
                }) =>
            {
                let reason = err
                    .as_db_error()
                    .map_or_else(|| err.to_string(), |db| db.message().to_string());
                Err(self.not_ours(client, &reason))
            }
            Err(err) => Err(err)
                .with_context(|| format!("reading the history table {}.history", self.schema)),
        }
    }

    fn decode(&self, rows: &[Row]) -> Result<Vec<HistoryRow>> {
        if let Some(first) = rows.first()
            && let Some(format) = self.cell::<Option<i32>>(first, 0, 0)?
        {
            self.check_format(format)?;
        }
        let mut out = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            if !self.cell::<bool>(row, index, 1)? {
                continue;
            }
            let version = self.cell(row, index, 2)?;
            let state: String = self.cell(row, index, 9)?;
            let Some(run_state) = RunState::parse(&state) else {
                return Err(self.unknown_state(version, &state));
            };
            out.push(HistoryRow {
                version,
                name: self.cell(row, index, 3)?,
                checksum: self.cell(row, index, 4)?,
                rollback_checksum: self.cell(row, index, 5)?,
                applied_at: self.cell(row, index, 6)?,
                applied_by: self.cell(row, index, 7)?,
                execution_ms: self.cell(row, index, 8)?,
                state: run_state,
                out_of_order: self.cell(row, index, 10)?,
            });
        }
        out.sort_by_key(|row| row.version);
        Ok(out)
    }

    /// One value, or an error naming the table, the row and the column.
    fn cell<'r, T: FromSql<'r>>(&self, row: &'r Row, index: usize, column: usize) -> Result<T> {
        row.try_get(column).map_err(|err| {
            let name = READ_COLUMNS[column];
            let table = if name == "format" { "meta" } else { "history" };
            let what = if std::error::Error::source(&err).is_some_and(|e| e.is::<WasNull>()) {
                "is NULL".to_string()
            } else {
                let actual = row.columns()[column].type_().name().to_string();
                let expected = expected_type(table, name);
                format!("is of type {actual}, where pgstrata expects {expected}")
            };
            let version = row
                .try_get::<_, i64>(2)
                .map_or(String::new(), |v| format!(" (version {v})"));
            anyhow!(
                "{}.{table} cannot be read: row {}{version}: column {name} {what}; the table was \
                 changed by hand or made by another tool, and pgstrata will not guess what it \
                 records: restore it, or give pgstrata a schema of its own with \
                 --history-schema",
                self.schema,
                index + 1
            )
        })
    }

    fn check_format(&self, format: i32) -> Result<()> {
        // An older format reads as this one (its missing columns take their defaults: see
        // queries/history_read.sql) until the runner upgrades it.
        if (1..=FORMAT).contains(&format) {
            return Ok(());
        }
        if format > FORMAT {
            anyhow::bail!(
                "the history in schema {} has format {format}, newer than this pgstrata knows \
                 (format {FORMAT}): a newer pgstrata wrote it, and this one would misread it; \
                 upgrade pgstrata",
                self.schema
            );
        }
        anyhow::bail!(
            "{}.meta records format {format}, which no pgstrata ever wrote (the first is 1); \
             it was changed by hand: if the tables are pgstrata's format 1, run UPDATE {}.meta \
             SET format = 1",
            self.schema,
            crate::db::quote_ident(&self.schema)
        )
    }

    fn unknown_state(&self, version: i64, state: &str) -> anyhow::Error {
        let shown: String = state.chars().take(40).collect();
        let shown = crate::shown::escape(&shown);
        anyhow!(
            "{schema}.history cannot be read: row version {version} has state `{shown}`, which \
             this pgstrata does not know (applied, running, reverting), so it will not guess \
             whether the migration ran; if a newer pgstrata wrote it, upgrade pgstrata; \
             otherwise inspect the database and set the state by hand (UPDATE \
             {quoted}.history SET state = 'applied' WHERE version = {version}, if the migration \
             is fully applied) or delete the row (if none of it is)",
            schema = self.schema,
            quoted = crate::db::quote_ident(&self.schema)
        )
    }

    /// The error for a table in pgstrata's place that it cannot read: what the server said,
    /// and the columns found against the columns expected.
    fn not_ours(&self, client: &mut impl GenericClient, reason: &str) -> anyhow::Error {
        let found = client
            .query_typed(
                include_str!("queries/history_columns.sql"),
                &[(&self.schema, Type::TEXT)],
            )
            .unwrap_or_default();
        let mut differences = Vec::new();
        for (table, expected) in EXPECTED {
            let columns: Vec<(String, String)> = found
                .iter()
                .filter(|row| row.get::<_, String>(0) == *table)
                .map(|row| (row.get(1), row.get(2)))
                .collect();
            let fits = expected
                .iter()
                .all(|(n, t)| columns.iter().any(|(cn, ct)| cn == n && ct == t));
            if !columns.is_empty() && !fits {
                let list = |cols: Vec<String>| cols.join(", ");
                differences.push(format!(
                    "{}.{table} has ({}) where pgstrata's has ({})",
                    self.schema,
                    list(columns.iter().map(|(n, t)| format!("{n} {t}")).collect()),
                    list(expected.iter().map(|(n, t)| format!("{n} {t}")).collect()),
                ));
            }
        }
        let what = if differences.is_empty() {
            String::new()
        } else {
            format!("; {}", differences.join("; "))
        };
        anyhow!(
            "{schema}.history is not a history table this pgstrata can read ({reason}){what}. \
             If another tool owns it, give pgstrata a schema of its own with --history-schema \
             NAME (or history_schema in pgstrata.toml); if it is pgstrata's, restore its \
             columns",
            schema = self.schema
        )
    }

    /// The INSERT that records `migration` as applied, to send in the same round trip as the
    /// migration itself (`BEGIN; <migration>; <this>; COMMIT`): one round trip per migration
    /// is what makes `up` as fast as `psql -1`. The simple-query protocol that carries a batch
    /// has no parameters, so this is the one place where values are written as literals; each
    /// is checked to be made of characters that cannot end a literal.
    pub fn record_statement(
        &self,
        migration: &crate::migrate::project::Migration,
        out_of_order: bool,
    ) -> Result<String> {
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
            .sql(include_str!("queries/history_record.sql"))
            .replace("{version}", &migration.version.to_string())
            .replace("{name}", &safe(&migration.name, name_byte)?)
            .replace("{checksum}", &safe(&migration.up.checksum, hex_byte)?)
            .replace(
                "{rollback_checksum}",
                &safe(&migration.down.checksum, hex_byte)?,
            )
            .replace("{out_of_order}", &out_of_order.to_string()))
    }

    /// Records a migration with the given state.
    pub fn insert(
        &self,
        client: &mut impl GenericClient,
        migration: &crate::migrate::project::Migration,
        execution_ms: i64,
        state: RunState,
        out_of_order: bool,
    ) -> Result<()> {
        client
            .execute_typed(
                &self.sql(include_str!("queries/history_insert.sql")),
                &[
                    (&migration.version, Type::INT8),
                    (&migration.name, Type::TEXT),
                    (&migration.up.checksum, Type::TEXT),
                    (&migration.down.checksum, Type::TEXT),
                    (&execution_ms, Type::INT8),
                    (&state.as_str(), Type::TEXT),
                    (&out_of_order, Type::BOOL),
                ],
            )
            .with_context(|| format!("recording migration {} in the history", migration.version))?;
        Ok(())
    }

    /// Records a migration as applied without running it: adopted from another tool's history
    /// (`applied_on` as that tool recorded it, text PostgreSQL reads as a timestamp; `None`:
    /// now) or made by `baseline`. `by` is the history's `applied_by`: who made it applied.
    pub fn record_adopted(
        &self,
        client: &mut impl GenericClient,
        migration: &crate::migrate::project::Migration,
        applied_on: Option<&str>,
        by: &str,
    ) -> Result<()> {
        client
            .execute_typed(
                &self.sql(include_str!("queries/history_adopt.sql")),
                &[
                    (&migration.version, Type::INT8),
                    (&migration.name, Type::TEXT),
                    (&migration.up.checksum, Type::TEXT),
                    (&migration.down.checksum, Type::TEXT),
                    (&applied_on, Type::TEXT),
                    (&by, Type::TEXT),
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
                &self.sql(include_str!("queries/history_set_state.sql")),
                &[
                    (&version, Type::INT8),
                    (&state.as_str(), Type::TEXT),
                    (&execution_ms, Type::INT8),
                ],
            )
            .with_context(|| format!("updating migration {version} in the history"))
    }

    /// The DELETE that forgets migration `version`, to send in the same round trip as its
    /// rollback (see `record_statement`): the version is an integer pgstrata formats itself.
    pub fn forget_statement(&self, version: i64) -> String {
        self.sql(include_str!("queries/history_forget.sql"))
            .replace("{version}", &version.to_string())
    }

    /// Deletes a row; returns how many were deleted.
    pub fn delete(&self, client: &mut impl GenericClient, version: i64) -> Result<u64> {
        client
            .execute_typed(
                &self.sql(include_str!("queries/history_delete.sql")),
                &[(&version, Type::INT8)],
            )
            .with_context(|| format!("removing migration {version} from the history"))
    }
}

/// A column's type as this build makes it.
fn expected_type(table: &str, column: &str) -> &'static str {
    EXPECTED
        .iter()
        .filter(|(t, _)| *t == table)
        .flat_map(|(_, columns)| columns.iter())
        .find(|(c, _)| *c == column)
        .map_or("another type", |(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::project::{Migration, SqlFile};

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
            inexact: Vec::new(),
        }
    }

    #[test]
    fn record_statement_writes_checked_literals_only() {
        let history = History::new("my schema");
        let sql = history
            .record_statement(&migration("add_x", &"ab12".repeat(16)), false)
            .unwrap();
        assert!(sql.contains("INSERT INTO \"my schema\".history"), "{sql}");
        assert!(sql.contains("VALUES (7, 'add_x', 'ab12"), "{sql}");
        for (name, checksum) in [("x'; DROP TABLE t; --", "ab"), ("ok", "AB"), ("ok", "ab'")] {
            assert!(
                history
                    .record_statement(&migration(name, checksum), false)
                    .is_err(),
                "{name} {checksum}"
            );
        }
    }
}

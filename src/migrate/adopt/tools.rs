//! Adopting a database that diesel, sqlx, golang-migrate, dbmate or flyway migrated, from
//! files brought over with `pgstrata import` (whose version mapping, `import::versions`, is
//! used again here to find each applied row's file).
//!
//! Each tool's history table is read as that tool writes it:
//! - diesel `__diesel_schema_migrations(version, run_on)`: versions only, no checksum.
//! - sqlx `_sqlx_migrations(version, description, installed_on, success, checksum, …)`: the
//!   name and sqlx's SHA-384 of the file (as sqlx read it: without the line import added) are
//!   verified; a row with `success = false` (an interrupted migration) is refused.
//! - golang-migrate `schema_migrations(version, dirty)`: one row, the newest version applied;
//!   every imported migration up to it is taken as applied. `dirty = true` is refused.
//! - dbmate `schema_migrations(version)`: versions only, no checksum.
//! - flyway `flyway_schema_history`: the name and flyway's CRC32 of the file (line by line,
//!   without line ends or a byte-order mark) are verified; a failed row, a baseline, an undo or
//!   a repeatable migration is refused (pgstrata has no way to carry them).
//!
//! Every problem is reported at once and nothing is recorded unless every row checks out; then
//! all rows are recorded in pgstrata's history in one transaction under the migration lock.
//! The tool's table is left in place.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;
use sha2::{Digest, Sha384};

use super::{Adopted, qualified_table};
use crate::error::Refusal;
use crate::import::{self, Tool, versions};
use crate::migrate::history::History;
use crate::migrate::lock;
use crate::migrate::project::{Migration, Project};
use crate::shown::escape;

/// Where and how to adopt.
#[derive(Debug, Clone)]
pub struct ToolAdoption<'a> {
    pub history_schema: &'a str,
    /// The tool's history table, when not its default name.
    pub table: Option<&'a str>,
    pub lock_wait: Duration,
}

/// The history table a tool uses unless told otherwise.
pub fn default_table(tool: Tool) -> &'static str {
    match tool {
        Tool::Diesel => "__diesel_schema_migrations",
        Tool::Sqlx => "_sqlx_migrations",
        Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
        Tool::Flyway => "flyway_schema_history",
    }
}

/// One applied migration as the tool recorded it.
struct Row {
    /// The version as the tool stores it.
    version: String,
    /// sqlx's description, flyway's description.
    name: Option<String>,
    applied_on: Option<String>,
    checksum: Option<Checksum>,
    /// Why the row cannot be adopted as it is (a failed or dirty migration, a kind of
    /// migration pgstrata cannot carry); `None` when it can.
    refused: Option<String>,
}

enum Checksum {
    Sha384(Vec<u8>),
    Crc32(i32),
}

/// Records `tool`'s applied migrations in pgstrata's history, after checking each against
/// `project` (parsed).
pub fn adopt(
    client: &mut Client,
    project: &Project,
    tool: Tool,
    how: &ToolAdoption,
) -> Result<Vec<Adopted>> {
    let table = how.table.unwrap_or(default_table(tool));
    let quoted = qualified_table(table)?;
    lock::with_lock(
        client,
        how.history_schema,
        how.lock_wait,
        |_, _| {},
        |client| adopt_locked(client, project, tool, how.history_schema, table, &quoted),
    )
}

fn adopt_locked(
    client: &mut Client,
    project: &Project,
    tool: Tool,
    history_schema: &str,
    table: &str,
    quoted: &str,
) -> Result<Vec<Adopted>> {
    let history = History::new(history_schema);
    if let Some(rows) = history.read(client)? {
        bail!(Refusal::AlreadyManaged(format!(
            "{history_schema}.history exists (recording {} migrations): pgstrata already manages \
             this database, and {}'s table may be stale; adopting is only for a database \
             pgstrata has not managed yet",
            rows.len(),
            tool.name()
        )));
    }
    let rows = read_rows(client, tool, table, quoted)?;
    if rows.is_empty() {
        bail!(
            "{table} is empty: {} applied nothing here, so there is nothing to adopt",
            tool.name()
        );
    }
    let applied = check_rows(project, tool, table, &rows)?;
    let mut tx = client.transaction().context("starting the adoption")?;
    history.ensure(&mut tx)?;
    for (migration, applied_on) in &applied {
        history.record_adopted(&mut tx, migration, applied_on.as_deref(), tool.name())?;
    }
    tx.commit().context("committing the adoption")?;
    Ok(applied
        .into_iter()
        .map(|(migration, applied_on)| Adopted {
            version: migration.version,
            name: migration.name.clone(),
            applied_on,
            unwrapped: false,
        })
        .collect())
}

/// Each row's migration in the project, or every problem found.
fn check_rows<'p>(
    project: &'p Project,
    tool: Tool,
    table: &str,
    rows: &[Row],
) -> Result<Vec<(&'p Migration, Option<String>)>> {
    let mut problems = Vec::new();
    let mut applied = Vec::new();
    for row in rows {
        let shown = escape(&row.version);
        if let Some(why) = &row.refused {
            problems.push(format!("{table}: version {shown}: {why}"));
            continue;
        }
        let Some(migration) = find(project, tool, row) else {
            problems.push(format!(
                "{} applied version {shown}{}, but migrations/ has no such migration (import it \
                 with `pgstrata import --from {}`)",
                tool.name(),
                row.name
                    .as_deref()
                    .map(|n| format!(" ({})", escape(n)))
                    .unwrap_or_default(),
                tool.name()
            ));
            continue;
        };
        match verify_checksum(project, migration, row) {
            Ok(()) => applied.push((migration, row.applied_on.clone())),
            Err(problem) => problems.push(problem),
        }
    }
    if tool == Tool::GolangMigrate {
        // One row: the newest version applied; everything before it ran too.
        if let [(newest, applied_on)] = applied.as_slice() {
            let upto = newest.version;
            let applied_on = applied_on.clone();
            applied = project
                .migrations
                .iter()
                .filter(|m| m.version <= upto)
                .map(|m| (m, applied_on.clone()))
                .collect();
        } else if problems.is_empty() {
            problems.push(format!(
                "{table} has {} rows; golang-migrate keeps exactly one (the version applied)",
                rows.len()
            ));
        }
    }
    if !problems.is_empty() {
        bail!(Refusal::ForeignHistory(problems));
    }
    Ok(applied)
}

/// The project's migration for a row: by version (flyway: either numbering of its version,
/// see `import::versions`), with the same name when the tool records one.
fn find<'p>(project: &'p Project, tool: Tool, row: &Row) -> Option<&'p Migration> {
    let candidates: Vec<i64> = match tool {
        Tool::Flyway => [false, true]
            .iter()
            .filter_map(|dotted| versions::flyway(&row.version, *dotted).ok())
            .collect(),
        _ => versions::digits(&row.version).into_iter().collect(),
    };
    candidates
        .into_iter()
        .map(versions::positive)
        .filter_map(|v| project.migration(v))
        .find(|m| match &row.name {
            Some(name) => import::clean_name(name) == m.name,
            None => true,
        })
}

fn verify_checksum(project: &Project, migration: &Migration, row: &Row) -> Result<(), String> {
    let Some(recorded) = &row.checksum else {
        return Ok(());
    };
    let path = &migration.up.path;
    let text = std::fs::read_to_string(project.root.join(path))
        .map_err(|err| format!("{path}: cannot be read again: {err}"))?;
    let original = import::without_directive(&text);
    let (matches, recorded, file) = match recorded {
        Checksum::Sha384(recorded) => {
            let file = Sha384::digest(original.as_bytes()).to_vec();
            (
                *recorded == file,
                crate::checksum::hex(recorded),
                crate::checksum::hex(&file),
            )
        }
        Checksum::Crc32(recorded) => {
            let file = flyway_checksum(&original);
            (*recorded == file, recorded.to_string(), file.to_string())
        }
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "{path}: changed since it was applied (recorded checksum {recorded}, file {file}); \
             restore the file as it was when it ran"
        ))
    }
}

/// Flyway's checksum: CRC32 over the file's lines without their line ends (a leading
/// byte-order mark dropped), as a signed 32-bit number.
fn flyway_checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = Crc32::default();
    // Java's readLine ends a line at \n, \r or \r\n.
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        crc.update(&rest.as_bytes()[..end]);
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = rest.get(end + skip..).unwrap_or("");
    }
    crc.value() as i32
}

/// CRC-32 (IEEE 802.3, as `java.util.zip.CRC32`), bit by bit: a few hundred files are hashed
/// once per adoption.
struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xffff_ffff)
    }
}

impl Crc32 {
    fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u32::from(*byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }

    fn value(&self) -> u32 {
        !self.0
    }
}

fn read_rows(client: &mut Client, tool: Tool, table: &str, quoted: &str) -> Result<Vec<Row>> {
    let sql = match tool {
        Tool::Diesel => include_str!("../queries/adopt_diesel.sql"),
        Tool::Sqlx => include_str!("../queries/adopt_sqlx.sql"),
        Tool::GolangMigrate => include_str!("../queries/adopt_golang_migrate.sql"),
        Tool::Dbmate => include_str!("../queries/adopt_dbmate.sql"),
        Tool::Flyway => include_str!("../queries/adopt_flyway.sql"),
    }
    .replace("{table}", quoted);
    let rows = client.query_typed(&sql, &[]).map_err(|err| {
        use postgres::error::SqlState;
        match err.code() {
            Some(&SqlState::UNDEFINED_TABLE) => anyhow::anyhow!(
                "there is no table {table} here: {} never ran on this database (or it used \
                 another table name; pass it with --table)",
                tool.name()
            ),
            Some(&SqlState::UNDEFINED_COLUMN) => anyhow::anyhow!(
                "{table} does not have the columns {} writes ({}): another tool made it \
                 (golang-migrate and dbmate both name theirs schema_migrations)",
                tool.name(),
                err.as_db_error().map(|e| e.message()).unwrap_or_default()
            ),
            _ => anyhow::Error::new(err).context(format!("reading {table}")),
        }
    })?;
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let null = |column: &str| {
                anyhow::anyhow!(
                    "{table} cannot be adopted: row {} has no {column} (NULL); fix or delete \
                     that row by hand",
                    index + 1
                )
            };
            let text = |i: usize| row.try_get::<_, Option<String>>(i);
            match tool {
                Tool::Diesel | Tool::Dbmate => {
                    if tool == Tool::Dbmate && row.try_get::<_, Option<bool>>(2)? == Some(true) {
                        bail!(
                            "{table} has a `dirty` column: golang-migrate made it, not dbmate; \
                             adopt it with --from golang-migrate"
                        );
                    }
                    Ok(Row {
                        version: text(0)?.ok_or_else(|| null("version"))?,
                        name: None,
                        applied_on: text(1)?,
                        checksum: None,
                        refused: None,
                    })
                }
                Tool::GolangMigrate => {
                    let dirty: bool = row.try_get::<_, Option<bool>>(1)?.unwrap_or(false);
                    Ok(Row {
                        version: text(0)?.ok_or_else(|| null("version"))?,
                        name: None,
                        applied_on: None,
                        checksum: None,
                        refused: dirty.then(|| {
                            "dirty: golang-migrate was interrupted in this migration, so what \
                             it left is unknown; repair it by hand and `migrate force` the \
                             right version, then adopt"
                                .to_string()
                        }),
                    })
                }
                Tool::Sqlx => {
                    let success: Option<bool> = row.try_get(3)?;
                    Ok(Row {
                        version: text(0)?.ok_or_else(|| null("version"))?,
                        name: text(1)?,
                        applied_on: text(2)?,
                        checksum: row.try_get::<_, Option<Vec<u8>>>(4)?.map(Checksum::Sha384),
                        refused: (success != Some(true)).then(|| {
                            "success is false: sqlx did not finish this migration (a failed \
                             no-transaction migration); repair it by hand, then adopt"
                                .to_string()
                        }),
                    })
                }
                Tool::Flyway => flyway_row(row, &text),
            }
        })
        .collect::<Result<Vec<Row>>>()
        .map(|rows| {
            // Flyway's own bookkeeping row (the schemas it created) is not a migration.
            rows.into_iter()
                .filter(|r| r.version != FLYWAY_SCHEMA_ROW)
                .collect()
        })
}

/// Marks flyway's `SCHEMA` row, which is left out.
const FLYWAY_SCHEMA_ROW: &str = "\0schema";

fn flyway_row(
    row: &postgres::Row,
    text: &dyn Fn(usize) -> Result<Option<String>, postgres::Error>,
) -> Result<Row> {
    let kind = text(2)?.unwrap_or_default();
    if kind == "SCHEMA" {
        return Ok(Row {
            version: FLYWAY_SCHEMA_ROW.into(),
            name: None,
            applied_on: None,
            checksum: None,
            refused: None,
        });
    }
    let success: Option<bool> = row.try_get(6)?;
    let description = text(1)?;
    let refused = match (kind.as_str(), success) {
        (_, Some(false) | None) => Some(
            "success is false: flyway's migration failed here; repair the database and run \
             `flyway repair`, then adopt"
                .to_string(),
        ),
        ("SQL", _) => None,
        ("BASELINE", _) => Some(
            "a flyway baseline: the migrations up to it never ran here, and their files may \
             not create this schema; adopt a database migrated from the start, or `pgstrata \
             baseline` this one"
                .to_string(),
        ),
        (other, _) => Some(format!(
            "a flyway migration of type {}, which pgstrata cannot carry (only versioned SQL \
             migrations)",
            escape(other)
        )),
    };
    let version = match text(0)? {
        Some(version) => version,
        None if refused.is_some() => String::new(),
        None => {
            return Ok(Row {
                version: format!("(repeatable {})", description.as_deref().unwrap_or("")),
                name: description,
                applied_on: None,
                checksum: None,
                refused: Some(
                    "a repeatable flyway migration; pgstrata has views/ instead, rebuilt after \
                     every up and down"
                        .into(),
                ),
            });
        }
    };
    Ok(Row {
        version,
        name: description,
        applied_on: text(5)?,
        checksum: row.try_get::<_, Option<i32>>(4)?.map(Checksum::Crc32),
        refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_javas() {
        let mut crc = Crc32::default();
        crc.update(b"123456789");
        assert_eq!(crc.value(), 0xcbf4_3926);
    }

    #[test]
    fn flyways_checksum_ignores_line_ends_and_a_bom() {
        let lf = flyway_checksum("CREATE TABLE t (id int);\nSELECT 1;\n");
        assert_eq!(
            flyway_checksum("\u{feff}CREATE TABLE t (id int);\r\nSELECT 1;\r\n"),
            lf
        );
        assert_eq!(flyway_checksum("CREATE TABLE t (id int);SELECT 1;"), lf);
        assert_ne!(
            flyway_checksum("CREATE TABLE t (id bigint);\nSELECT 1;\n"),
            lf
        );
    }
}

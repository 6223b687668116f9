//! Adopting a database whose migrations refinery applied, so a project can switch to
//! pgstrata without renaming a file (both use `V{n}__{name}.sql`).
//!
//! Every row of refinery's history table must match a migration on disk by version and
//! name, and its checksum must equal refinery's own checksum of that file (computed with the
//! refinery crate: SipHash-1-3 over name, version and the file's exact text, so a file edited
//! since refinery applied it is caught). Only then are the rows recorded in pgstrata's
//! history, in one transaction under the migration lock. refinery's table is left in place.
//! This module uses the refinery crate for its checksum only; migrations never run through
//! refinery's runner.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;
use postgres::types::Type;

use crate::db::quote_ident;
use crate::error::Refusal;
use crate::migrate::history::History;
use crate::migrate::lock;
use crate::migrate::project::{Migration, Project};
use crate::shown::escape;

/// One migration recorded from refinery's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Adopted {
    pub version: i64,
    pub name: String,
    /// When refinery applied it, as refinery recorded it.
    pub applied_on: Option<String>,
}

/// A row of refinery's history table.
struct RefineryRow {
    version: i64,
    name: String,
    applied_on: Option<String>,
    checksum: Option<String>,
}

/// Records refinery's applied migrations (from `table`) in pgstrata's history.
pub fn refinery(
    client: &mut Client,
    project: &Project,
    history_schema: &str,
    table: &str,
    lock_wait: Duration,
) -> Result<Vec<Adopted>> {
    lock::with_lock(
        client,
        history_schema,
        lock_wait,
        |_, _| {},
        |client| adopt_locked(client, project, history_schema, table),
    )
}

fn adopt_locked(
    client: &mut Client,
    project: &Project,
    history_schema: &str,
    table: &str,
) -> Result<Vec<Adopted>> {
    let history = History::new(history_schema);
    // Even an empty history means pgstrata has managed this database (perhaps rolled
    // everything back), and refinery's table is stale.
    if let Some(rows) = history.read(client)? {
        bail!(
            "{history_schema}.history exists (recording {} migrations): pgstrata already manages \
             this database, and refinery's table may be stale; adopting is only for a database \
             pgstrata has not managed yet",
            rows.len()
        );
    }
    let rows = read_refinery(client, table)?;
    if rows.is_empty() {
        bail!("{table} is empty: refinery applied nothing here, so there is nothing to adopt");
    }
    let problems: Vec<String> = rows
        .iter()
        .filter_map(|row| verify(project, row).err())
        .collect();
    if !problems.is_empty() {
        bail!(Refusal::InvalidProject(problems));
    }
    let mut tx = client.transaction().context("starting the adoption")?;
    history.ensure(&mut tx)?;
    let insert = history.sql(include_str!("queries/history_adopt.sql"));
    for row in &rows {
        let migration = project.migration(row.version).expect("verified above");
        tx.execute_typed(
            &insert,
            &[
                (&migration.version, Type::INT8),
                (&migration.name, Type::TEXT),
                (&migration.up.checksum, Type::TEXT),
                (&migration.down.checksum, Type::TEXT),
                (&row.applied_on, Type::TEXT),
                (&"refinery", Type::TEXT),
            ],
        )
        .with_context(|| format!("recording migration {}", row.version))?;
    }
    tx.commit().context("committing the adoption")?;
    Ok(rows
        .into_iter()
        .map(|row| Adopted {
            version: row.version,
            name: row.name,
            applied_on: row.applied_on,
        })
        .collect())
}

fn read_refinery(client: &mut Client, table: &str) -> Result<Vec<RefineryRow>> {
    let sql = include_str!("queries/refinery_history.sql").replace("{table}", &quote_ident(table));
    let rows = client.query_typed(&sql, &[]).map_err(|err| {
        if err.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) {
            anyhow::anyhow!(
                "there is no table {table} here: refinery never ran on this database (or it \
                 used another table name; pass it with --table)"
            )
        } else {
            anyhow::Error::new(err).context(format!("reading {table}"))
        }
    })?;
    Ok(rows
        .iter()
        .map(|row| RefineryRow {
            version: row.get(0),
            name: row.get(1),
            applied_on: row.get(2),
            checksum: row.get(3),
        })
        .collect())
}

/// Checks one refinery row against the project: same version, same name, same checksum.
fn verify(project: &Project, row: &RefineryRow) -> Result<(), String> {
    let v = row.version;
    let Some(migration) = project.migration(v) else {
        return Err(format!(
            "refinery applied V{v}__{}, but migrations/ has no migration {v}",
            escape(&row.name)
        ));
    };
    if migration.name != row.name {
        return Err(format!(
            "{}: refinery applied version {v} as `{}`; the names must match",
            migration.up.path,
            escape(&row.name)
        ));
    }
    let expected = refinery_checksum(project, migration)?;
    let recorded = row.checksum.as_deref().unwrap_or("");
    if recorded != expected.to_string() {
        return Err(format!(
            "{}: changed since refinery applied it (refinery checksum {recorded}, file \
             {expected}); restore the file as it was when it ran. (A project built with \
             refinery's int8-versions feature has other checksums; it cannot be adopted yet.)",
            migration.up.path,
            recorded = escape(recorded),
        ));
    }
    Ok(())
}

/// refinery's checksum of a migration file: of its exact text (no BOM or CRLF
/// normalisation: refinery hashes the file as it reads it).
fn refinery_checksum(project: &Project, migration: &Migration) -> Result<u64, String> {
    let path = project.root.join(&migration.up.path);
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("{}: cannot be read again: {err}", migration.up.path))?;
    let stem = format!("V{}__{}", migration.version, migration.name);
    refinery::Migration::unapplied(&stem, &text)
        .map(|m| m.checksum())
        .map_err(|err| {
            format!(
                "{}: refinery cannot read its name: {err}",
                migration.up.path
            )
        })
}

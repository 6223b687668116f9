//! Invalid indexes: what an interrupted `CREATE INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY` or
//! `DROP INDEX CONCURRENTLY` leaves in the database (pg_index.indisvalid false). Queries do
//! not use such an index, yet it can still slow writes and reject duplicates, and nothing
//! about it fails: `status` lists each with the statements that fix it, and `repair
//! --mark-applied` refuses while the migration being repaired left one.
//!
//! [`list`] and [`refuse_unfinished`] read the catalog; the rest is pure. Which indexes a migration left is read off
//! its files' parse trees ([`left_by`]): the indexes its `CREATE INDEX CONCURRENTLY`
//! statements name (any invalid index of the table for one that names none), and the
//! `_ccnew`/`_ccold` indexes of what its `REINDEX … CONCURRENTLY` statements name. Names are
//! matched as the files wrote them: an unqualified name matches in any schema, since the
//! search_path the file ran under is not known afterwards (a wider match refuses more, never
//! less).

use anyhow::{Context, Result, bail, ensure};
use postgres::{Client, Row};
use serde::Serialize;

use crate::db::quote_ident;
use crate::error::Refusal;
use crate::migrate::history::{HistoryRow, RunState};
use crate::migrate::project::{Project, SqlFile};
use crate::sql::{IndexName, ReindexTarget};

/// One invalid index, with what left it and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidIndex {
    pub schema: String,
    pub name: String,
    /// The table it belongs to (for an index of a TOAST table, the table owning it).
    pub table_schema: String,
    pub table: String,
    /// Writes maintain it (a unique one rejects duplicates), though queries do not use it.
    pub ready: bool,
    pub cause: Cause,
    /// What its state means and what to do, in words.
    pub note: String,
    /// The statements that fix it, in order.
    pub fix: Vec<String>,
    /// The partitioned tables above `table`, nearest first (schema, name).
    #[serde(skip)]
    pub ancestors: Vec<(String, String)>,
}

/// What left an index invalid, as far as the catalog and its name tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A `CREATE INDEX CONCURRENTLY` that did not finish (or a `DROP INDEX CONCURRENTLY`
    /// stopped before its second step, which looks the same).
    Create,
    /// The copy a `REINDEX CONCURRENTLY` was building (`<index>_ccnew`): the index it was
    /// rebuilding is still in place.
    ReindexCopy,
    /// The original a `REINDEX CONCURRENTLY` had already replaced (`<index>_ccold`).
    ReindexOriginal,
    /// A `DROP INDEX CONCURRENTLY` that did not finish (pg_index.indislive false).
    Drop,
    /// Created `ON ONLY` a partitioned table, and not every partition has an index attached.
    Partitioned,
}

impl InvalidIndex {
    /// `schema.name on table_schema.table`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}.{} on {}.{}",
            self.schema, self.name, self.table_schema, self.table
        )
    }

    /// The fix statements on one line.
    pub fn fix_line(&self) -> String {
        self.fix.join(" ")
    }
}

/// Facts read from the catalog, before the cause and the fix are worked out.
struct Found {
    schema: String,
    name: String,
    table_schema: String,
    table: String,
    ready: bool,
    live: bool,
    partitioned: bool,
    /// `pg_get_indexdef`: `CREATE [UNIQUE] INDEX name ON schema.table USING …`.
    definition: String,
    ancestors: Vec<(String, String)>,
}

/// Every invalid index in the database outside the system catalogs, by schema and name.
pub fn list(client: &mut Client) -> Result<Vec<InvalidIndex>> {
    let rows = client
        .query_typed(include_str!("queries/invalid_index_report.sql"), &[])
        .context("listing the invalid indexes")?;
    rows.iter()
        .map(|row| found(row).map(explain))
        .collect::<Result<_, postgres::Error>>()
        .context("reading the list of invalid indexes")
}

fn found(row: &Row) -> Result<Found, postgres::Error> {
    let schemas: Vec<String> = row.try_get("ancestor_schemas")?;
    let names: Vec<String> = row.try_get("ancestor_names")?;
    Ok(Found {
        schema: row.try_get("schema")?,
        name: row.try_get("name")?,
        table_schema: row.try_get("table_schema")?,
        table: row.try_get("table_name")?,
        ready: row.try_get("ready")?,
        live: row.try_get("live")?,
        partitioned: row.try_get("partitioned")?,
        definition: row.try_get("definition")?,
        ancestors: schemas.into_iter().zip(names).collect(),
    })
}

/// Works out what left the index and the statements that fix it.
fn explain(found: Found) -> InvalidIndex {
    let qualified = format!(
        "{}.{}",
        quote_ident(&found.schema),
        quote_ident(&found.name)
    );
    let drop = format!("DROP INDEX CONCURRENTLY {qualified};");
    let cause = if found.partitioned {
        Cause::Partitioned
    } else if !found.live {
        Cause::Drop
    } else {
        match reindex_leftover(&found.name) {
            Some((_, Leftover::New)) => Cause::ReindexCopy,
            Some((_, Leftover::Old)) => Cause::ReindexOriginal,
            None => Cause::Create,
        }
    };
    let (note, fix) = match cause {
        Cause::Create => {
            let state = if found.ready {
                "queries do not use it, but writes maintain it (a unique one rejects duplicates)"
            } else {
                "queries do not use it and writes do not maintain it"
            };
            (
                format!(
                    "{state}; an unfinished CREATE INDEX CONCURRENTLY leaves this: drop it, then \
                     build it again (a unique index needs its duplicates removed first)"
                ),
                vec![drop, format!("{};", concurrently(&found.definition))],
            )
        }
        Cause::ReindexCopy => (
            "the copy an interrupted REINDEX CONCURRENTLY was building; the index it was \
             rebuilding is still in place: drop the copy, then run the REINDEX again if it is \
             still wanted"
                .to_string(),
            vec![drop],
        ),
        Cause::ReindexOriginal => (
            "the original index an interrupted REINDEX CONCURRENTLY had already replaced with \
             its rebuilt copy: drop it"
                .to_string(),
            vec![drop],
        ),
        Cause::Drop => (
            "a DROP INDEX CONCURRENTLY that did not finish: run it again".to_string(),
            vec![drop],
        ),
        Cause::Partitioned => (
            format!(
                "created ON ONLY a partitioned table, and not every partition has an index \
                 attached to it: attach one for each (ALTER INDEX {qualified} ATTACH PARTITION \
                 …;) or drop it"
            ),
            // DROP INDEX CONCURRENTLY refuses partitioned indexes.
            vec![format!("DROP INDEX {qualified};")],
        ),
    };
    InvalidIndex {
        schema: found.schema,
        name: found.name,
        table_schema: found.table_schema,
        table: found.table,
        ready: found.ready,
        cause,
        note,
        fix,
        ancestors: found.ancestors,
    }
}

/// `CREATE [UNIQUE] INDEX name …` as `CREATE [UNIQUE] INDEX CONCURRENTLY name …`: the
/// server's definition always spells the keyword before the name, so its first ` INDEX ` is it.
fn concurrently(definition: &str) -> String {
    definition.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)
}

/// What `REINDEX CONCURRENTLY` names its temporary indexes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leftover {
    /// `_ccnew`: the copy being built.
    New,
    /// `_ccold`: the original, once replaced.
    Old,
}

/// `("books_pkey", New)` for `books_pkey_ccnew` or `books_pkey_ccnew2`: the server names the
/// copy `<index>_ccnew`, adding a number when that name is taken (ChooseRelationName).
fn reindex_leftover(name: &str) -> Option<(&str, Leftover)> {
    [("_ccnew", Leftover::New), ("_ccold", Leftover::Old)]
        .into_iter()
        .find_map(|(suffix, kind)| {
            let at = name.rfind(suffix)?;
            let number = &name[at + suffix.len()..];
            number
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then_some((&name[..at], kind))
        })
}

/// Whether `candidate` is a `_ccnew`/`_ccold` index of the index named `index`. A long name
/// is cut to leave room for the suffix within PostgreSQL's 63 bytes, so the candidate may
/// carry only the start of it.
fn is_reindex_leftover_of(candidate: &str, index: &str) -> bool {
    let Some((base, _)) = reindex_leftover(candidate) else {
        return false;
    };
    // Cut at a character boundary, so up to 3 bytes short of 63.
    base == index || (!base.is_empty() && index.starts_with(base) && candidate.len() >= 60)
}

/// Whether `(schema, name)` is what a statement named as `[named_schema.]named`.
fn names(named_schema: &Option<String>, named: &str, schema: &str, name: &str) -> bool {
    named == name && named_schema.as_deref().is_none_or(|s| s == schema)
}

/// Whether the statement's CREATE INDEX CONCURRENTLY could have left `index`.
fn created_by(statement: &IndexName, index: &InvalidIndex) -> bool {
    let on_table = names(
        &statement.schema,
        &statement.table,
        &index.table_schema,
        &index.table,
    );
    match &statement.name {
        Some(name) => on_table && name == &index.name,
        // PostgreSQL chose the name: any invalid index of that table.
        None => on_table,
    }
}

/// Whether the statement's REINDEX CONCURRENTLY could have left `index`.
fn reindexed_by(target: &ReindexTarget, index: &InvalidIndex) -> bool {
    if reindex_leftover(&index.name).is_none() {
        return false;
    }
    match target {
        ReindexTarget::Index { schema, name } => {
            schema.as_deref().is_none_or(|s| s == index.schema)
                && is_reindex_leftover_of(&index.name, name)
        }
        // The table itself, its TOAST table (listed under it) or, for a partitioned table,
        // its partitions.
        ReindexTarget::Table { schema, name } => {
            names(schema, name, &index.table_schema, &index.table)
                || index
                    .ancestors
                    .iter()
                    .any(|(s, n)| names(schema, name, s, n))
        }
        ReindexTarget::Schema(schema) => schema == &index.table_schema,
        ReindexTarget::Database => true,
    }
}

/// The indexes of `all` that the CONCURRENTLY statements of `files` could have left invalid.
pub fn left_by<'a>(files: &[&SqlFile], all: &'a [InvalidIndex]) -> Vec<&'a InvalidIndex> {
    all.iter()
        .filter(|index| {
            files
                .iter()
                .flat_map(|file| &file.statements)
                .any(|statement| {
                    let class = &statement.class;
                    class
                        .concurrent_index
                        .as_ref()
                        .is_some_and(|created| created_by(created, index))
                        || class
                            .concurrent_reindex
                            .as_ref()
                            .is_some_and(|target| reindexed_by(target, index))
                })
        })
        .collect()
}

/// Refuses (`Refusal::InvalidIndexes`) to record the interrupted migration of `row` as
/// applied while an index it could have left is invalid: it is not done. Its files say which
/// indexes count: the migration's, and the rollback's too when the rollback was interrupted
/// (an index it rebuilt is part of the state being recorded). Without the project, every
/// invalid index counts.
pub fn refuse_unfinished(
    client: &mut Client,
    project: Option<&Project>,
    row: &HistoryRow,
) -> Result<()> {
    let all = list(client)?;
    let migration = project.and_then(|p| p.migration(row.version));
    let left: Vec<InvalidIndex> = match migration {
        Some(m) => {
            ensure!(
                project.is_some_and(Project::is_parsed),
                "internal error: the project's files were not parsed before repairing"
            );
            let files: Vec<&SqlFile> = match row.state {
                RunState::Reverting => vec![&m.up, &m.down],
                _ => vec![&m.up],
            };
            left_by(&files, &all).into_iter().cloned().collect()
        }
        None => all,
    };
    if left.is_empty() {
        return Ok(());
    }
    bail!(Refusal::InvalidIndexes {
        version: row.version,
        name: row.name.clone(),
        every_index: migration.is_none(),
        indexes: left,
    })
}

#[cfg(test)]
mod tests;

//! A spec resolved against a database where the project's migrations are applied (a
//! scratch server or a temporary database, never production): the foreign key and its column
//! pairs, each synced column's type and whether the child has it. Errors name the spec's key
//! and what the database holds instead. Reads the catalog only; `apply_project` builds the
//! database to read.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;

use super::spec::{ColumnSpec, CopySpec, Spec, SpecKind, TableName};
use crate::config::Limits;
use crate::migrate::project::Project;
use crate::migrate::runner::{OnEvent, Options, Runner};

/// A spec with what the database says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub spec: Spec,
    pub kind: ResolvedKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedKind {
    Copy(ResolvedCopy),
    Column(ResolvedColumn),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCopy {
    pub spec: CopySpec,
    /// The foreign key's constraint name.
    pub foreign_key: String,
    /// (child column, parent column) pairs of the foreign key, in its order.
    pub key_pairs: Vec<(String, String)>,
    /// The synced columns, in the spec's order.
    pub columns: Vec<SyncedColumn>,
    /// Schemas other than pg_catalog holding the types of the synced and key columns.
    pub type_schemas: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedColumn {
    pub name: String,
    /// The parent column's type, as `format_type` spells it with search_path = pg_catalog.
    pub parent_type: String,
    /// Whether the child has the column already (with the same type); otherwise the
    /// migration adds it.
    pub child_has: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedColumn {
    pub spec: ColumnSpec,
    /// Whether the new column exists already; otherwise the migration adds it.
    pub new_exists: bool,
    /// The default expressions of old and of new (when it exists), as the server spells
    /// them with search_path = pg_catalog; a sequence's (`nextval`) is left out, since
    /// evaluating it to compare would take a number.
    pub old_default: Option<String>,
    pub new_default: Option<String>,
    /// Schemas other than pg_catalog holding the types of old and new.
    pub type_schemas: Vec<String>,
}

/// Applies every migration of the project to the (fresh) database `client` is connected
/// to, as `check` would, so that a spec resolves against what the migrations produce.
pub fn apply_project(
    client: &mut Client,
    project: &Project,
    history_schema: &str,
    limits: Limits,
) -> Result<()> {
    let options = Options {
        history_schema: history_schema.to_string(),
        lock_wait: Duration::from_secs(10),
        dry_run: false,
        limits,
        watch: None,
        allow_data_loss: false,
        allow_out_of_order: false,
    };
    let quiet: OnEvent = std::sync::Arc::new(|_| {});
    Runner::new(client, project, options, quiet)
        .up(None)
        .context("applying the project's migrations to resolve the spec against")
}

/// Resolves a spec; `client` is connected to a database where the project is applied.
pub fn resolve(client: &mut Client, spec: &Spec) -> Result<Resolved> {
    // Types are spelled as seen from pg_catalog alone: a type of another schema comes out
    // schema-qualified, so the generated SQL does not depend on a search_path.
    client
        .batch_execute("SET search_path = pg_catalog")
        .context("setting search_path to resolve the spec")?;
    let kind = match &spec.kind {
        SpecKind::Copy(copy) => ResolvedKind::Copy(resolve_copy(client, copy)?),
        SpecKind::Column(column) => ResolvedKind::Column(resolve_column(client, column)?),
    };
    Ok(Resolved {
        spec: spec.clone(),
        kind,
    })
}

struct Column {
    name: String,
    type_name: String,
    generated: bool,
    default: Option<String>,
    type_schemas: Vec<String>,
}

impl Column {
    /// The default, unless it draws from a sequence.
    fn comparable_default(&self) -> Option<String> {
        self.default
            .clone()
            .filter(|d| !d.to_ascii_lowercase().contains("nextval("))
    }
}

/// The schemas of these columns' types but pg_catalog, sorted, once each.
fn type_schemas<'a>(columns: impl IntoIterator<Item = &'a Column>) -> Vec<String> {
    let mut schemas: Vec<String> = columns
        .into_iter()
        .flat_map(|c| c.type_schemas.iter().cloned())
        .filter(|s| s != "pg_catalog")
        .collect();
    schemas.sort();
    schemas.dedup();
    schemas
}

fn table_oid(client: &mut Client, table: &TableName, key: &str) -> Result<u32> {
    let rows = client
        .query(
            include_str!("queries/table.sql"),
            &[&table.schema, &table.name],
        )
        .with_context(|| format!("looking up {table}"))?;
    let Some(row) = rows.first() else {
        bail!(
            "{key}: there is no table {table} once the project's migrations are applied \
             (names are exact: case and schema as in the catalog)"
        );
    };
    let kind: String = row.get(1);
    if kind != "r" && kind != "p" {
        bail!("{key}: {table} is not a table (relkind {kind}); sync triggers need a table");
    }
    Ok(row.get(0))
}

fn columns(client: &mut Client, oid: u32, table: &TableName) -> Result<Vec<Column>> {
    let rows = client
        .query(include_str!("queries/columns.sql"), &[&oid])
        .with_context(|| format!("reading the columns of {table}"))?;
    Ok(rows
        .iter()
        .map(|r| Column {
            name: r.get(0),
            type_name: r.get(1),
            generated: r.get(2),
            default: r.get(3),
            type_schemas: r.get(4),
        })
        .collect())
}

fn resolve_copy(client: &mut Client, copy: &CopySpec) -> Result<ResolvedCopy> {
    let parent_oid = table_oid(client, &copy.parent, "parent")?;
    let child_oid = table_oid(client, &copy.child, "child")?;
    let keys = client
        .query(
            include_str!("queries/foreign_keys.sql"),
            &[&copy.child.quoted()],
        )
        .context("reading the foreign keys from the child to the parent")?;
    // Those to the parent: (name, columns, referenced columns, deferrable).
    let keys: Vec<(String, Vec<String>, Vec<String>, bool)> = keys
        .iter()
        .filter(|r| r.get::<_, postgres::types::Oid>("referenced_oid") == parent_oid)
        .map(|r| {
            (
                r.get("name"),
                r.get("columns"),
                r.get("referenced_columns"),
                r.get("deferrable"),
            )
        })
        .collect();
    let names = || {
        keys.iter()
            .map(|k| k.0.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match &copy.foreign_key {
        Some(name) => match keys.iter().find(|k| &k.0 == name) {
            Some(k) => k,
            None if keys.is_empty() => bail!(
                "foreign_key: no foreign key {name} links {} to {}: it has none to it",
                copy.child,
                copy.parent
            ),
            None => bail!(
                "foreign_key: no foreign key {name} links {} to {}; those that do: {}",
                copy.child,
                copy.parent,
                names()
            ),
        },
        None => match keys.as_slice() {
            [only] => only,
            [] => bail!(
                "no foreign key links {} to {}: a copy spec follows one",
                copy.child,
                copy.parent
            ),
            _ => bail!(
                "{} has {} foreign keys to {} ({}): name one with foreign_key",
                copy.child,
                keys.len(),
                copy.parent,
                names()
            ),
        },
    };
    if chosen.3 {
        // A deferred check lets a child row exist before its parent within a transaction:
        // the child's trigger finds no parent to copy from, and no trigger on the parent's
        // INSERT copies into the child afterwards.
        bail!(
            "foreign key {} of {} is DEFERRABLE: a child row inserted before its parent (in \
             one transaction) would keep no copy; make it NOT DEFERRABLE (ALTER TABLE … ALTER \
             CONSTRAINT … NOT DEFERRABLE) in a migration before this one",
            chosen.0,
            copy.child
        );
    }
    let key_pairs: Vec<(String, String)> = chosen
        .1
        .iter()
        .cloned()
        .zip(chosen.2.iter().cloned())
        .collect();
    let parent_columns = columns(client, parent_oid, &copy.parent)?;
    let child_columns = columns(client, child_oid, &copy.child)?;
    let mut synced = Vec::new();
    for name in &copy.columns {
        let Some(parent) = parent_columns.iter().find(|c| &c.name == name) else {
            bail!(
                "columns: {} has no column {name} (its columns: {})",
                copy.parent,
                parent_columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        if key_pairs.iter().any(|(c, p)| c == name || p == name) {
            bail!(
                "columns: {name} is a column of the foreign key {}; the key links the rows, it \
                 is not a copy",
                chosen.0
            );
        }
        let child_has = match child_columns.iter().find(|c| &c.name == name) {
            None => false,
            Some(child) if child.generated => bail!(
                "columns: {}.{name} is a generated column; a copy cannot be written into it",
                copy.child
            ),
            Some(child) if child.type_name != parent.type_name => bail!(
                "columns: {name} is {} in the parent {} but {} in the child {}; a copy needs \
                 the same type (change one, or drop the child's column to have it created)",
                parent.type_name,
                copy.parent,
                child.type_name,
                copy.child
            ),
            Some(_) => true,
        };
        if parent.generated && copy.direction == super::spec::Direction::Both {
            bail!(
                "columns: {}.{name} is a generated column, so a child edit cannot be written \
                 back to it; use direction = \"parent_to_child\"",
                copy.parent
            );
        }
        synced.push(SyncedColumn {
            name: name.clone(),
            parent_type: parent.type_name.clone(),
            child_has,
        });
    }
    let involved = parent_columns
        .iter()
        .filter(|c| copy.columns.contains(&c.name) || key_pairs.iter().any(|(_, p)| p == &c.name));
    let schemas = type_schemas(involved);
    for column in &synced {
        let what = format!("{}.{}", copy.parent, column.name);
        require_equality(client, "columns", &what, &column.parent_type, &schemas)?;
    }
    Ok(ResolvedCopy {
        spec: copy.clone(),
        foreign_key: chosen.0.clone(),
        type_schemas: schemas,
        key_pairs,
        columns: synced,
    })
}

fn resolve_column(client: &mut Client, spec: &ColumnSpec) -> Result<ResolvedColumn> {
    let oid = table_oid(client, &spec.table, "table")?;
    let columns = columns(client, oid, &spec.table)?;
    let Some(old) = columns.iter().find(|c| c.name == spec.old) else {
        bail!("old: {} has no column {}", spec.table, spec.old);
    };
    if old.generated {
        bail!("old: {}.{} is a generated column", spec.table, spec.old);
    }
    let new = columns.iter().find(|c| c.name == spec.new);
    if new.is_some_and(|c| c.generated) {
        bail!("new: {}.{} is a generated column", spec.table, spec.new);
    }
    let wanted = canonical_type(client, &spec.column_type)?;
    if let Some(new) = new.filter(|c| c.type_name != wanted) {
        bail!(
            "type: {}.{} exists as {} but the spec says {wanted}; make them agree",
            spec.table,
            spec.new,
            new.type_name
        );
    }
    // The expressions must make sense on the table as the migration leaves it; `down` names
    // the new column, which may not exist yet, so it is tried only when it does.
    try_expression(client, spec, "up", &spec.up)?;
    if new.is_some() {
        try_expression(client, spec, "down", &spec.down)?;
    }
    let mut schemas = type_schemas([old].into_iter().chain(new));
    // A new column to be created: its type's schema is known from the spelling the server
    // gave it (schema-qualified when outside pg_catalog).
    if new.is_none() {
        schemas.extend(type_schema_of(client, &wanted)?);
        schemas.sort();
        schemas.dedup();
    }
    let what = format!("{}.{}", spec.table, spec.old);
    require_equality(client, "old", &what, &old.type_name, &schemas)?;
    let what = format!("{}.{}", spec.table, spec.new);
    require_equality(client, "type", &what, &wanted, &schemas)?;
    Ok(ResolvedColumn {
        spec: spec.clone(),
        new_exists: new.is_some(),
        old_default: old.comparable_default(),
        new_default: new.and_then(Column::comparable_default),
        type_schemas: schemas,
    })
}

/// The server's spelling of a type written in a spec (`varchar(20)` is `character
/// varying(20)`), found by making a temporary table with a column of that type: the
/// database is a throwaway one.
fn canonical_type(client: &mut Client, written: &str) -> Result<String> {
    let sql =
        format!("CREATE TEMPORARY TABLE pgstrata_type_probe (probe {written}) ON COMMIT DROP");
    let mut tx = client.transaction()?;
    tx.batch_execute(&sql).map_err(|err| {
        let message = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_else(|| err.to_string());
        anyhow::anyhow!("type: `{written}` is not a type: {message}")
    })?;
    let row = tx.query_one(include_str!("queries/probe_type.sql"), &[])?;
    let canonical: String = row.get(0);
    tx.rollback()?;
    Ok(canonical)
}

/// The schema of a type (and of its base and element types) but pg_catalog.
fn type_schema_of(client: &mut Client, type_sql: &str) -> Result<Vec<String>> {
    let row = client
        .query_one(include_str!("queries/type_schemas.sql"), &[&type_sql])
        .with_context(|| format!("finding the schema of the type {type_sql}"))?;
    Ok(row.get(0))
}

/// Plans `SELECT expr FROM table` to report a broken expression (unknown column, syntax)
/// here rather than when the migration runs.
fn try_expression(client: &mut Client, spec: &ColumnSpec, key: &str, expr: &str) -> Result<()> {
    let sql = format!(
        "EXPLAIN SELECT ({expr}) FROM {} LIMIT 0",
        spec.table.quoted()
    );
    // search_path is pg_catalog: the expression is read as the generated trigger will read
    // it (its functions pin the same search_path).
    client.batch_execute(&sql).map_err(|err| {
        let message = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_else(|| err.to_string());
        anyhow::anyhow!(
            "{key}: the expression `{expr}` does not work on {}: {message}",
            spec.table
        )
    })
}

/// Refuses a type without an equality operator (`json`, `xml`, `point`): the generated
/// triggers compare old and new values with `IS DISTINCT FROM`, which needs one, so the
/// migration would fail to apply, or every write to the table would fail. Asked of the server
/// under the search_path the trigger functions pin (an extension's `=` lives in its schema).
fn require_equality(
    client: &mut Client,
    key: &str,
    what: &str,
    type_sql: &str,
    schemas: &[String],
) -> Result<()> {
    let path: Vec<String> = std::iter::once("pg_catalog")
        .chain(schemas.iter().map(String::as_str))
        .chain(std::iter::once("pg_temp"))
        .map(crate::db::quote_ident)
        .collect();
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!("SET LOCAL search_path = {}", path.join(", ")))?;
    let probe = format!("EXPLAIN SELECT NULL::{type_sql} IS DISTINCT FROM NULL::{type_sql}");
    let compared = tx.batch_execute(&probe);
    tx.rollback()?;
    compared.map_err(|err| {
        let message = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_else(|| err.to_string());
        anyhow::anyhow!(
            "{key}: {what} is of type {type_sql}, which cannot be compared ({message}); sync \
             triggers copy a value only when it changed (IS DISTINCT FROM), so they need a type \
             with an equality operator (jsonb instead of json, for example)"
        )
    })
}

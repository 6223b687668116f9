//! What the verifier needs to know about a spec, resolved against the database it runs on:
//! the tables, their columns (with what a row generator needs of each), the foreign key that
//! links a copy's child to its parent, the synced columns, the direction; for the column
//! kind, the table, the two columns and the `up` expression.
//!
//! The spec is read here with the few keys the verifier uses (an adapter until the spec
//! parser in `sync::spec` is merged: that parser, not this one, judges a spec's validity).
//! Nothing here writes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use postgres::Client;
use serde::Deserialize;

use crate::db::quote_ident;

const COLUMNS: &str = include_str!("queries/columns.sql");
const FOREIGN_KEYS: &str = include_str!("queries/foreign_keys.sql");
const PRIMARY_KEY: &str = include_str!("queries/primary_key.sql");

/// The keys of `sync/{name}.toml` the verifier reads.
#[derive(Debug, Clone, Deserialize)]
pub struct SpecFile {
    pub kind: String,
    pub parent: Option<String>,
    pub child: Option<String>,
    pub foreign_key: Option<String>,
    pub columns: Option<Vec<String>>,
    pub direction: Option<String>,
    pub table: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub up: Option<String>,
}

impl SpecFile {
    pub fn read(path: &Path) -> Result<SpecFile> {
        let what = || format!("reading the sync spec {}", path.display());
        let text = std::fs::read_to_string(path).with_context(what)?;
        toml::from_str(&text).with_context(what)
    }
}

/// Which way a copy flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An edit on either side reaches every copy.
    Both,
    /// Child copies follow the parent; a direct edit of a copy is refused.
    ParentToChild,
}

/// What a generated value looks like, from the column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    SmallInt,
    Number,
    Bool,
    Uuid,
    Json,
    Date,
    Timestamp,
    Enum,
    /// No generator: NULL only.
    Other,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type` of the column: the cast generated values take.
    pub type_sql: String,
    pub not_null: bool,
    /// A default, an identity or a generated column: the generator leaves it alone.
    pub has_default: bool,
    pub kind: ValueKind,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    /// The referenced table, as `regclass` prints it.
    pub referenced: String,
    pub columns: Vec<String>,
    pub referenced_columns: Vec<String>,
}

/// A table as the verifier sees it.
#[derive(Debug, Clone)]
pub struct Table {
    /// As `regclass` prints it (and reads it back).
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key's columns; empty when it has none (rows are then named by `ctid`).
    pub key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
}

/// The spec, resolved.
#[derive(Debug, Clone)]
pub enum Target {
    Copy {
        parent: Table,
        child: Table,
        /// The child's foreign key to the parent.
        link: ForeignKey,
        /// Synced columns: same names on both sides.
        columns: Vec<String>,
        direction: Direction,
    },
    Column {
        table: Table,
        old: String,
        new: String,
        /// SQL computing `new` from the row's `old` column.
        up: String,
    },
}

impl Target {
    /// Resolves a spec against the database `client` is connected to (the project applied).
    pub fn resolve(client: &mut Client, spec: &SpecFile) -> Result<Target> {
        match spec.kind.as_str() {
            "copy" => resolve_copy(client, spec),
            "column" => {
                let table = Table::load(client, required(&spec.table, "table")?)?;
                let old = required(&spec.old, "old")?.to_string();
                let new = required(&spec.new, "new")?.to_string();
                for name in [&old, &new] {
                    table.column(name)?;
                }
                Ok(Target::Column {
                    table,
                    old,
                    new,
                    up: required(&spec.up, "up")?.to_string(),
                })
            }
            other => bail!("unknown sync kind {other:?}: expected \"copy\" or \"column\""),
        }
    }

    /// The tables written to, for the report.
    pub fn describe(&self) -> String {
        match self {
            Target::Copy {
                parent,
                child,
                columns,
                ..
            } => format!("{} -> {} ({})", parent.name, child.name, columns.join(", ")),
            Target::Column {
                table, old, new, ..
            } => format!("{} ({old} <-> {new})", table.name),
        }
    }
}

fn required<'a>(value: &'a Option<String>, key: &str) -> Result<&'a str> {
    value
        .as_deref()
        .with_context(|| format!("the sync spec has no `{key}`"))
}

fn resolve_copy(client: &mut Client, spec: &SpecFile) -> Result<Target> {
    let parent = Table::load(client, required(&spec.parent, "parent")?)?;
    let child = Table::load(client, required(&spec.child, "child")?)?;
    let links: Vec<&ForeignKey> = child
        .foreign_keys
        .iter()
        .filter(|fk| fk.referenced == parent.name)
        .filter(|fk| {
            spec.foreign_key
                .as_ref()
                .is_none_or(|name| &fk.name == name)
        })
        .collect();
    let link = match links.as_slice() {
        [one] => (*one).clone(),
        [] => bail!(
            "{} has no foreign key {}to {}",
            child.name,
            spec.foreign_key
                .as_ref()
                .map(|n| format!("{n} "))
                .unwrap_or_default(),
            parent.name
        ),
        _ => bail!(
            "{} has several foreign keys to {}: name one with `foreign_key`",
            child.name,
            parent.name
        ),
    };
    let columns = spec.columns.clone().unwrap_or_default();
    if columns.is_empty() {
        bail!("the sync spec names no `columns`");
    }
    for name in &columns {
        parent.column(name)?;
        child.column(name)?;
    }
    let direction = match spec.direction.as_deref().unwrap_or("both") {
        "both" => Direction::Both,
        "parent_to_child" => Direction::ParentToChild,
        other => bail!("unknown direction {other:?}: expected \"both\" or \"parent_to_child\""),
    };
    Ok(Target::Copy {
        parent,
        child,
        link,
        columns,
        direction,
    })
}

impl Table {
    /// Reads a table's columns and keys. `name` is as a spec writes it: `schema.table`, each
    /// part taken as written (quoted here), or already quoted.
    pub fn load(client: &mut Client, name: &str) -> Result<Table> {
        let regclass = if name.contains('"') {
            name.to_string()
        } else {
            name.split('.')
                .map(quote_ident)
                .collect::<Vec<_>>()
                .join(".")
        };
        let resolved: String = client
            .query_one("SELECT $1::text::regclass::text", &[&regclass])
            .with_context(|| format!("finding the table {name}"))?
            .get(0);
        let columns = client
            .query(COLUMNS, &[&resolved])
            .with_context(|| format!("reading the columns of {resolved}"))?
            .iter()
            .map(|row| Column {
                name: row.get("name"),
                type_sql: row.get("type_sql"),
                not_null: row.get("not_null"),
                has_default: row.get("has_default"),
                kind: value_kind(row.get("category"), row.get("base_type")),
            })
            .collect();
        let foreign_keys = client
            .query(FOREIGN_KEYS, &[&resolved])
            .with_context(|| format!("reading the foreign keys of {resolved}"))?
            .iter()
            .map(|row| ForeignKey {
                name: row.get("name"),
                referenced: row.get("referenced"),
                columns: row.get("columns"),
                referenced_columns: row.get("referenced_columns"),
            })
            .collect();
        let key = client
            .query_opt(PRIMARY_KEY, &[&resolved])
            .with_context(|| format!("reading the primary key of {resolved}"))?
            .map(|row| row.get("columns"))
            .unwrap_or_default();
        Ok(Table {
            name: resolved,
            columns,
            key,
            foreign_keys,
        })
    }

    pub fn column(&self, name: &str) -> Result<&Column> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .with_context(|| format!("{} has no column {name}", self.name))
    }

    /// SQL naming one row, compared with the text read from it: the primary key as a row
    /// value, or `ctid` for a table without one. `alias` qualifies the columns.
    pub fn row_name(&self, alias: &str) -> String {
        if self.key.is_empty() {
            return format!("{alias}.ctid::text");
        }
        format!("ROW({})::text", qualified(alias, &self.key))
    }
}

/// `a."x", a."y"`.
pub fn qualified(alias: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{}", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"x", "y"`.
pub fn quoted(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_kind(category: &str, base_type: &str) -> ValueKind {
    match (category, base_type) {
        (_, "int2") => ValueKind::SmallInt,
        (_, "uuid") => ValueKind::Uuid,
        (_, "json" | "jsonb") => ValueKind::Json,
        (_, "date") => ValueKind::Date,
        (_, "timestamp" | "timestamptz") => ValueKind::Timestamp,
        ("S", _) => ValueKind::Text,
        ("N", _) => ValueKind::Number,
        ("B", _) => ValueKind::Bool,
        ("E", _) => ValueKind::Enum,
        _ => ValueKind::Other,
    }
}

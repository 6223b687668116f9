//! What the verifier needs to know about a spec, resolved against the database it runs on:
//! the tables, their columns (with what a row generator needs of each), the foreign key that
//! links a copy's child to its parent, the synced columns, the direction; for the column
//! kind, the table, the two columns and the `up` expression.
//!
//! The spec is `sync::spec`'s and its foreign key is chosen by `sync::resolve`, as for
//! `sync new`; this adds what only the verifier needs (every column's type and default, the
//! keys naming rows, the other foreign keys a generated row must satisfy). Nothing here
//! writes.

use anyhow::{Context, Result, bail};
use postgres::Client;

use crate::db::quote_ident;
use crate::sync::resolve::ResolvedKind;
use crate::sync::spec::{Spec, SpecKind};

const COLUMNS: &str = include_str!("queries/columns.sql");
const FOREIGN_KEYS: &str = include_str!("../queries/foreign_keys.sql");
const PRIMARY_KEY: &str = include_str!("queries/primary_key.sql");

pub use crate::sync::spec::Direction;

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
    /// A generated column: never written.
    pub generated: bool,
    /// `GENERATED ALWAYS AS IDENTITY`: written only with `OVERRIDING SYSTEM VALUE`, never
    /// updated.
    pub identity_always: bool,
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
    /// Resolves a spec against the database `client` is connected to (the project applied):
    /// the foreign key as `sync new` resolves it, the tables as the verifier needs them.
    pub fn resolve(client: &mut Client, spec: &Spec) -> Result<Target> {
        let resolved = crate::sync::resolve::resolve(client, spec)?;
        // `resolve` reads the catalog with search_path = pg_catalog, so the names and types
        // read here come schema-qualified too; the writers that follow run with the default
        // search_path, as an application's sessions do.
        let target = Target::load(client, spec, &resolved.kind);
        client
            .batch_execute("RESET search_path")
            .context("resetting search_path after resolving the spec")?;
        target
    }

    fn load(client: &mut Client, spec: &Spec, resolved: &ResolvedKind) -> Result<Target> {
        match (&spec.kind, resolved) {
            (SpecKind::Copy(copy), ResolvedKind::Copy(resolved)) => {
                let parent = Table::load(client, &copy.parent.quoted())?;
                let child = Table::load(client, &copy.child.quoted())?;
                let link = child
                    .foreign_keys
                    .iter()
                    .find(|fk| fk.name == resolved.foreign_key && fk.referenced == parent.name)
                    .cloned()
                    .with_context(|| {
                        format!(
                            "{} has no foreign key {} to {}",
                            child.name, resolved.foreign_key, parent.name
                        )
                    })?;
                for name in &copy.columns {
                    parent.column(name)?;
                    child.column(name)?;
                }
                Ok(Target::Copy {
                    parent,
                    child,
                    link,
                    columns: copy.columns.clone(),
                    direction: copy.direction,
                })
            }
            (SpecKind::Column(column), _) => {
                let table = Table::load(client, &column.table.quoted())?;
                for name in [&column.old, &column.new] {
                    table.column(name)?;
                }
                Ok(Target::Column {
                    table,
                    old: column.old.clone(),
                    new: column.new.clone(),
                    up: column.up.clone(),
                })
            }
            _ => bail!("the spec resolved to another kind than it declares"),
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
                generated: row.get("generated"),
                identity_always: row.get("identity_always"),
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

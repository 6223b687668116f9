//! Schema snapshots: the database's schema as deterministic, executable SQL text.
//!
//! TEMPORARY stand-in with the final API (tables and columns only) so that `check` can be
//! built while the real introspection is written; replaced wholesale when it lands.

use anyhow::{Context, Result};
use postgres::Client;
use serde::Serialize;
use similar::TextDiff;

#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    pub exclude_schemas: Vec<String>,
    pub include_schemas: Option<Vec<String>>,
}

pub struct Snapshot {
    blocks: Vec<(String, String)>,
}

pub fn take(client: &mut Client, options: &SnapshotOptions) -> Result<Snapshot> {
    let rows = client
        .query(
            "SELECT n.nspname || '.' || c.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relkind IN ('r', 'v', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
               AND NOT n.nspname = ANY($1)
             GROUP BY 1 ORDER BY 1",
            &[&options.exclude_schemas],
        )
        .context("reading relations")?;
    Ok(Snapshot {
        blocks: rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    r.get::<_, Option<String>>(1).unwrap_or_default(),
                )
            })
            .collect(),
    })
}

impl Snapshot {
    pub fn render(&self) -> String {
        let mut out = String::from("-- pgstrata schema snapshot\n");
        for (name, columns) in &self.blocks {
            out.push_str(&format!("\n-- table {name}\n-- ({columns});\n"));
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    pub object: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub unified: String,
    pub changes: Vec<Change>,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.unified.is_empty()
    }
}

pub fn compare(
    expected: &str,
    actual: &str,
    expected_label: &str,
    actual_label: &str,
) -> Comparison {
    if expected == actual {
        return Comparison {
            unified: String::new(),
            changes: vec![],
        };
    }
    let unified = TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(expected_label, actual_label)
        .to_string();
    Comparison {
        unified,
        changes: vec![Change {
            change: ChangeKind::Changed,
            object: "schema".into(),
        }],
    }
}

pub fn colorize(unified: &str) -> String {
    unified.to_string()
}

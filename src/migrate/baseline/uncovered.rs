//! Objects in the database that a schema snapshot cannot carry yet (README, Limitations), so
//! that a baseline does not silently lack them: found by one catalog query
//! (`queries/baseline_uncovered.sql`), kept to the schemas the snapshot covers.

use anyhow::{Context, Result};
use postgres::Client;

use crate::shown::escape;
use crate::snapshot::SnapshotOptions;

/// One object a baseline would lack.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Uncovered {
    /// `foreign table`, `event trigger`, `text search configuration`, …
    pub kind: String,
    /// `app.remote`, `(text AS app.code)`, …
    pub name: String,
}

impl std::fmt::Display for Uncovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, escape(&self.name))
    }
}

/// Every object of the covered schemas (and of the whole database) that snapshots leave out.
pub fn find(client: &mut Client, options: &SnapshotOptions) -> Result<Vec<Uncovered>> {
    let rows = client
        .query(include_str!("../queries/baseline_uncovered.sql"), &[])
        .context("looking for objects a baseline cannot carry")?;
    let mut found = Vec::new();
    for row in rows {
        let schema: Option<String> = row.try_get(1)?;
        if schema
            .as_deref()
            .is_some_and(|schema| !options.keeps(schema))
        {
            continue;
        }
        found.push(Uncovered {
            kind: row.try_get(0)?,
            name: row.try_get(2)?,
        });
    }
    Ok(found)
}

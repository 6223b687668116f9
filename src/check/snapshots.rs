//! The committed snapshot files of `schema-snapshots/`: where a migration's is, and which
//! belong to no migration. Reading only.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::migrate::project::{Migration, Project};

/// The file name of a migration's snapshot, relative to the project root.
pub fn snapshot_path(migration: &Migration) -> String {
    format!(
        "schema-snapshots/V{}__{}.sql",
        migration.version, migration.name
    )
}

/// Files in schema-snapshots/ whose version is not a migration of the project.
pub fn orphans(project: &Project) -> Result<Vec<String>> {
    let dir: PathBuf = project.root.join("schema-snapshots");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let name = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let known = project
            .migrations
            .iter()
            .any(|m| snapshot_path(m) == format!("schema-snapshots/{name}"));
        if name.ends_with(".sql") && !known {
            orphans.push(format!("schema-snapshots/{name}"));
        }
    }
    orphans.sort();
    Ok(orphans)
}

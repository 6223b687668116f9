//! `new NAME`: an empty migration and rollback pair with the next version number.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::{OK, json, print_json};
use crate::cli::Format;
use crate::config::Settings;
use crate::migrate::project::{is_name, parse_versioned_name};

pub fn run(settings: &Settings, format: Format, name: &str) -> Result<u8> {
    if !is_name(name) {
        let shown = crate::secrets::quoted_if(name, !crate::secrets::may_carry_secret(name));
        bail!("{shown} is not a valid migration name; use letters, digits and _");
    }
    let version = next_version(settings)?;
    let file_name = format!("V{version}__{name}.sql");
    let migration = settings.dir.join("migrations").join(&file_name);
    let rollback = settings.dir.join("rollbacks").join(&file_name);
    for path in [&migration, &rollback] {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        fs::create_dir_all(path.parent().expect("a folder"))
            .with_context(|| format!("creating {}", path.parent().unwrap().display()))?;
    }
    fs::write(&migration, migration_template(version, name))
        .with_context(|| format!("writing {}", migration.display()))?;
    fs::write(&rollback, rollback_template(version, name))
        .with_context(|| format!("writing {}", rollback.display()))?;
    if json(format) {
        print_json(&json!({
            "command": "new",
            "ok": true,
            "version": version,
            "migration": format!("migrations/{file_name}"),
            "rollback": format!("rollbacks/{file_name}"),
        }));
    } else {
        outln!("created migrations/{file_name}");
        outln!("created rollbacks/{file_name}");
    }
    Ok(OK)
}

/// One more than the highest version in migrations/ or rollbacks/ (1 for a new project).
/// Reads names only, so that it works while other files are still being written.
fn next_version(settings: &Settings) -> Result<i64> {
    let mut highest = 0;
    for folder in ["migrations", "rollbacks"] {
        let dir = settings.dir.join(folder);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if let Some((version, _)) = entry.file_name().to_str().and_then(parse_versioned_name) {
                highest = highest.max(version);
            }
        }
    }
    highest
        .checked_add(1)
        .context("the highest version is already the largest number pgstrata accepts")
}

fn migration_template(version: i64, name: &str) -> String {
    format!(
        "-- V{version}__{name}: say what this migration does and why.\n\
         -- It runs in one transaction together with its history row. For statements that\n\
         -- cannot (CREATE INDEX CONCURRENTLY), add `-- pgstrata:no-transaction` here.\n\n"
    )
}

fn rollback_template(version: i64, name: &str) -> String {
    format!(
        "-- Undoes V{version}__{name}. It must restore the schema exactly as it was before the\n\
         -- migration; `pgstrata check` proves it. If it truly cannot, replace these lines with\n\
         -- `-- pgstrata:irreversible <reason>`.\n\n"
    )
}

//! `sync new SPEC`: resolve a sync spec on the schema the project's migrations produce (a
//! scratch server, or a temporary database on a server named for it, as `check` uses), then
//! write the generated migration and rollback with the project's next version.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::check::CheckDatabase;
use super::{OK, Output, json, print_json};
use crate::cli::SyncCommand;
use crate::config::Settings;
use crate::notices::Notices;
use crate::sync::{generate, resolve, spec};

pub fn run(settings: &Settings, output: Output, command: SyncCommand) -> Result<u8> {
    match command {
        SyncCommand::New { spec } => new(settings, output, &spec),
    }
}

fn new(settings: &Settings, output: Output, arg: &str) -> Result<u8> {
    let path = spec::spec_path(&settings.dir, arg);
    let spec = spec::load(&path)?;
    let project = super::load_project(settings)?;
    // A second generation would create the same functions and triggers again: a change of
    // spec needs a migration that undoes the first, which is the user's decision.
    let name = format!("sync_{}", spec.name);
    if let Some(existing) = project.migrations.iter().find(|m| m.name == name) {
        bail!(
            "migrations/V{}__{name}.sql already exists for sync spec {}; to change the triggers, \
             roll it back and delete that pair (if it was never deployed) or give the new spec \
             another name and drop the old triggers in a migration of your own",
            existing.version,
            spec.name
        );
    }
    let mut place = CheckDatabase::open(settings, None)?;
    let resolved = {
        let mut client = place.connect(&Notices::new())?;
        resolve::apply_project(
            &mut client,
            &project,
            &settings.history_schema,
            settings.limits,
        )
        .and_then(|()| resolve::resolve(&mut client, &spec))
        .with_context(|| {
            format!(
                "resolving sync spec {} {}",
                path.display(),
                place.describe()
            )
        })
    };
    place.close();
    let generated = generate::generate(&resolved?)?;
    let (version, note) = super::new::next_version(settings)?;
    let file_name = format!("V{version}__{}.sql", generated.name);
    let migration = settings.dir.join("migrations").join(&file_name);
    let rollback = settings.dir.join("rollbacks").join(&file_name);
    for path in [&migration, &rollback] {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let folder = path.parent().expect("a folder");
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    fs::write(&migration, &generated.migration)
        .with_context(|| format!("writing {}", migration.display()))?;
    fs::write(&rollback, &generated.rollback)
        .with_context(|| format!("writing {}", rollback.display()))?;
    if json(output.format) {
        print_json(&json!({
            "command": "sync new",
            "ok": true,
            "spec": spec.name,
            "version": version,
            "migration": format!("migrations/{file_name}"),
            "rollback": format!("rollbacks/{file_name}"),
            "no_transaction": generated.no_transaction,
            "note": note,
        }));
    } else {
        if let Some(note) = &note {
            eprintln!("note: {note}");
        }
        outln!("created migrations/{file_name}");
        outln!("created rollbacks/{file_name}");
        if generated.no_transaction {
            outln!("the migration backfills in committed batches, outside a transaction");
        }
        outln!(
            "next: pgstrata check --write-snapshots (its snapshot; check also proves the rollback exact)"
        );
    }
    Ok(OK)
}

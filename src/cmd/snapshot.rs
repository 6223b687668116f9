//! `snapshot` and `drift`: the live schema as text, and how it differs from the committed
//! snapshot of its applied version.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::output::{paint_diff, summary_line};
use super::{FOUND, OK, Target, connect, json, load_and_connect, print_json};
use crate::check::snapshot_path;
use crate::cli::Format;
use crate::config::Settings;
use crate::history::History;
use crate::project::{self, Migration, Project};
use crate::snapshot::{self, SnapshotOptions};

pub fn snapshot(settings: &Settings, format: Format, write: bool) -> Result<u8> {
    let mut target = connect(settings)?;
    let text = take(settings, &mut target)?;
    if !write {
        if json(format) {
            print_json(&json!({"command": "snapshot", "ok": true, "snapshot": text}));
        } else {
            out!("{text}");
        }
        return Ok(OK);
    }
    let project = project::load(&settings.dir)?;
    let migration = applied_migration(settings, &project, &mut target)?;
    let relative = snapshot_path(migration);
    let path = project.root.join(&relative);
    let unchanged =
        fs::read_to_string(&path).is_ok_and(|old| crate::checksum::normalize(&old) == text);
    if !unchanged {
        fs::create_dir_all(path.parent().expect("a folder"))
            .with_context(|| format!("creating the folder of {relative}"))?;
        fs::write(&path, &text).with_context(|| format!("writing {relative}"))?;
    }
    let outcome = if unchanged { "unchanged" } else { "written" };
    if json(format) {
        print_json(
            &json!({"command": "snapshot", "ok": true, "file": relative, "outcome": outcome}),
        );
    } else {
        outln!(
            "{relative} {outcome} (the schema at V{})",
            migration.version
        );
    }
    Ok(OK)
}

pub fn drift(settings: &Settings, format: Format) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    let migration = applied_migration(settings, &project, &mut target)?;
    let relative = snapshot_path(migration);
    let committed = match fs::read_to_string(project.root.join(&relative)) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "the database is at V{}, but {relative} does not exist; write it with `pgstrata \
             check --write-snapshots` and commit it",
            migration.version
        ),
        Err(err) => return Err(err).with_context(|| format!("reading {relative}")),
    };
    let live = take(settings, &mut target)?;
    let comparison = snapshot::compare(&committed, &live, &relative, "live database");
    let drifted = !comparison.is_same();
    if json(format) {
        print_json(&json!({
            "command": "drift",
            "ok": true,
            "drift": drifted,
            "version": migration.version,
            "snapshot": relative,
            "changes": comparison.changes,
            "diff": comparison.unified,
        }));
    } else if drifted {
        out!("{}", paint_diff(&comparison.unified));
        for change in &comparison.changes {
            outln!("{}", summary_line(change));
        }
        let n = comparison.changes.len();
        let verb = if n == 1 { "differs" } else { "differ" };
        outln!(
            "drift: {} {verb} from {relative} (the database is at V{})",
            super::output::count(n, "object"),
            migration.version
        );
    } else {
        outln!(
            "no drift: the database matches {relative} (V{})",
            migration.version
        );
    }
    Ok(if drifted { FOUND } else { OK })
}

/// The snapshot text of the target, read over two connections when it has a connection
/// string (the server prints definitions on two cores).
fn take(settings: &Settings, target: &mut Target) -> Result<String> {
    let options = SnapshotOptions {
        exclude_schemas: vec![settings.history_schema.clone()],
        include_schemas: settings.schemas.clone(),
    };
    Ok(snapshot::take_parallel(&target.info, &options)?.render())
}

/// The project's migration for the database's newest applied version.
fn applied_migration<'p>(
    settings: &Settings,
    project: &'p Project,
    target: &mut Target,
) -> Result<&'p Migration> {
    let rows = History::new(&settings.history_schema)
        .read(&mut target.client)?
        .unwrap_or_default();
    let Some(newest) = rows.iter().map(|r| r.version).max() else {
        bail!("no migration is applied to this database, so it has no committed snapshot to match");
    };
    project.migration(newest).with_context(|| {
        format!("the database is at V{newest}, but migrations/ has no migration {newest}")
    })
}

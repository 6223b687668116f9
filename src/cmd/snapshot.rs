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
use crate::files::{self, MAX_SQL_BYTES};
use crate::migrate::history::History;
use crate::migrate::project::{Migration, Project};
use crate::snapshot;

pub fn snapshot(settings: &Settings, format: Format, write: bool) -> Result<u8> {
    let mut target = connect(settings)?;
    snapshot::refuse_blind_spots_in(&mut target.client, &settings.snapshot_options())?;
    let text = take(settings, &mut target)?;
    if !write {
        if json(format) {
            print_json(&json!({"command": "snapshot", "ok": true, "snapshot": text}));
        } else {
            out!("{text}");
        }
        return Ok(OK);
    }
    let project = super::load_project(settings)?;
    let migration = applied_migration(settings, &project, &mut target)?;
    let relative = snapshot_path(migration);
    let path = project.root.join(&relative);
    let unchanged = match files::read_regular_text(&path, MAX_SQL_BYTES) {
        Ok(old) => crate::checksum::normalize(&old) == text,
        Err(err) if err.is_not_found() => false,
        // Writing to a FIFO would block; anything else unreadable is not ours to replace.
        Err(err) => bail!("{relative}: {err}"),
    };
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
    snapshot::refuse_blind_spots_in(&mut target.client, &settings.snapshot_options())?;
    let migration = applied_migration(settings, &project, &mut target)?;
    let relative = snapshot_path(migration);
    let committed = match files::read_regular_text(&project.root.join(&relative), MAX_SQL_BYTES) {
        Ok(text) => text,
        Err(err) if err.is_not_found() => bail!(
            "the database is at V{}, but {relative} does not exist; write it with `pgstrata \
             check --write-snapshots` and commit it",
            migration.version
        ),
        Err(err) => bail!("{relative}: {err}"),
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
    let options = settings.snapshot_options();
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

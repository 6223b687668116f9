//! `snapshot` and `drift`: the live schema as text, and how it differs from the committed
//! snapshot of its applied version.
//!
//! Neither trusts a dirty database (a no-transaction migration or rollback was interrupted, so
//! the schema is neither version's): `drift` refuses it, and `snapshot --write` refuses it
//! and a database that differs from the committed snapshot of its version unless forced,
//! since either would bake a half-run migration or a hand edit into a committed file.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::output::{paint_diff, summary_line};
use super::{FOUND, OK, Target, connect, json, load_and_connect, print_json};
use crate::check::{Committed, SCHEMA_FILE, snapshot_path};
use crate::cli::Format;
use crate::config::Settings;
use crate::error::Refusal;
use crate::migrate::history::{History, HistoryRow};
use crate::migrate::plan;
use crate::migrate::project::{Migration, Project};
use crate::snapshot::{self, Delta, Schema};

pub fn snapshot(settings: &Settings, format: Format, write: bool, force: bool) -> Result<u8> {
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
    let rows = history_rows(settings, &mut target)?;
    if !force {
        refuse_dirty(
            &rows,
            "snapshot --write would record a half-run migration as the schema of V{} (`--force` \
             writes it anyway)",
        )?;
    }
    let migration = newest_migration(&project, &rows)?;
    let v = migration.version;
    let committed = Committed::read(&project)?;
    let relative = snapshot_path(migration);
    let delta = Delta::between(&committed.fold_before(v), &Schema::parse(&text)).text();
    let unchanged = committed.text(v) == Some(delta.as_str());
    let committed_schema = if unchanged || force {
        None
    } else {
        committed.fold_through(&project, migration)
    };
    if let Some(expected) = committed_schema {
        let comparison = expected.compare(&text, "live database");
        if !comparison.is_same() {
            refuse_drifted(&comparison, &expected.label, v)?;
        }
    }
    if !unchanged {
        write_file(&project, &relative, &delta)?;
    }
    let outcome = if unchanged { "unchanged" } else { "written" };
    // At the newest migration, the whole schema too.
    let head = project.migrations.last().map(|m| m.version) == Some(v);
    let schema_outcome = if !head {
        None
    } else if committed.schema_text() == Some(text.as_str()) {
        Some("unchanged")
    } else {
        write_file(&project, SCHEMA_FILE, &text)?;
        Some("written")
    };
    if json(format) {
        print_json(&json!({
            "command": "snapshot",
            "ok": true,
            "file": relative,
            "outcome": outcome,
            "schema": schema_outcome.map(|o| json!({"file": SCHEMA_FILE, "outcome": o})),
        }));
    } else {
        outln!("{relative} {outcome} (what V{v} changed)");
        if let Some(schema_outcome) = schema_outcome {
            outln!(
                "{SCHEMA_FILE} {schema_outcome} (the whole schema at V{v}, the newest migration)"
            );
        }
    }
    Ok(OK)
}

/// Writes a file of the project, making its folder.
fn write_file(project: &Project, relative: &str, text: &str) -> Result<()> {
    let path = project.root.join(relative);
    fs::create_dir_all(path.parent().expect("a folder"))
        .with_context(|| format!("creating the folder of {relative}"))?;
    fs::write(&path, text).with_context(|| format!("writing {relative}"))
}

pub fn drift(settings: &Settings, format: Format) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    snapshot::refuse_blind_spots_in(&mut target.client, &settings.snapshot_options())?;
    let rows = history_rows(settings, &mut target)?;
    refuse_dirty(
        &rows,
        "drift cannot compare it with the snapshot of V{}, or of any version",
    )?;
    let migration = newest_migration(&project, &rows)?;
    let Some(committed) = Committed::read(&project)?.schema_at(&project, migration) else {
        bail!(
            "the database is at V{}, but {} does not exist; write it with `pgstrata check \
             --write-snapshots` and commit it",
            migration.version,
            snapshot_path(migration)
        );
    };
    let relative = &committed.label;
    let live = take(settings, &mut target)?;
    let comparison = committed.compare(&live, "live database");
    if !committed.missing.is_empty() && !json(format) {
        eprintln!(
            "note: the schema at V{} is the fold of the deltas up to it, and {} missing: {}; \
             what {} made may show as drift (`pgstrata check --write-snapshots` writes them)",
            migration.version,
            if committed.missing.len() == 1 {
                "this one is"
            } else {
                "these are"
            },
            committed.missing.join(", "),
            if committed.missing.len() == 1 {
                "its migration"
            } else {
                "their migrations"
            },
        );
    }
    let drifted = !comparison.is_same();
    if json(format) {
        print_json(&json!({
            "command": "drift",
            "ok": true,
            "drift": drifted,
            "version": migration.version,
            "snapshot": committed.file,
            "missing_snapshots": committed.missing,
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

/// The target's history, in version order (empty when it has none).
fn history_rows(settings: &Settings, target: &mut Target) -> Result<Vec<HistoryRow>> {
    Ok(History::new(&settings.history_schema)
        .read(&mut target.client)?
        .unwrap_or_default())
}

/// Refuses a database whose history has an interrupted (`running` or `reverting`) row; `what`
/// says what cannot be done, `{}` standing for the interrupted version.
fn refuse_dirty(rows: &[HistoryRow], what: &str) -> Result<()> {
    match plan::refuse_dirty(rows) {
        Ok(()) => Ok(()),
        Err(refusal) => {
            let version = match &refusal {
                Refusal::Dirty { version, .. } => *version,
                _ => 0,
            };
            let context = format!(
                "the database is dirty: {}",
                what.replace("{}", &version.to_string())
            );
            Err(anyhow::Error::new(refusal).context(context))
        }
    }
}

/// Refuses to overwrite the committed snapshot of `version` (named `relative`) with the live
/// schema that differs from it (`comparison`): that is drift, and writing it would hide it
/// in the committed file.
fn refuse_drifted(comparison: &snapshot::Comparison, relative: &str, version: i64) -> Result<()> {
    let changes: Vec<String> = comparison
        .changes
        .iter()
        .map(|change| format!("\n  {}", summary_line(change)))
        .collect();
    bail!(
        "the database is at V{version} but differs from the committed {relative} in {}:{}\n\
         writing would put that drift (a hand edit, or a change made outside the migrations) \
         into the committed file; see it with `pgstrata drift`, then undo it or make it a \
         migration; if migrations/ changed on purpose, rewrite the snapshots from the \
         migrations with `pgstrata check --write-snapshots`; `pgstrata snapshot --write \
         --force` writes the database as it is",
        super::output::count(comparison.changes.len(), "object"),
        changes.concat()
    )
}

/// The project's migration for the database's newest applied version.
fn newest_migration<'p>(project: &'p Project, rows: &[HistoryRow]) -> Result<&'p Migration> {
    let Some(newest) = rows.iter().map(|r| r.version).max() else {
        bail!("no migration is applied to this database, so it has no committed snapshot to match");
    };
    project.migration(newest).with_context(|| {
        format!("the database is at V{newest}, but migrations/ has no migration {newest}")
    })
}

//! `up`, `down`, `redo` and `repair`: run the runner, print its progress and report.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use super::output::{count, duration_ms, stdout_is_terminal};
use super::{OK, Target, connect, json, load_and_connect, load_and_connect_with, print_json};
use crate::cli::Format;
use crate::config::Settings;
use crate::plan::DownTarget;
use crate::project::Project;
use crate::runner::{self, Direction, Event, Observed, Options, Repair, RunReport, Runner};

pub fn up(settings: &Settings, format: Format, to: Option<i64>, dry_run: bool) -> Result<u8> {
    let (project, mut target, observed) = load_and_connect_with(settings, |client| {
        Observed::read(client, &settings.history_schema)
    })?;
    run(
        settings,
        format,
        &project,
        &mut target,
        "up",
        dry_run,
        |r| r.up_unless_current(to, observed.as_ref()),
    )
}

pub fn down(
    settings: &Settings,
    format: Format,
    to: Option<i64>,
    steps: Option<usize>,
    dry_run: bool,
) -> Result<u8> {
    let target_version = match to {
        Some(to) => DownTarget::To(to),
        None => DownTarget::Steps(steps.unwrap_or(1)),
    };
    let (project, mut target) = load_and_connect(settings)?;
    run(
        settings,
        format,
        &project,
        &mut target,
        "down",
        dry_run,
        |r| r.down(target_version),
    )
}

pub fn redo(settings: &Settings, format: Format) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    run(
        settings,
        format,
        &project,
        &mut target,
        "redo",
        false,
        |r| r.redo(),
    )
}

pub fn repair(settings: &Settings, format: Format, version: i64, mark_applied: bool) -> Result<u8> {
    let mut target = connect(settings)?;
    let action = if mark_applied {
        Repair::MarkApplied
    } else {
        Repair::Forget
    };
    runner::repair(
        &mut target.client,
        &options(settings, false),
        version,
        action,
    )?;
    let outcome = match action {
        Repair::MarkApplied => "recorded as applied",
        Repair::Forget => "removed from the history",
    };
    if json(format) {
        print_json(
            &json!({"command": "repair", "ok": true, "version": version, "outcome": outcome}),
        );
    } else {
        outln!("migration {version} {outcome}");
    }
    Ok(OK)
}

pub fn adopt_refinery(settings: &Settings, format: Format, table: &str) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    let adopted = crate::adopt::refinery(
        &mut target.client,
        &project,
        &settings.history_schema,
        table,
        settings.lock_wait,
    )?;
    if json(format) {
        print_json(&json!({"command": "adopt-refinery", "ok": true, "adopted": adopted}));
    } else {
        for a in &adopted {
            outln!(
                "adopted V{:<5} {:<40} (applied by refinery {})",
                a.version,
                a.name,
                a.applied_on.as_deref().unwrap_or("at an unknown time")
            );
        }
        outln!(
            "adopted {} from {table}; it is no longer used and can be dropped",
            count(adopted.len(), "migration")
        );
    }
    Ok(OK)
}

fn options(settings: &Settings, dry_run: bool) -> Options {
    Options {
        history_schema: settings.history_schema.clone(),
        lock_wait: settings.lock_wait,
        dry_run,
    }
}

/// Runs `action` on a runner, printing progress as it goes (text) or the report at the end
/// (JSON, also after a failure, with the error).
#[allow(clippy::too_many_arguments)]
fn run(
    settings: &Settings,
    format: Format,
    project: &Project,
    target: &mut Target,
    command: &str,
    dry_run: bool,
    action: impl FnOnce(&mut Runner) -> Result<()>,
) -> Result<u8> {
    let started = Instant::now();
    let text = !json(format);
    let tty = text && stdout_is_terminal();
    let mut on_event = |event: Event| print_event(&event, text, tty, dry_run);
    let mut runner = Runner::new(
        &mut target.client,
        project,
        options(settings, dry_run),
        &mut on_event,
    );
    let result = action(&mut runner);
    let report = runner.into_report();
    if text {
        if result.is_ok() {
            outln!(
                "{}",
                summary(command, &report, started.elapsed().as_millis() as u64)
            );
        }
    } else {
        print_json(&json!({
            "command": command,
            "ok": result.is_ok(),
            "dry_run": report.dry_run,
            "steps": report.steps,
            "views": report.views,
            "notes": report.notes,
            "error": result.as_ref().err().map(|e| format!("{e:#}")),
        }));
    }
    result.map(|()| OK)
}

fn print_event(event: &Event, text: bool, tty: bool, dry_run: bool) {
    match event {
        Event::LockBusy(holder) => match holder {
            Some(holder) => eprintln!("waiting for the migration lock, held by {holder}"),
            None => eprintln!("waiting for the migration lock"),
        },
        Event::Note(note) => eprintln!("note: {note}"),
        _ if !text => {}
        Event::Starting(direction, migration) if tty => {
            out!(
                "{}",
                step_head(*direction, migration.version, &migration.name)
            );
            let _ = std::io::stdout().flush();
        }
        Event::Starting(..) => {}
        Event::Finished(step) => {
            let tail = if dry_run {
                "(dry run)".to_string()
            } else {
                duration_ms(step.ms)
            };
            if tty {
                outln!("{tail}");
            } else {
                outln!(
                    "{}{tail}",
                    step_head(step.direction, step.version, &step.name)
                );
            }
        }
        Event::View(change) => {
            let action = serde_json::to_value(change.action).expect("enum serialises");
            outln!(
                "view  {:<10} {} ({})",
                action.as_str().unwrap_or_default(),
                change.view,
                change.file
            );
        }
    }
}

fn step_head(direction: Direction, version: i64, name: &str) -> String {
    let arrow = match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    };
    format!("{arrow:<5} V{version:<5} {name:<40} ")
}

fn summary(command: &str, report: &RunReport, total_ms: u64) -> String {
    let ups = report
        .steps
        .iter()
        .filter(|s| s.direction == Direction::Up)
        .count();
    let downs = report.steps.len() - ups;
    let mut parts = Vec::new();
    let (apply, roll) = if report.dry_run {
        ("would apply", "would roll back")
    } else {
        ("applied", "rolled back")
    };
    if downs > 0 {
        parts.push(format!("{roll} {}", count(downs, "migration")));
    }
    if ups > 0 {
        parts.push(format!("{apply} {}", count(ups, "migration")));
    }
    if !report.views.is_empty() {
        parts.push(format!(
            "{} {}",
            if report.dry_run {
                "would change"
            } else {
                "changed"
            },
            count(report.views.len(), "view")
        ));
    }
    if parts.is_empty() {
        return match command {
            "down" => "nothing to roll back".to_string(),
            _ => "nothing to do: the database is up to date".to_string(),
        };
    }
    if report.dry_run {
        parts.join(", ")
    } else {
        format!("{} in {}", parts.join(", "), duration_ms(total_ms))
    }
}

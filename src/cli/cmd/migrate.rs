//! `up`, `down`, `redo` and `repair`: run the runner, print its progress and report.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::json;

use super::output::{count, duration_ms, stdout_is_terminal};
use super::{
    OK, Output, Target, connect, json, load_and_connect, load_and_connect_with, print_json,
};
use crate::cli::{AdoptFrom, Format};
use crate::config::Settings;
use crate::migrate::adopt::Adoption;
use crate::migrate::observed::Observed;
use crate::migrate::plan::DownTarget;
use crate::migrate::project::{self, Project};
use crate::migrate::repair::{self, Repair};
use crate::migrate::runner::{Direction, Event, OnEvent, Options, RunReport, Runner};
use crate::migrate::watch;
use crate::shown::escape;

/// `up`'s switches.
pub struct UpFlags {
    pub dry_run: bool,
    pub allow_out_of_order: bool,
    /// `--single-transaction`: everything in one transaction (see `runner::single`).
    pub single_transaction: bool,
}

pub fn up(settings: &Settings, output: Output, to: Option<i64>, flags: UpFlags) -> Result<u8> {
    let UpFlags {
        dry_run,
        allow_out_of_order,
        single_transaction,
    } = flags;
    let format = output.format;
    if to == Some(0) {
        bail!(
            "--to 0 applies nothing; give the version to stop after (e.g. --to 5), or leave \
             --to out to apply every pending migration"
        );
    }
    // A deploy's most common case, nothing to do, is answered from names and checksums
    // alone: no file is parsed, no lock taken. Anything else parses every file first. Every
    // file is still syntax-checked (while the connection opens): an older pgstrata recorded
    // files the parser rejects as applied, and a no-op must still refuse them
    // (tests/it/parser/load_errors.rs). On a long history whose files have not changed, the
    // names, checksums and that check come from the no-op cache (project::load_cached).
    let (project, mut target, observed) =
        load_and_connect_with(settings, project::load_cached, |client| {
            Observed::read(client, &settings.history_schema)
        })?;
    let newest = observed.as_ref().and_then(Observed::newest);
    let project = if observed.is_some_and(|o| o.nothing_to_do(&project, to)) {
        None
    } else {
        Some(project.parse()?)
    };
    match &project {
        Some(project) => run(
            settings,
            output,
            project,
            &mut target,
            "up",
            dry_run,
            Allow {
                data_loss: false,
                out_of_order: allow_out_of_order || settings.allow_out_of_order,
            },
            |r| {
                if single_transaction {
                    r.up_in_one_transaction(to)
                } else {
                    r.up(to)
                }
            },
        ),
        None => {
            let nothing = RunReport {
                before: newest,
                after: newest,
                single_transaction,
                ..RunReport::default()
            };
            report(format, "up", dry_run, &nothing, &Ok(()), 0);
            Ok(OK)
        }
    }
}

pub fn down(
    settings: &Settings,
    output: Output,
    to: Option<i64>,
    steps: Option<usize>,
    dry_run: bool,
    allow_data_loss: bool,
) -> Result<u8> {
    let target_version = match to {
        Some(to) => DownTarget::To(to),
        None => DownTarget::Steps(steps.unwrap_or(1)),
    };
    let (project, mut target) = load_and_connect(settings)?;
    run(
        settings,
        output,
        &project,
        &mut target,
        "down",
        dry_run,
        Allow {
            data_loss: allow_data_loss,
            out_of_order: false,
        },
        |r| r.down(target_version),
    )
}

pub fn redo(
    settings: &Settings,
    output: Output,
    dry_run: bool,
    allow_data_loss: bool,
) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    run(
        settings,
        output,
        &project,
        &mut target,
        "redo",
        dry_run,
        Allow {
            data_loss: allow_data_loss,
            out_of_order: false,
        },
        |r| r.redo(),
    )
}

pub fn repair(settings: &Settings, format: Format, version: i64, mark_applied: bool) -> Result<u8> {
    // Marking applied reads the migration's files for the indexes it builds; forgetting
    // needs no file, so it works whatever state the project is in.
    let (project, mut target, action) = if mark_applied {
        let (project, target) = load_and_connect(settings)?;
        (Some(project), target, Repair::MarkApplied)
    } else {
        (None, connect(settings)?, Repair::Forget)
    };
    let options = options(settings, &target, false, Allow::default());
    repair::repair(
        &mut target.client,
        &options,
        project.as_ref(),
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

/// `adopt --from TOOL`: refinery as `adopt-refinery`, the other tools through
/// `migrate::adopt::adopt`.
pub fn adopt(
    settings: &Settings,
    format: Format,
    from: AdoptFrom,
    table: Option<&str>,
    unwrap_transactions: bool,
) -> Result<u8> {
    use crate::import::Tool;
    let tool = match from {
        AdoptFrom::Refinery => {
            let table = table.unwrap_or("refinery_schema_history");
            return adopt_refinery(settings, format, table, unwrap_transactions);
        }
        AdoptFrom::Diesel => Tool::Diesel,
        AdoptFrom::Sqlx => Tool::Sqlx,
        AdoptFrom::GolangMigrate => Tool::GolangMigrate,
        AdoptFrom::Dbmate => Tool::Dbmate,
        AdoptFrom::Flyway => Tool::Flyway,
    };
    if unwrap_transactions {
        bail!("--unwrap-transactions is for refinery's migrations only");
    }
    let (project, mut target) = load_and_connect(settings)?;
    let how = crate::migrate::adopt::ToolAdoption {
        history_schema: &settings.history_schema,
        table,
        lock_wait: settings.lock_wait,
    };
    let adopted = crate::migrate::adopt::adopt(&mut target.client, &project, tool, &how)?;
    let table = table.unwrap_or(crate::migrate::adopt::default_table(tool));
    if json(format) {
        print_json(&json!({"command": "adopt", "ok": true, "from": tool, "adopted": adopted}));
    } else {
        for a in &adopted {
            outln!(
                "adopted {} {:<40} (applied by {} {})",
                super::output::version_cell(a.version),
                escape(&a.name),
                tool.name(),
                escape(a.applied_on.as_deref().unwrap_or("at an unknown time")),
            );
        }
        outln!(
            "adopted {} from {}; pgstrata does not use it: drop it once nothing runs the other \
             tool's migrations any more (an application that still runs them at start-up would \
             apply every migration again without it)",
            count(adopted.len(), "migration"),
            escape(table)
        );
    }
    Ok(OK)
}

pub fn adopt_refinery(
    settings: &Settings,
    format: Format,
    table: &str,
    unwrap_transactions: bool,
) -> Result<u8> {
    // Parsed by the adoption, once the files refinery ran wrapped in BEGIN … COMMIT are
    // unwrapped (when asked to): the loader would refuse them as they are.
    let (project, mut target, ()) =
        load_and_connect_with(settings, project::load_unparsed, |_| ())?;
    let how = Adoption {
        history_schema: &settings.history_schema,
        table,
        lock_wait: settings.lock_wait,
        unwrap_transactions,
    };
    let adopted = crate::migrate::adopt::refinery(&mut target.client, project, &how)?;
    if json(format) {
        print_json(&json!({"command": "adopt-refinery", "ok": true, "adopted": adopted}));
    } else {
        for a in &adopted {
            outln!(
                "adopted {} {:<40} (applied by refinery {}){}",
                super::output::version_cell(a.version),
                escape(&a.name),
                escape(a.applied_on.as_deref().unwrap_or("at an unknown time")),
                if a.unwrapped {
                    "; its BEGIN; and COMMIT; are commented out"
                } else {
                    ""
                }
            );
        }
        let unwrapped = adopted.iter().filter(|a| a.unwrapped).count();
        if unwrapped > 0 {
            outln!(
                "rewrote {} in migrations/; commit the change",
                count(unwrapped, "file")
            );
        }
        outln!(
            "adopted {} from {}; pgstrata does not use it: drop it once nothing runs the other \
             tool's migrations any more (an application that still runs them at start-up would \
             apply every migration again without it)",
            count(adopted.len(), "migration"),
            escape(table)
        );
    }
    Ok(OK)
}

/// What a run may do that it refuses otherwise.
#[derive(Debug, Clone, Copy, Default)]
struct Allow {
    /// `--allow-data-loss`.
    data_loss: bool,
    /// `up --allow-out-of-order` or `allow_out_of_order` in pgstrata.toml.
    out_of_order: bool,
}

fn options(settings: &Settings, target: &Target, dry_run: bool, allow: Allow) -> Options {
    Options {
        history_schema: settings.history_schema.clone(),
        lock_wait: settings.lock_wait,
        dry_run,
        limits: settings.limits,
        watch: Some(target.info.clone()),
        allow_data_loss: allow.data_loss,
        allow_out_of_order: allow.out_of_order,
    }
}

/// Runs `action` on a runner, printing progress as it goes (text) or the report at the end
/// (JSON, also after a failure, with the error).
#[allow(clippy::too_many_arguments)]
fn run(
    settings: &Settings,
    output: Output,
    project: &Project,
    target: &mut Target,
    command: &str,
    dry_run: bool,
    allow: Allow,
    action: impl FnOnce(&mut Runner) -> Result<()>,
) -> Result<u8> {
    let started = Instant::now();
    let format = output.format;
    let text = !json(format);
    let printer = Printer {
        text,
        quiet: output.quiet,
        tty: text && stdout_is_terminal(),
        // A CI log (stderr not a terminal) gets a line as each migration starts; a terminal
        // sees the step on stdout as it runs.
        log: !dry_run && !std::io::stderr().is_terminal(),
        dry_run,
    };
    let on_event: OnEvent = Arc::new(move |event: Event| printer.print(&event));
    let options = options(settings, target, dry_run, allow);
    let mut runner = Runner::new(&mut target.client, project, options, on_event)
        .with_notices(target.notices.clone());
    let result = action(&mut runner);
    let report_ = runner.into_report();
    let ms = started.elapsed().as_millis() as u64;
    report(format, command, dry_run, &report_, &result, ms);
    result.map(|()| OK)
}

/// Prints the outcome of a run: its summary line (text, after success), or the whole report
/// (JSON, also after a failure, with the error).
fn report(
    format: Format,
    command: &str,
    dry_run: bool,
    report: &RunReport,
    result: &Result<()>,
    ms: u64,
) {
    if !json(format) {
        if result.is_ok() {
            outln!("{}", summary(command, report, ms));
        }
        return;
    }
    let mut value = json!({
        "command": command,
        "ok": result.is_ok(),
        "dry_run": dry_run,
        "before": report.before,
        "after": report.after,
        "single_transaction": report.single_transaction,
        "steps": report.steps,
        "views": views_json(report),
        "notes": report.notes,
        "notices": report.notices,
        "data_loss": report.data_loss,
        "error": null,
    });
    if let (Err(err), Some(object)) = (result, value.as_object_mut()) {
        object.extend(super::error_fields(err));
    }
    print_json(&value);
}

/// The report's view changes, each with its SQL in a dry run.
fn views_json(report: &RunReport) -> serde_json::Value {
    let mut views = serde_json::to_value(&report.views).expect("view changes serialise");
    if let Some(views) = views.as_array_mut() {
        for (index, sql) in &report.view_sql {
            if let Some(object) = views.get_mut(*index).and_then(|v| v.as_object_mut()) {
                object.insert("sql".to_string(), json!(sql));
            }
        }
    }
    views
}

/// How a run's events are shown: steps on stdout (text reports), progress on stderr.
struct Printer {
    text: bool,
    /// `--quiet`: notices below WARNING are not shown (the JSON report keeps them).
    quiet: bool,
    tty: bool,
    log: bool,
    dry_run: bool,
}

impl Printer {
    fn print(&self, event: &Event) {
        match event {
            Event::LockBusy(holder, waited) => {
                let so_far = match waited.as_secs() {
                    0 => String::new(),
                    secs => format!(" ({secs} s so far)"),
                };
                match holder {
                    Some(holder) => eprintln!(
                        "waiting for the migration lock{so_far}, held by {}",
                        escape(&holder.to_string())
                    ),
                    None => eprintln!("waiting for the migration lock{so_far}"),
                }
            }
            Event::Note(note) => eprintln!("note: {}", escape(note)),
            // On stderr in either format, as the server's messages are in psql.
            Event::Notice(notice) => {
                if notice.is_warning() || !self.quiet {
                    eprintln!("{}", notice.display());
                }
            }
            Event::Running {
                what,
                elapsed,
                blockers,
            } => {
                let secs = elapsed.as_secs();
                match blockers {
                    [] => eprintln!("… {what}: still running after {secs} s"),
                    _ => eprintln!(
                        "… {what}: waiting for a lock for {secs} s, blocked by {}",
                        escape(&watch::describe(blockers))
                    ),
                }
            }
            Event::Retrying { what, retry } => {
                let blocked = match retry.blockers.as_slice() {
                    [] => String::new(),
                    blockers => format!("; blocked by {}", escape(&watch::describe(blockers))),
                };
                eprintln!(
                    "lock wait: {what}, attempt {} of {}, {} ({}){blocked}; rolled back, \
                     retrying in {:.1} s",
                    retry.attempt,
                    retry.attempts,
                    retry.cause,
                    retry.code,
                    retry.pause_ms as f64 / 1000.0
                );
            }
            Event::Starting(direction, migration) => {
                if self.log {
                    eprintln!(
                        "{} V{} {} …",
                        arrow(*direction),
                        migration.version,
                        migration.name
                    );
                }
                if self.text && self.tty {
                    out!(
                        "{}",
                        step_head(*direction, migration.version, &migration.name)
                    );
                    let _ = std::io::stdout().flush();
                }
            }
            _ if !self.text => {}
            Event::Finished(step) => {
                let mut tail = if self.dry_run {
                    "(dry run)".to_string()
                } else {
                    duration_ms(step.ms)
                };
                if step.attempts > 1 {
                    tail.push_str(&format!(" ({} attempts)", step.attempts));
                }
                if self.tty {
                    outln!("{tail}");
                } else {
                    outln!(
                        "{}{tail}",
                        step_head(step.direction, step.version, &step.name)
                    );
                }
                if let Some(sql) = &step.sql {
                    print_sql(&format!("-- {}\n{sql}", escape(&step.file)));
                }
            }
            Event::ViewSql(sql) => print_sql(&format!("-- the view rebuild\n{sql}")),
            Event::View(change) => {
                let action = serde_json::to_value(change.action).expect("enum serialises");
                let file = match &change.previous_file {
                    Some(previous) => format!("{} → {}", escape(previous), escape(&change.file)),
                    None => escape(&change.file).to_string(),
                };
                outln!(
                    "view  {:<10} {} ({file})",
                    action.as_str().unwrap_or_default(),
                    escape(&change.view),
                );
            }
        }
    }
}

/// SQL shown in a dry run: indented under the line it belongs to, control characters shown.
fn print_sql(sql: &str) {
    for line in sql.lines() {
        if line.is_empty() {
            outln!();
        } else {
            outln!("    {}", crate::shown::escape_lines(line));
        }
    }
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}

fn step_head(direction: Direction, version: i64, name: &str) -> String {
    format!(
        "{:<5} {} {name:<40} ",
        arrow(direction),
        super::output::version_cell(version)
    )
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

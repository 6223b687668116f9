//! `--targets FILE`: up, down, status, drift or snapshot on every database of a fleet, `--jobs`
//! at a time, a line per target as it finishes, then a table (text) or one report (JSON).
//!
//! Each target is run by a child process of this very binary, given the fleet's command line
//! without the fleet flags, `--format json`, and the target in `DATABASE_URL` (see `child`);
//! its report is read back. A child rather than a thread calling the command's code: a target
//! runs exactly the single-target path (its lock, session, retries, signal handling, exit code
//! and report), and the process-wide state that path keeps (the signal handlers' clean-ups, the
//! report-printed flag, the column widths of the text output) stays one target's. It costs a
//! process start and a project load per target (see benches/fleet.rs).
//!
//! Stopping: a failed target (exit 2, unreachable included) stops new ones from starting
//! unless `--keep-going`; a failed canary always does. Ctrl-C, SIGTERM and SIGHUP start no new
//! target, are passed on to the running ones (which cancel and end as alone), and the report
//! is printed before the process exits with 128 + the signal's number.

mod child;
mod targets;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::output::duration_ms;
use super::{Output, json, print_json};
use crate::cli::{Command, FleetArgs};
use crate::config::Settings;
use crate::interrupt;
use crate::shown::escape;
use child::{Invocation, Outcome, Verdict};
use targets::Target;

/// `--jobs` when not given.
const DEFAULT_JOBS: usize = 4;

/// Refuses fleet flags given without `--targets`: they would silently do nothing.
pub(crate) fn refuse_stray_flags(fleet: &FleetArgs) -> Result<()> {
    let stray = [
        ("--jobs", fleet.jobs.is_some()),
        ("--keep-going", fleet.keep_going),
        ("--canary", fleet.canary.is_some()),
    ];
    if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
        bail!(
            "{flag} works with --targets FILE (a fleet of databases); without it, it does nothing"
        );
    }
    Ok(())
}

/// Runs `command` on every target of `file`. `database_url_flag`: `--database-url` was given.
pub(crate) fn run(
    file: &Path,
    fleet: &FleetArgs,
    command: &Command,
    settings: &Settings,
    output: Output,
    database_url_flag: bool,
) -> Result<u8> {
    let name = refuse_unfit(command, settings, database_url_flag)?;
    let targets = targets::read(file)?;
    if name != "snapshot" {
        // A project error once, rather than once per target.
        super::require_project(&settings.dir)?;
        super::load_project(settings)?;
    }
    let invocation = Invocation {
        exe: std::env::current_exe()
            .context("finding the pgstrata binary to run on each target")?,
        args: child::child_args(std::env::args_os().skip(1)),
        command: name,
    };
    let plan = Plan {
        jobs: fleet.jobs.unwrap_or(DEFAULT_JOBS),
        keep_going: fleet.keep_going,
        canary: fleet.canary.unwrap_or(0),
    };
    let state = Arc::new(State::default());
    let stopper = state.clone();
    let guard = interrupt::register_cleanup(move || stopper.interrupt());
    let started = Instant::now();
    let printer = Printer::new(output);
    let outcomes = run_all(&invocation, &targets, &plan, &state, &printer);
    let ms = started.elapsed().as_millis() as u64;
    let code = outcomes
        .iter()
        .map(|o| o.result.exit_code())
        .max()
        .unwrap_or(super::OK);
    report(name, &plan, &outcomes, ms, code, output);
    state.finish();
    drop(guard);
    Ok(code)
}

/// The command's name when it runs on fleets; else why not.
fn refuse_unfit(
    command: &Command,
    settings: &Settings,
    database_url_flag: bool,
) -> Result<&'static str> {
    let name = match command {
        Command::Up { .. } | Command::Down { .. } | Command::Status { .. } | Command::Drift => {
            super::command_name(command)
        }
        Command::Snapshot { write: false, .. } => "snapshot",
        Command::Snapshot { write: true, .. } => bail!(
            "snapshot --write writes the committed snapshot from one database; with --targets, \
             snapshot prints each target's schema fingerprint instead (drop --write, or run \
             snapshot --write on one database)"
        ),
        other => bail!(
            "--targets works with up, down, status, drift and snapshot, not {}",
            super::command_name(other)
        ),
    };
    if database_url_flag {
        bail!(
            "--targets names the databases to work on and --database-url names one: give one \
             or the other"
        );
    }
    if settings.profile_names_database {
        bail!(
            "the environment chosen with --env (or PGSTRATA_ENV) names a database \
             (database_url in its [env.NAME] table) and --targets names others: use a profile \
             without database_url for the fleet, or drop --targets"
        );
    }
    if settings.scratch {
        bail!("--targets names the databases to work on; --scratch would start another");
    }
    Ok(name)
}

/// How the targets are run.
struct Plan {
    jobs: usize,
    keep_going: bool,
    canary: usize,
}

/// What the workers and the signal clean-up share.
#[derive(Default)]
struct State {
    /// No new target starts.
    stop: AtomicBool,
    /// The children running now; a stopping signal is passed on to each. Held while a child is
    /// started, so that a signal either finds it or stops it from starting.
    live: Mutex<Vec<u32>>,
    /// Set once the report is printed: the signal clean-up waits for it before the process
    /// exits.
    done: (Mutex<bool>, Condvar),
}

impl State {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A stopping signal arrived: start nothing more, pass it on to the running targets (they
    /// cancel their statement and end as they would alone), then wait for the report.
    fn interrupt(&self) {
        {
            let live = lock(&self.live);
            self.stop.store(true, Ordering::SeqCst);
            let signal = interrupt::signal().unwrap_or(libc::SIGTERM);
            for pid in live.iter() {
                // SAFETY: kill(2) on a child of ours that has not been waited for yet.
                unsafe {
                    libc::kill(*pid as libc::pid_t, signal);
                }
            }
        }
        // Bounded: a target's run cancels its statement at once, but the exit must come.
        let (done, finished) = &self.done;
        let guard = lock(done);
        let _ = finished.wait_timeout_while(guard, Duration::from_secs(60), |done| !*done);
    }

    fn finish(&self) {
        let (done, finished) = &self.done;
        *lock(done) = true;
        finished.notify_all();
    }

    /// Runs one target unless the fleet is stopping.
    fn run(&self, invocation: &Invocation, target: &Target) -> Outcome {
        let mut pid = None;
        let outcome = child::run(invocation, target, |command| {
            let mut live = lock(&self.live);
            if self.stopped() {
                return Err(std::io::Error::other("stopped"));
            }
            let child = command.spawn()?;
            live.push(child.id());
            pid = Some(child.id());
            Ok(child)
        });
        match pid {
            Some(pid) => {
                lock(&self.live).retain(|p| *p != pid);
                outcome
            }
            None if self.stopped() => Outcome::not_started(target),
            None => outcome,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the canaries one by one, then the rest `jobs` at a time; returns an outcome per target
/// in the file's order.
fn run_all(
    invocation: &Invocation,
    targets: &[Target],
    plan: &Plan,
    state: &State,
    printer: &Printer,
) -> Vec<Outcome> {
    let slots: Vec<Mutex<Option<Outcome>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let canaries = plan.canary.min(targets.len());
    for (target, slot) in targets.iter().zip(&slots).take(canaries) {
        if state.stopped() {
            break;
        }
        let outcome = state.run(invocation, target);
        if outcome.result == Verdict::Failed {
            state.stop.store(true, Ordering::SeqCst);
        }
        printer.line(&outcome);
        *lock(slot) = Some(outcome);
    }
    let next = AtomicUsize::new(canaries);
    let workers = plan.jobs.min(targets.len() - canaries);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !state.stopped() {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(index) else {
                        break;
                    };
                    let outcome = state.run(invocation, target);
                    if outcome.result == Verdict::Failed && !plan.keep_going {
                        state.stop.store(true, Ordering::SeqCst);
                    }
                    if outcome.result != Verdict::NotStarted {
                        printer.line(&outcome);
                    }
                    *lock(&slots[index]) = Some(outcome);
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(targets)
        .map(|(slot, target)| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Outcome::not_started(target))
        })
        .collect()
}

/// The line printed as each target finishes (result, versions, time, name: summary; the name,
/// of any length, last but the summary): on stdout in text, on stderr beside a JSON report
/// (which stdout carries alone).
struct Printer {
    text: bool,
    quiet: bool,
    /// One line at a time from the workers.
    out: Mutex<()>,
}

impl Printer {
    fn new(output: Output) -> Printer {
        Printer {
            text: !json(output.format),
            quiet: output.quiet,
            out: Mutex::new(()),
        }
    }

    fn line(&self, outcome: &Outcome) {
        let line = format!(
            "{:<11} {:<17} {:>9}  {}: {}",
            outcome.result.word(),
            versions(outcome),
            duration_ms(outcome.ms),
            escape(&outcome.name),
            escape(&outcome.summary),
        );
        let _one_at_a_time = lock(&self.out);
        if self.text {
            outln!("{line}");
        } else {
            eprintln!("{line}");
        }
        if !self.quiet {
            for warning in &outcome.warnings {
                eprintln!("{}: {}", escape(&outcome.name), escape(warning));
            }
        }
    }
}

/// `V3 → V5`, `V5` when unchanged, `- → V2` from nothing, `-` when unknown.
fn versions(outcome: &Outcome) -> String {
    let shown = |v: Option<i64>| v.map_or("-".to_string(), |v| format!("V{v}"));
    match (outcome.before, outcome.after) {
        (None, None) => "-".to_string(),
        (before, after) if before == after => shown(after),
        (before, after) => format!("{} → {}", shown(before), shown(after)),
    }
}

/// The table (text) or the fleet's JSON report.
fn report(name: &str, plan: &Plan, outcomes: &[Outcome], ms: u64, code: u8, output: Output) {
    let count = |verdict: Verdict| outcomes.iter().filter(|o| o.result == verdict).count();
    let verdicts = [
        Verdict::Ok,
        Verdict::Found,
        Verdict::Failed,
        Verdict::Interrupted,
        Verdict::NotStarted,
    ];
    let schemas = schema_groups(outcomes);
    if json(output.format) {
        let counts: serde_json::Map<String, serde_json::Value> = verdicts
            .iter()
            .map(|v| {
                let key = serde_json::to_value(v).expect("enum serialises");
                (
                    key.as_str().unwrap_or_default().to_string(),
                    count(*v).into(),
                )
            })
            .collect();
        let mut value = json!({
            "command": name,
            "fleet": true,
            "ok": code < super::ERROR,
            "exit_code": code,
            "jobs": plan.jobs,
            "canary": plan.canary,
            "keep_going": plan.keep_going,
            "ms": ms,
            "counts": counts,
            "targets": outcomes,
        });
        if name == "snapshot" {
            value["schemas"] = json!(
                schemas
                    .iter()
                    .map(|(sha, names)| json!({"sha256": sha, "targets": names}))
                    .collect::<Vec<_>>()
            );
        }
        print_json(&value);
        return;
    }
    outln!();
    outln!("{:<11} {:<17} {:>9}  target", "result", "version", "time");
    for o in outcomes {
        outln!(
            "{:<11} {:<17} {:>9}  {}",
            o.result.word(),
            versions(o),
            if o.result == Verdict::NotStarted {
                "-".to_string()
            } else {
                duration_ms(o.ms)
            },
            escape(&o.name),
        );
    }
    for o in outcomes.iter().filter(|o| o.result == Verdict::Failed) {
        let error = o.error.as_deref().unwrap_or(&o.summary);
        outln!("{}: error: {}", escape(&o.name), escape_lines(error));
    }
    if name == "snapshot" {
        for (sha, names) in &schemas {
            let shown: Vec<String> = names.iter().take(3).map(|n| escape(n).into()).collect();
            let more = names.len().saturating_sub(shown.len());
            outln!(
                "schema {}: {} ({}{})",
                &sha[..12],
                super::output::count(names.len(), "target"),
                shown.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    let tally: Vec<String> = verdicts
        .iter()
        .filter(|v| count(**v) > 0)
        .map(|v| format!("{} {}", count(*v), v.word()))
        .collect();
    outln!(
        "{} in {} ({} at a time{}): {}",
        super::output::count(outcomes.len(), "target"),
        duration_ms(ms),
        plan.jobs,
        match plan.canary {
            0 => String::new(),
            n => format!(", {n} first alone"),
        },
        tally.join(", ")
    );
}

fn escape_lines(text: &str) -> String {
    crate::shown::escape_lines(text).to_string()
}

/// `snapshot`: the targets grouped by the sha256 of their schema, largest group first.
fn schema_groups(outcomes: &[Outcome]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for o in outcomes {
        let Some(sha) = &o.sha256 else { continue };
        match groups.iter_mut().find(|(s, _)| s == sha) {
            Some((_, names)) => names.push(o.name.clone()),
            None => groups.push((sha.clone(), vec![o.name.clone()])),
        }
    }
    groups.sort_by_key(|(_, names)| std::cmp::Reverse(names.len()));
    groups
}

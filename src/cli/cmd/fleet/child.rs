//! One target of a fleet: this very binary started on it, with the fleet's command line minus
//! the fleet's flags, `--format json`, and the target's connection string in `DATABASE_URL`;
//! its exit code and JSON report read back into an [`Outcome`].
//!
//! The connection string travels in the child's environment, never on its command line,
//! where any user of the machine could read it (`ps`). Nothing here prints.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use super::targets::Target;
use crate::shown::escape;

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Exit 0.
    Ok,
    /// Exit 1: ran fine, found something (drift, `status --exit-code` not clean).
    Found,
    /// Exit 2, unreachable, or no report.
    Failed,
    /// Stopped by Ctrl-C, SIGTERM or SIGHUP.
    Interrupted,
    /// Never started: an earlier target failed (or a canary did, or a signal came).
    NotStarted,
}

impl Verdict {
    /// This verdict's share of the fleet's exit code: the worst target's.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Ok | Verdict::NotStarted => super::super::OK,
            Verdict::Found => super::super::FOUND,
            Verdict::Failed | Verdict::Interrupted => super::super::ERROR,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Found => "found",
            Verdict::Failed => "failed",
            Verdict::Interrupted => "interrupted",
            Verdict::NotStarted => "not started",
        }
    }
}

/// What one target's run came to.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: String,
    pub result: Verdict,
    /// The child's exit code (`None`: not started, or killed by a signal it did not handle).
    pub exit_code: Option<i32>,
    pub ms: u64,
    /// The newest applied version before and after (`status` and `drift`: the one it is at).
    pub before: Option<i64>,
    pub after: Option<i64>,
    /// One line: what was done or found, or the first line of the error.
    pub summary: String,
    /// The whole error message, when it failed.
    pub error: Option<String>,
    /// The error's kind, as single-target JSON reports give it (`connection`, `database`, ...).
    pub kind: Option<String>,
    /// `snapshot`: the sha256 of the schema text, to tell identical schemas apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The target's own JSON report (`snapshot`: without the schema text).
    pub report: Option<Value>,
    /// The server's WARNING lines the target printed, kept for the text output.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Outcome {
    pub fn not_started(target: &Target) -> Outcome {
        Outcome {
            name: target.name.clone(),
            result: Verdict::NotStarted,
            exit_code: None,
            ms: 0,
            before: None,
            after: None,
            summary: "not started".to_string(),
            error: None,
            kind: None,
            sha256: None,
            report: None,
            warnings: Vec::new(),
        }
    }
}

/// The program and the arguments every target's run gets.
pub struct Invocation {
    pub exe: PathBuf,
    /// `--no-dotenv --format json` then the fleet's own arguments without the fleet flags.
    pub args: Vec<OsString>,
    /// The command's name (`up`, `status`, ...), to read its report.
    pub command: &'static str,
}

/// Options whose value is this process's alone (the fleet's) or that each target gets in its
/// own form.
const DROPPED_WITH_VALUE: [&str; 4] = ["--targets", "--jobs", "--canary", "--format"];

/// The fleet's command line (without the program) as each target runs it: the fleet flags and
/// `--format` removed, `--no-dotenv` (this process read `.env` already and the children inherit
/// its variables) and `--format json` added. `--history-schema` is removed from the runs of
/// targets that have their own (see [`run`]).
pub fn child_args(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = ["--no-dotenv", "--format", "json"]
        .map(OsString::from)
        .to_vec();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let text = arg.to_string_lossy();
        if text == "--keep-going" {
            continue;
        }
        if DROPPED_WITH_VALUE.contains(&text.as_ref()) {
            skip_value = true;
            continue;
        }
        if DROPPED_WITH_VALUE
            .iter()
            .any(|flag| text.starts_with(&format!("{flag}=")))
        {
            continue;
        }
        out.push(arg);
    }
    out
}

/// Runs the command on one target and reads what it reports. `start` spawns the prepared
/// command (the caller registers the child, to pass a stopping signal on to it).
pub fn run(
    invocation: &Invocation,
    target: &Target,
    start: impl FnOnce(&mut Command) -> std::io::Result<std::process::Child>,
) -> Outcome {
    let began = Instant::now();
    let mut command = Command::new(&invocation.exe);
    let mut args = invocation.args.clone();
    if let Some(schema) = &target.history_schema {
        args = without_history_schema(args);
        args.push("--history-schema".into());
        args.push(schema.into());
    }
    command
        .args(&args)
        .env(crate::config::DATABASE_URL_ENV, &target.conninfo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut outcome = Outcome::not_started(target);
    let output = match start(&mut command).and_then(|child| child.wait_with_output()) {
        Ok(output) => output,
        Err(err) => {
            outcome.result = Verdict::Failed;
            outcome.summary = format!("could not run pgstrata for it: {err}");
            outcome.error = Some(outcome.summary.clone());
            return outcome;
        }
    };
    outcome.ms = began.elapsed().as_millis() as u64;
    outcome.exit_code = output.status.code();
    let stderr = String::from_utf8_lossy(&output.stderr);
    outcome.warnings = stderr
        .lines()
        .filter(|line| line.starts_with("WARNING:") || line.contains(": WARNING:"))
        .map(str::to_string)
        .collect();
    outcome.result = match outcome.exit_code {
        Some(0) => Verdict::Ok,
        Some(1) => Verdict::Found,
        Some(129 | 130 | 143) => Verdict::Interrupted,
        _ => Verdict::Failed,
    };
    let report: Option<Value> = serde_json::from_slice(&output.stdout).ok();
    match report {
        Some(report) => read_report(invocation.command, report, &mut outcome),
        None => {
            // No report: it crashed, or a signal ended it before it printed one.
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            outcome.summary = match (last, outcome.exit_code) {
                (Some(line), _) => line.strip_prefix("error: ").unwrap_or(line).to_string(),
                (None, Some(code)) => format!("exited with code {code} and no report"),
                (None, None) => "killed by a signal".to_string(),
            };
            if outcome.result != Verdict::Interrupted {
                outcome.result = Verdict::Failed;
                outcome.error = Some(stderr.trim().to_string());
            }
        }
    }
    outcome
}

fn without_history_schema(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let text = arg.to_string_lossy();
        if text == "--history-schema" {
            skip_value = true;
        } else if !text.starts_with("--history-schema=") {
            out.push(arg);
        }
    }
    out
}

/// Fills the outcome from the target's JSON report: versions, the one-line summary, the error.
fn read_report(command: &str, mut report: Value, outcome: &mut Outcome) {
    if let Some(error) = report.get("error").and_then(Value::as_str) {
        outcome.error = Some(error.to_string());
        outcome.kind = report.get("kind").and_then(Value::as_str).map(String::from);
        outcome.summary = error.lines().next().unwrap_or_default().to_string();
    }
    let int = |key: &str| report.get(key).and_then(Value::as_i64);
    match command {
        "up" | "down" => {
            outcome.before = int("before");
            outcome.after = int("after");
            if outcome.error.is_none() {
                outcome.summary = run_summary(&report);
            }
        }
        "status" => {
            let versions = report.get("versions").and_then(Value::as_array);
            let states: Vec<(i64, &str)> = versions
                .into_iter()
                .flatten()
                .filter_map(|v| Some((v.get("version")?.as_i64()?, v.get("state")?.as_str()?)))
                .collect();
            let at = states
                .iter()
                .filter(|(_, state)| *state != "pending")
                .map(|(version, _)| *version)
                .max();
            (outcome.before, outcome.after) = (at, at);
            if outcome.error.is_none() {
                outcome.summary = status_summary(&report, &states);
            }
        }
        "drift" => {
            (outcome.before, outcome.after) = (int("version"), int("version"));
            if outcome.error.is_none() {
                let changes = report
                    .get("changes")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let file = report
                    .get("snapshot")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let verb = if changes == 1 { "differs" } else { "differ" };
                outcome.summary = if report.get("drift") == Some(&Value::Bool(true)) {
                    format!("drift: {} {verb} from {file}", objects(changes))
                } else {
                    format!("no drift from {file}")
                };
            }
        }
        "snapshot" => {
            if let Some(text) = report.as_object_mut().and_then(|r| r.remove("snapshot")) {
                let text = text.as_str().unwrap_or_default();
                let sha = crate::checksum::sha256_hex(text);
                outcome.summary = format!("schema sha256 {} ({} bytes)", &sha[..12], text.len());
                outcome.sha256 = Some(sha);
            }
        }
        _ => {}
    }
    outcome.report = Some(report);
}

fn objects(n: usize) -> String {
    super::super::output::count(n, "object")
}

/// `applied 2 migrations, changed 1 view`, `nothing to do`.
fn run_summary(report: &Value) -> String {
    let steps = report.get("steps").and_then(Value::as_array);
    let count_direction = |direction: &str| {
        steps
            .into_iter()
            .flatten()
            .filter(|s| s.get("direction").and_then(Value::as_str) == Some(direction))
            .count()
    };
    let (ups, downs) = (count_direction("up"), count_direction("down"));
    let views = report
        .get("views")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let count = super::super::output::count;
    let dry_run = report.get("dry_run") == Some(&Value::Bool(true));
    let [roll, apply, change] = if dry_run {
        ["would roll back", "would apply", "would change"]
    } else {
        ["rolled back", "applied", "changed"]
    };
    let mut parts = Vec::new();
    if downs > 0 {
        parts.push(format!("{roll} {}", count(downs, "migration")));
    }
    if ups > 0 {
        parts.push(format!("{apply} {}", count(ups, "migration")));
    }
    if views > 0 {
        parts.push(format!("{change} {}", count(views, "view")));
    }
    if parts.is_empty() {
        "nothing to do".to_string()
    } else {
        parts.join(", ")
    }
}

/// `clean`, or what is not: `2 pending, 1 modified, 1 invalid index`.
fn status_summary(report: &Value, states: &[(i64, &str)]) -> String {
    if report.get("clean") == Some(&Value::Bool(true)) {
        return "clean".to_string();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, state) in states.iter().filter(|(_, s)| *s != "applied") {
        match counts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    let mut parts: Vec<String> = counts
        .iter()
        .map(|(state, n)| format!("{n} {}", state.replace('_', " ")))
        .collect();
    let invalid = report
        .get("invalid_indexes")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if invalid > 0 {
        parts.push(super::super::output::count(invalid, "invalid index"));
    }
    if parts.is_empty() {
        parts.push("views to rebuild".to_string());
    }
    format!("not clean: {}", escape(&parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        child_args(list.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn fleet_flags_and_format_are_not_passed_on() {
        assert_eq!(
            args(&[
                "--targets",
                "fleet.txt",
                "--jobs=8",
                "up",
                "--keep-going",
                "--canary",
                "2",
                "--format=text",
                "--to",
                "5",
                "-q"
            ]),
            ["--no-dotenv", "--format", "json", "up", "--to", "5", "-q"]
        );
        let with = args(&["--history-schema", "h", "status", "--history-schema=i"]);
        let without = without_history_schema(with.iter().map(OsString::from).collect());
        assert_eq!(without, ["--no-dotenv", "--format", "json", "status"]);
    }
}

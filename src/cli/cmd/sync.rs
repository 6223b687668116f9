//! `sync verify`: prove a spec's triggers convergent on a scratch server (or in a temporary
//! database on a server named for it, as `check` does) and print what ran and what diverged.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde_json::json;

use super::check::CheckDatabase;
use super::output::{count, duration_ms};
use super::{FOUND, OK, Output, json, print_json};
use crate::cli::args::SyncCommand;
use crate::config::Settings;
use crate::sync::verify::{self, Report, SpecFile, VerifyOptions};

pub fn run(settings: &Settings, output: Output, command: SyncCommand) -> Result<u8> {
    match command {
        SyncCommand::Verify {
            spec,
            clients,
            seconds,
        } => verify(settings, output, &spec, clients, seconds),
    }
}

/// A spec named by its path, or by NAME for `sync/NAME.toml` in the project.
fn spec_path(settings: &Settings, spec: &Path) -> Result<PathBuf> {
    if spec.is_file() {
        return Ok(spec.to_path_buf());
    }
    let named = settings.dir.join("sync").join(spec).with_extension("toml");
    if named.is_file() {
        return Ok(named);
    }
    bail!(
        "no sync spec {} (nor {}): give a spec's path or the NAME of sync/NAME.toml",
        spec.display(),
        named.display()
    )
}

fn verify(
    settings: &Settings,
    output: Output,
    spec: &Path,
    clients: u32,
    seconds: f64,
) -> Result<u8> {
    if !(0.0..=86_400.0).contains(&seconds) {
        bail!("--seconds {seconds} is not a duration from 0 to 86400");
    }
    let path = spec_path(settings, spec)?;
    let spec_file = SpecFile::read(&path)?;
    let project = super::load_project(settings)?;
    let mut place = CheckDatabase::open(settings, None)?;
    let text = !json(output.format);
    if text {
        outln!("verifying {} {}", path.display(), place.describe());
    }
    let options = VerifyOptions {
        history_schema: settings.history_schema.clone(),
        limits: settings.limits,
        clients,
        seconds,
    };
    let report = place
        .conninfo()
        .and_then(|server| verify::run(&server, &project, &spec_file, &options));
    place.close();
    let report = report?;
    if text {
        print_text(&report);
    } else {
        print_json(&json!({
            "command": "sync verify",
            "ok": report.ok(),
            "spec": path.display().to_string(),
            "target": report.target,
            "rows": report.rows,
            "interleavings": report.interleavings,
            "clients": report.clients,
            "seconds": report.seconds,
            "transactions": report.traffic.transactions,
            "retries": report.retries(),
            "refused": report.traffic.refused,
            "failed": report.traffic.failed,
            "failures": report.traffic.failures,
            "divergent_after_interleavings": report.divergent_after_interleavings,
            "divergent": report.divergent,
            "divergent_rows": report.divergent_rows,
            "ms": report.ms,
        }));
    }
    Ok(if report.ok() { OK } else { FOUND })
}

fn print_text(report: &Report) {
    outln!(
        "{} ({} generated)",
        report.target,
        count(report.rows as usize, "row")
    );
    for i in &report.interleavings {
        let verdict = match (i.divergent, i.failed) {
            (0, false) => "ok".to_string(),
            (0, true) => "FAILED".to_string(),
            (n, _) => format!("DIVERGED: {}", copies(n)),
        };
        outln!(
            "interleaving {}: {}; A {}, B {} -> {verdict}",
            i.name,
            if i.blocked {
                "B waited for A"
            } else {
                "B ran through"
            },
            i.first,
            i.second
        );
    }
    let t = &report.traffic;
    if report.seconds > 0.0 && report.clients > 0 {
        outln!(
            "random writers: {} for {} s: {} ({} committed, {} refused, {} failed)",
            count(report.clients as usize, "client"),
            report.seconds,
            count(t.transactions as usize, "transaction"),
            t.committed,
            t.refused,
            t.failed
        );
        for failure in &t.failures {
            outln!("  failed: {failure}");
        }
    }
    outln!(
        "{}, {} transactions, {} (deadlocks and serialization failures, retried)",
        count(report.interleavings.len(), "interleaving"),
        t.transactions + 2 * report.interleavings.len() as u64,
        if report.retries() == 1 {
            "1 retry".to_string()
        } else {
            format!("{} retries", report.retries())
        }
    );
    let verdict = if report.ok() { "passed" } else { "FAILED" };
    outln!(
        "sync verify {verdict}: {} after the interleavings, {} at the end ({})",
        copies(report.divergent_after_interleavings),
        copies(report.divergent),
        duration_ms(report.ms)
    );
    if !report.divergent_rows.is_empty() {
        outln!(
            "  divergent rows (first few): {}",
            report.divergent_rows.join(", ")
        );
    }
}

fn copies(n: i64) -> String {
    if n == 1 {
        "1 divergent copy".to_string()
    } else {
        format!("{n} divergent copies")
    }
}

//! `check`: prove the project on a scratch server and print findings with their diffs.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::output::{count, duration_ms, paint_diff, summary_line};
use super::{FOUND, OK, json, print_json};
use crate::check::{self, CheckEvent, CheckOptions, Checked, Finding};
use crate::cli::Format;
use crate::config::Settings;
use crate::project;
use crate::scratch::ScratchServer;
use crate::snapshot::SnapshotOptions;

pub fn run(settings: &Settings, format: Format, from: Option<i64>, write: bool) -> Result<u8> {
    let project = project::load(&settings.dir)?;
    if let Some(from) = from.filter(|v| project.migration(*v).is_none()) {
        bail!(crate::error::Refusal::UnknownVersion(from));
    }
    if settings.database_url.is_some() && !settings.scratch {
        bail!(
            "check runs on a scratch server; a database URL is not used by check yet (unset \
             DATABASE_URL or drop --database-url)"
        );
    }
    let started = Instant::now();
    let server = ScratchServer::start().context("starting a scratch server for check")?;
    let mut client = server.connect("postgres")?;
    let text = !json(format);
    if text {
        println!(
            "checking {} on a scratch server ({})",
            count(project.migrations.len(), "migration"),
            server.version()
        );
    }
    let options = CheckOptions {
        history_schema: settings.history_schema.clone(),
        from,
        write_snapshots: write,
        snapshot: SnapshotOptions {
            exclude_schemas: vec![settings.history_schema.clone()],
            include_schemas: settings.schemas.clone(),
        },
    };
    let mut on_event = |event: CheckEvent| {
        if text {
            print_event(&event);
        }
    };
    let report = check::run(&mut client, &project, &options, &mut on_event)?;
    let ms = started.elapsed().as_millis() as u64;
    if text {
        for orphan in &report.orphan_snapshots {
            eprintln!("note: {orphan} belongs to no migration; delete it");
        }
        if report.findings.is_empty() {
            let what = if write {
                format!("{} written", count(report.written.len(), "snapshot"))
            } else {
                "every snapshot current".to_string()
            };
            println!(
                "check passed: {} checked, {what}, every rollback exact ({})",
                count(report.checked.len(), "migration"),
                duration_ms(ms)
            );
        } else {
            println!(
                "check found {} ({})",
                count(report.findings.len(), "problem"),
                duration_ms(ms)
            );
        }
    } else {
        print_json(&json!({
            "command": "check",
            "ok": report.findings.is_empty(),
            "ms": ms,
            "checked": report.checked,
            "applied_unchecked": report.applied_unchecked,
            "findings": report.findings,
            "written": report.written,
            "orphan_snapshots": report.orphan_snapshots,
        }));
    }
    Ok(if report.findings.is_empty() {
        OK
    } else {
        FOUND
    })
}

fn print_event(event: &CheckEvent) {
    match event {
        CheckEvent::Checked(Checked {
            version,
            name,
            snapshot,
            rollback,
            ms,
        }) => println!(
            "V{version:<5} {name:<40} snapshot {snapshot:<9} rollback {rollback:<12} {}",
            duration_ms(*ms)
        ),
        CheckEvent::Finding(finding) => print_finding(finding),
        CheckEvent::RoundTrip => println!("rolling everything back and applying it again"),
    }
}

fn print_finding(finding: &Finding) {
    println!("finding: {}", finding.message);
    for change in &finding.changes {
        println!("  {}", summary_line(change));
    }
    if !finding.diff.is_empty() {
        print!("{}", paint_diff(&finding.diff));
    }
}

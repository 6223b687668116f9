//! `check`: prove the project on a scratch server and print findings with their diffs.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use postgres::Client;
use serde_json::json;

use super::output::{count, duration_ms, paint_diff, summary_line};
use super::{FOUND, OK, json, open_target, print_json};
use crate::check::{self, CheckEvent, CheckOptions, Checked, Finding};
use crate::cli::Format;
use crate::config::Settings;
use crate::conninfo::ConnInfo;
use crate::db::quote_ident;
use crate::interrupt::{self, CleanupGuard};
use crate::scratch::ScratchServer;
use crate::snapshot::SnapshotOptions;

pub fn run(settings: &Settings, format: Format, from: Option<i64>, write: bool) -> Result<u8> {
    crate::snapshot::refuse_blind_spots(&settings.snapshot_options())?;
    let project = super::load_project(settings)?;
    if let Some(from) = from.filter(|v| project.migration(*v).is_none()) {
        bail!(crate::error::Refusal::UnknownVersion(from));
    }
    let started = Instant::now();
    let mut place = CheckDatabase::open(settings)?;
    let mut client = place.connect()?;
    let text = !json(format);
    if text {
        let total = project.migrations.len();
        let what = match from {
            Some(from) => {
                let checked = project
                    .migrations
                    .iter()
                    .filter(|m| m.version >= from)
                    .count();
                format!(
                    "{checked} of {} (V{from} on; the earlier ones are applied unchecked)",
                    count(total, "migration")
                )
            }
            None => count(total, "migration"),
        };
        outln!("checking {what} {}", place.describe());
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
    let report = check::run(&mut client, &project, &options, &mut on_event);
    drop(client);
    place.close();
    let report = report?;
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
            outln!(
                "check passed: {} checked, {what}, every rollback exact ({})",
                count(report.checked.len(), "migration"),
                duration_ms(ms)
            );
        } else {
            outln!(
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

/// Where a check runs: a scratch server (the default), or a temporary database created on
/// the server the user named, so that the named database itself is never touched.
enum CheckDatabase {
    Scratch(ScratchServer),
    Temporary {
        server: ConnInfo,
        name: String,
        dropped: bool,
        /// Drops the database on Ctrl-C.
        _on_interrupt: CleanupGuard,
    },
}

impl CheckDatabase {
    fn open(settings: &Settings) -> Result<CheckDatabase> {
        if settings.scratch
            || (settings.database_url.is_none() && !crate::conninfo::env_names_database())
        {
            let server = ScratchServer::start().context("starting a scratch server for check")?;
            return Ok(CheckDatabase::Scratch(server));
        }
        let server = open_target(settings)?;
        let name = format!(
            "pgstrata_check_{}_{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        server
            .connect()?
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&name)
            ))
            .with_context(|| {
                format!(
                    "creating the temporary database {name} for check on {} (the role needs \
                     CREATEDB; or drop the database URL to check on a scratch server)",
                    server.describe()
                )
            })?;
        let on_interrupt = {
            let (server, name) = (server.clone(), name.clone());
            interrupt::register_cleanup(move || {
                let _ = drop_database(&server, &name);
            })
        };
        Ok(CheckDatabase::Temporary {
            server,
            name,
            dropped: false,
            _on_interrupt: on_interrupt,
        })
    }

    fn connect(&self) -> Result<Client> {
        match self {
            CheckDatabase::Scratch(server) => server.connect("postgres"),
            CheckDatabase::Temporary { server, name, .. } => server.with_dbname(name).connect(),
        }
    }

    fn describe(&self) -> String {
        match self {
            CheckDatabase::Scratch(server) => format!("on a scratch server ({})", server.version()),
            CheckDatabase::Temporary { server, name, .. } => {
                format!("in the temporary database {name} on {}", server.describe())
            }
        }
    }

    /// Drops the temporary database; a failure is reported, not fatal.
    fn close(&mut self) {
        if let CheckDatabase::Temporary {
            server,
            name,
            dropped,
            ..
        } = self
        {
            match drop_database(server, name) {
                Ok(()) => *dropped = true,
                Err(err) => {
                    eprintln!("note: could not drop the temporary database {name}: {err:#}")
                }
            }
        }
    }
}

impl Drop for CheckDatabase {
    fn drop(&mut self) {
        if matches!(self, CheckDatabase::Temporary { dropped: false, .. }) {
            self.close();
        }
    }
}

fn print_event(event: &CheckEvent) {
    match event {
        CheckEvent::Checked(Checked {
            version,
            name,
            snapshot,
            rollback,
            ms,
        }) => outln!(
            "V{version:<5} {name:<40} snapshot {snapshot:<9} rollback {rollback:<12} {}",
            duration_ms(*ms)
        ),
        CheckEvent::Finding(finding) => print_finding(finding),
        CheckEvent::RoundTrip => outln!("rolling everything back and applying it again"),
    }
}

fn print_finding(finding: &Finding) {
    outln!("finding: {}", finding.message);
    for change in &finding.changes {
        outln!("  {}", summary_line(change));
    }
    if !finding.diff.is_empty() {
        out!("{}", paint_diff(&finding.diff));
    }
}

/// Drops `check`'s temporary database, whoever is still connected to it.
fn drop_database(server: &ConnInfo, name: &str) -> Result<()> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    server.connect()?.batch_execute(&sql)?;
    Ok(())
}

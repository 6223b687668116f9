//! `check`: prove the project on a scratch server (or in a temporary database on a server
//! named for it) and print findings with their diffs.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use postgres::Client;
use serde_json::json;

use super::output::{count, duration_ms, paint_diff, summary_line};
use super::{FOUND, OK, Output, json, print_json};
use crate::check::database;
use crate::check::{self, CheckEvent, CheckOptions, Checked, Finding};
use crate::config::Settings;
use crate::conninfo::ConnInfo;
use crate::interrupt::{self, CleanupGuard};
use crate::notices::Notices;
use crate::scratch::ScratchServer;
use crate::snapshot::SnapshotOptions;

pub fn run(settings: &Settings, output: Output, from: Option<i64>, write: bool) -> Result<u8> {
    let format = output.format;
    crate::snapshot::refuse_blind_spots(&settings.snapshot_options())?;
    let project = super::load_project(settings)?;
    if let Some(from) = from.filter(|v| project.migration(*v).is_none()) {
        bail!(crate::error::Refusal::UnknownVersion(from));
    }
    let started = Instant::now();
    let cluster_wide = cluster_wide(&project);
    let mut place = CheckDatabase::open(settings, cluster_wide.as_deref())?;
    let notices = Notices::new();
    let mut client = place.connect(&notices)?;
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
        limits: settings.limits,
        notices,
    };
    let mut on_event = |event: CheckEvent| match event {
        // Each distinct WARNING once, in either format, as `up` shows it. NOTICEs are
        // counted instead: check runs every file two to four times, and a project's routine
        // "already exists, skipping" would bury the findings.
        CheckEvent::Notice(notice) if notice.is_warning() => eprintln!("{}", notice.display()),
        CheckEvent::Notice(_) => {}
        _ if text => print_event(&event),
        _ => {}
    };
    let report = check::run(&mut client, &project, &options, &mut on_event);
    drop(client);
    place.close();
    let mut report = report?;
    let syncs = super::sync::verify_for_check(settings, &project, &report.checked, text)?;
    report
        .findings
        .extend(syncs.iter().filter_map(|s| s.finding.clone()));
    let ms = started.elapsed().as_millis() as u64;
    let unshown = report.notices.iter().filter(|n| !n.is_warning()).count();
    if text && unshown > 0 && !output.quiet {
        eprintln!(
            "note: the server sent {} below WARNING (NOTICE, INFO, …) while checking; `pgstrata \
             up` shows them, `--format json` lists them, --quiet hides this note",
            count(unshown, "distinct message")
        );
    }
    if text {
        for orphan in &report.orphan_snapshots {
            eprintln!("note: {orphan} belongs to no migration; delete it");
        }
        if !report.full_snapshots.is_empty() {
            eprintln!(
                "note: {} still hold a whole schema each (the format before deltas); `pgstrata \
                 check --write-snapshots` rewrites them as deltas, each holding only what its \
                 migration changed, plus {} with the whole schema",
                count(report.full_snapshots.len(), "snapshot file"),
                check::SCHEMA_FILE
            );
        }
        if report.findings.is_empty() {
            let what = if write {
                format!("{} written", count(report.written.len(), "snapshot"))
            } else {
                "every snapshot current".to_string()
            };
            let rollbacks = match report.accepted.len() {
                0 => "every rollback exact".to_string(),
                n => format!(
                    "every rollback exact but {} its rollback accepts",
                    count(n, "difference")
                ),
            };
            outln!(
                "check passed: {} checked, {what}, {rollbacks} ({})",
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
            "accepted": report.accepted,
            "not_checked": report.not_checked,
            "written": report.written,
            "orphan_snapshots": report.orphan_snapshots,
            "full_snapshots": report.full_snapshots,
            "sync_verified": syncs,
            "notices": report.notices,
            "timings": report.timings,
        }));
    }
    Ok(if report.findings.is_empty() {
        OK
    } else {
        FOUND
    })
}

/// Why a check must not run on a named server: a migration or rollback that creates or changes
/// roles, databases, tablespaces or server settings leaves them on that server after the
/// temporary database is dropped (and the next check then collides with them). A scratch
/// server takes them with it.
fn cluster_wide(project: &crate::migrate::project::Project) -> Option<String> {
    project
        .migrations
        .iter()
        .flat_map(|m| [&m.up, &m.down])
        .find_map(|file| {
            file.statements.iter().find_map(|statement| {
                let kind = statement.class.cluster_wide?;
                let (line, _) = crate::sql::text::line_col(&file.sql, statement.start);
                Some(format!(
                    "{}:{line} changes {kind}, which belong to the whole server and would \
                     outlive check's temporary database there",
                    file.path
                ))
            })
        })
}

/// Where a check runs: a scratch server (the default), or a temporary database created on
/// the server named for `check` (`Settings::check_database_url`), so that the named database
/// itself is never touched.
pub(super) enum CheckDatabase {
    Scratch(ScratchServer),
    Temporary {
        server: ConnInfo,
        name: String,
        dropped: bool,
        /// Drops the database when a signal stops the run.
        _on_interrupt: CleanupGuard,
    },
}

impl CheckDatabase {
    /// Opens the place to check in. `scratch_because` overrides a named server with a
    /// scratch server, printing the reason: for a caller that finds the project unfit for a
    /// shared server (migrations that create roles, databases, tablespaces or `ALTER SYSTEM`
    /// settings would leave them behind there, since only the temporary database is dropped).
    pub(super) fn open(
        settings: &Settings,
        scratch_because: Option<&str>,
    ) -> Result<CheckDatabase> {
        let named = settings
            .check_database_url
            .as_deref()
            .filter(|_| !settings.scratch);
        match (named, scratch_because) {
            (Some(url), None) => CheckDatabase::temporary(url),
            (Some(url), Some(reason)) => {
                eprintln!(
                    "note: checking on a scratch server instead of {}: {reason}",
                    crate::conninfo::mask_password(url)
                );
                CheckDatabase::scratch()
            }
            (None, _) => CheckDatabase::scratch(),
        }
    }

    fn scratch() -> Result<CheckDatabase> {
        let server = ScratchServer::start().context("starting a scratch server for check")?;
        Ok(CheckDatabase::Scratch(server))
    }

    /// A temporary database on the named server, after dropping those that killed checks
    /// left there.
    fn temporary(url: &str) -> Result<CheckDatabase> {
        // PG* variables and the password file complete a server named for check, as libpq
        // would; they never name one.
        let server = ConnInfo::parse_with_env(url)?;
        for note in server.notes() {
            eprintln!("note: {note}");
        }
        let mut admin = server.connect()?;
        report_leftovers(&database::remove_leftovers(&mut admin)?);
        let name = database::create(&mut admin, &server)?;
        drop(admin);
        let on_interrupt = {
            let (server, name) = (server.clone(), name.clone());
            interrupt::register_cleanup(move || {
                let _ = database::drop_database(&server, &name);
            })
        };
        Ok(CheckDatabase::Temporary {
            server,
            name,
            dropped: false,
            _on_interrupt: on_interrupt,
        })
    }

    /// The connection check works on, its notices going to `notices`.
    pub(super) fn connect(&self, notices: &Notices) -> Result<Client> {
        match self {
            CheckDatabase::Scratch(server) => {
                ConnInfo::parse(&server.conninfo("postgres"))?.connect_with_notices(notices)
            }
            CheckDatabase::Temporary { server, name, .. } => {
                let mut client = server.with_dbname(name).connect_with_notices(notices)?;
                // Killed outright, check must not leave a migration running on a shared server
                // (and its database in use, so that the next check cannot drop it).
                crate::migrate::session::prepare(&mut client)?;
                Ok(client)
            }
        }
    }

    /// How to open more connections to it (verify's sessions).
    pub(super) fn conninfo(&self) -> Result<ConnInfo> {
        match self {
            CheckDatabase::Scratch(server) => ConnInfo::parse(&server.conninfo("postgres")),
            CheckDatabase::Temporary { server, name, .. } => Ok(server.with_dbname(name)),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            CheckDatabase::Scratch(server) => format!("on a scratch server ({})", server.version()),
            CheckDatabase::Temporary { server, name, .. } => {
                format!("in the temporary database {name} on {}", server.describe())
            }
        }
    }

    /// Drops the temporary database; a failure is reported, not fatal.
    pub(super) fn close(&mut self) {
        if let CheckDatabase::Temporary {
            server,
            name,
            dropped,
            ..
        } = self
        {
            match database::drop_database(server, name) {
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

/// Says which leftovers of killed checks were dropped, and which could not be judged.
fn report_leftovers(leftovers: &database::Leftovers) {
    if !leftovers.dropped.is_empty() {
        eprintln!(
            "note: dropped {} left by killed check runs: {}",
            count(leftovers.dropped.len(), "temporary database"),
            leftovers.dropped.join(", ")
        );
    }
    for (name, maker) in &leftovers.unknown {
        let made = match maker {
            Some(maker) => format!(
                "made by pid {} on host {} (another host, container or boot)",
                maker.pid, maker.host
            ),
            None => "made without a record of who made it".to_string(),
        };
        eprintln!(
            "note: kept {name}, {made}: whether that check still runs cannot be known from \
             here; drop it by hand once it does not"
        );
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
            "{} {name:<40} snapshot {snapshot:<9} rollback {rollback:<12} {}",
            super::output::version_cell(*version),
            duration_ms(*ms)
        ),
        CheckEvent::Finding(finding) => print_finding(finding),
        CheckEvent::RoundTrip => outln!("rolling everything back and applying it again"),
        CheckEvent::Accepted(accepted) => outln!(
            "accepted: rollback of V{} differs in {} ({}), as its rollback accepts: {}",
            accepted.version,
            accepted.class,
            accepted.objects.join(", "),
            crate::shown::escape(&accepted.reason)
        ),
        CheckEvent::Notice(_) => {}
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

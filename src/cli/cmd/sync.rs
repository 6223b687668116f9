//! `sync new SPEC`: resolve a sync spec on the schema the project's migrations produce (a
//! scratch server, or a temporary database on a server named for it, as `check` uses), then
//! write the generated migration and rollback with the project's next version.
//! `sync verify SPEC`: prove a spec's triggers convergent in such a place, and print what
//! ran and what diverged.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::check::CheckDatabase;
use super::output::{count, duration_ms};
use super::{FOUND, OK, Output, json, print_json};
use crate::cli::SyncCommand;
use crate::config::Settings;
use crate::notices::Notices;
use crate::sync::verify::{self, Report, VerifyOptions};
use crate::sync::{generate, resolve, spec};

pub fn run(settings: &Settings, output: Output, command: SyncCommand) -> Result<u8> {
    match command {
        SyncCommand::New { spec } => new(settings, output, &spec),
        SyncCommand::Verify {
            spec,
            clients,
            seconds,
        } => verify(settings, output, &spec, clients, seconds),
    }
}

fn new(settings: &Settings, output: Output, arg: &str) -> Result<u8> {
    let path = spec::spec_path(&settings.dir, arg);
    let spec = spec::load(&path)?;
    let project = super::load_project(settings)?;
    // A second generation would create the same functions and triggers again: a change of
    // spec needs a migration that undoes the first, which is the user's decision.
    let name = format!("sync_{}", spec.name);
    if let Some(existing) = project.migrations.iter().find(|m| m.name == name) {
        bail!(
            "migrations/V{}__{name}.sql already exists for sync spec {}; to change the triggers, \
             roll it back and delete that pair (if it was never deployed) or give the new spec \
             another name and drop the old triggers in a migration of your own",
            existing.version,
            spec.name
        );
    }
    let mut place = CheckDatabase::open(settings, None)?;
    let resolved = {
        let mut client = place.connect(&Notices::new())?;
        resolve::apply_project(
            &mut client,
            &project,
            &settings.history_schema,
            settings.limits,
        )
        .and_then(|()| resolve::resolve(&mut client, &spec))
        .with_context(|| {
            format!(
                "resolving sync spec {} {}",
                path.display(),
                place.describe()
            )
        })
    };
    place.close();
    let generated = generate::generate(&resolved?)?;
    let (version, note) = super::new::next_version(settings)?;
    let file_name = format!("V{version}__{}.sql", generated.name);
    let migration = settings.dir.join("migrations").join(&file_name);
    let rollback = settings.dir.join("rollbacks").join(&file_name);
    for path in [&migration, &rollback] {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let folder = path.parent().expect("a folder");
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    fs::write(&migration, &generated.migration)
        .with_context(|| format!("writing {}", migration.display()))?;
    fs::write(&rollback, &generated.rollback)
        .with_context(|| format!("writing {}", rollback.display()))?;
    if json(output.format) {
        print_json(&json!({
            "command": "sync new",
            "ok": true,
            "spec": spec.name,
            "version": version,
            "migration": format!("migrations/{file_name}"),
            "rollback": format!("rollbacks/{file_name}"),
            "no_transaction": generated.no_transaction,
            "note": note,
        }));
    } else {
        if let Some(note) = &note {
            eprintln!("note: {note}");
        }
        outln!("created migrations/{file_name}");
        outln!("created rollbacks/{file_name}");
        if generated.no_transaction {
            outln!("the migration backfills in committed batches, outside a transaction");
        }
        outln!(
            "next: pgstrata check --write-snapshots (its snapshot; check also proves the rollback exact)"
        );
    }
    Ok(OK)
}

fn verify(
    settings: &Settings,
    output: Output,
    arg: &str,
    clients: u32,
    seconds: f64,
) -> Result<u8> {
    if !(0.0..=86_400.0).contains(&seconds) {
        bail!("--seconds {seconds} is not a duration from 0 to 86400");
    }
    let path = spec::spec_path(&settings.dir, arg);
    let spec = spec::load(&path)?;
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
        .and_then(|server| verify::run(&server, &project, &spec, &options));
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
            "transactions": report.transactions(),
            "writer_transactions": report.traffic.transactions,
            "retries": report.retries(),
            "refused": report.traffic.refused,
            "failed": report.traffic.failed,
            "failures": report.traffic.failures,
            "divergent_after_interleavings": report.divergent_after_interleavings,
            "divergent": report.divergent,
            "divergent_rows": report.divergent_rows,
            "lost_writes": report.lost_writes,
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
        report.transactions(),
        if report.retries() == 1 {
            "1 retry".to_string()
        } else {
            format!("{} retries", report.retries())
        }
    );
    for lost in &report.lost_writes {
        outln!("lost write: {lost}");
    }
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

/// One sync migration `check` verified.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct CheckedSync {
    pub version: i64,
    pub spec: String,
    pub interleavings: usize,
    pub transactions: u64,
    pub retries: u64,
    pub divergent: i64,
    pub ok: bool,
    #[serde(skip)]
    pub finding: Option<crate::check::Finding>,
}

/// `check`'s part of `sync verify`: for every checked migration named `sync_NAME` whose spec
/// `sync/NAME.toml` is in the project, proves the spec's triggers with random writers for
/// `sync_verify_seconds` (0: none of this), each on a database of its own. A verify that
/// cannot run is a finding of its own (`sync_verify_failed`): the rest of check stands.
pub(super) fn verify_for_check(
    settings: &Settings,
    project: &crate::migrate::project::Project,
    checked: &[crate::check::Checked],
    text: bool,
) -> Result<Vec<CheckedSync>> {
    let seconds = settings.sync_verify_seconds;
    let mut verified = Vec::new();
    if seconds <= 0.0 {
        return Ok(verified);
    }
    for migration in checked {
        let Some(name) = migration.name.strip_prefix("sync_") else {
            continue;
        };
        let path = settings.dir.join("sync").join(format!("{name}.toml"));
        if !path.is_file() {
            continue;
        }
        let checked = match verify_one(settings, project, &path, seconds) {
            Ok(report) => diverged_or_not(migration.version, name, &path, &report, text),
            Err(err) => could_not_run(migration.version, name, &path, &err, text),
        };
        verified.push(checked);
    }
    Ok(verified)
}

/// `sync verify` of one spec for `check`, on a database of its own.
fn verify_one(
    settings: &Settings,
    project: &crate::migrate::project::Project,
    path: &std::path::Path,
    seconds: f64,
) -> Result<Report> {
    let spec = spec::load(path)?;
    let options = VerifyOptions {
        history_schema: settings.history_schema.clone(),
        limits: settings.limits,
        clients: 4,
        seconds,
    };
    let mut place = CheckDatabase::open(settings, None)?;
    let report = place
        .conninfo()
        .and_then(|server| verify::run(&server, project, &spec, &options));
    place.close();
    report
}

fn sync_finding(
    kind: crate::check::FindingKind,
    version: i64,
    message: String,
) -> crate::check::Finding {
    crate::check::Finding {
        kind,
        version: Some(version),
        message,
        changes: Vec::new(),
        diff: String::new(),
        classes: Vec::new(),
    }
}

/// What check reports of a verify that ran: converged, or a `sync_diverged` finding.
fn diverged_or_not(
    version: i64,
    name: &str,
    path: &std::path::Path,
    report: &Report,
    text: bool,
) -> CheckedSync {
    let ok = report.ok();
    let message = format!(
        "sync verify of V{version} ({}): {}, {} after the interleavings and {} after the random \
         writers, {} failed writes, {} lost; run `pgstrata sync verify {name}` for the details",
        path.display(),
        count(report.interleavings.len(), "interleaving"),
        copies(report.divergent_after_interleavings),
        copies(report.divergent),
        report.traffic.failed + report.interleavings.iter().filter(|i| i.failed).count() as u64,
        report.lost_writes.len(),
    );
    if text {
        outln!(
            "V{version:<5} sync verify {name}: {} ({} interleavings, {} transactions)",
            if ok { "converged" } else { "FAILED" },
            report.interleavings.len(),
            report.transactions()
        );
        if !ok {
            outln!("finding: {message}");
        }
    }
    CheckedSync {
        version,
        spec: name.to_string(),
        interleavings: report.interleavings.len(),
        transactions: report.transactions(),
        retries: report.retries(),
        divergent: report.divergent_after_interleavings.max(report.divergent),
        ok,
        finding: (!ok)
            .then(|| sync_finding(crate::check::FindingKind::SyncDiverged, version, message)),
    }
}

/// What check reports of a verify that could not run: a `sync_verify_failed` finding.
fn could_not_run(
    version: i64,
    name: &str,
    path: &std::path::Path,
    err: &anyhow::Error,
    text: bool,
) -> CheckedSync {
    let message = format!(
        "sync verify of V{version} ({}) could not run: {err:#}",
        path.display()
    );
    if text {
        outln!("V{version:<5} sync verify {name}: COULD NOT RUN");
        outln!("finding: {message}");
    }
    CheckedSync {
        version,
        spec: name.to_string(),
        interleavings: 0,
        transactions: 0,
        retries: 0,
        divergent: 0,
        ok: false,
        finding: Some(sync_finding(
            crate::check::FindingKind::SyncVerifyFailed,
            version,
            message,
        )),
    }
}

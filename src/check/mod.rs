//! `check`: proving a project on a database of its own.
//!
//! For each migration in order: apply it (and rebuild views), snapshot, compare with the
//! schema its delta in `schema-snapshots/` gives (missing or stale is a finding; see
//! `snapshots`); roll it back and compare with the schema before it (any difference: the
//! rollback is not exact); apply it again and compare with the first result. After the last,
//! compare `schema-snapshots/schema.sql` with the schema. Then roll everything back (the
//! schema must be the one before the first migration again, the history empty) and apply
//! everything again. `--from V` applies the migrations before V
//! unchecked. The caller provides a fresh, empty database; this module never prints.

pub mod database;
mod inexact;
pub mod rows;
mod snapshots;
mod timings;

pub use inexact::{Accepted, NotChecked};
pub use snapshots::{Committed, SCHEMA_FILE, snapshot_path};
pub use timings::Timings;

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use postgres::Client;
use serde::Serialize;

use crate::migrate::history::History;
use crate::migrate::plan::DownTarget;
use crate::migrate::project::{Migration, Project};
use crate::migrate::runner::{Options, Runner};
use crate::notices::{Notice, Notices};
use crate::snapshot::{self, Change, Classified, SnapshotOptions};

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub history_schema: String,
    /// Check only migrations from this version on.
    pub from: Option<i64>,
    /// Write schema-snapshots/ instead of comparing with it.
    pub write_snapshots: bool,
    pub snapshot: SnapshotOptions,
    /// The time limits migrations run under (as `up` would run them).
    pub limits: crate::config::Limits,
    /// Where the notices of the connection `run` is given arrive (attached to it when it was
    /// opened); a detached one drops them.
    pub notices: Notices,
}

/// What is wrong, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// schema-snapshots/ has no file for a migration.
    MissingSnapshot,
    /// The committed snapshot differs from what the migrations produce.
    StaleSnapshot,
    /// After a rollback the schema differs from the one before the migration.
    InexactRollback,
    /// Applying a migration again after its rollback gives another schema.
    ReapplyDiffers,
    /// The rollback is right for the schema, but applying the migration again after it leaves
    /// another number of rows in a table (it did not delete what its migration inserted).
    RowsLeftBehind,
    /// A migration or rollback failed to run.
    Failed,
    /// After rolling everything back, the schema is not the empty one or history remains.
    Leftovers,
    /// A migration or rollback failed, and check could not go on to these later migrations.
    NotChecked,
    /// A lint rule of severity error fired on a checked migration or rollback (see
    /// `pgstrata lint`; `-- pgstrata:lint-ignore RULE reason` accepts one).
    Lint,
    /// `sync verify` found divergent copies (or writes its triggers broke) for the spec of
    /// a sync migration (`V<n>__sync_NAME.sql`, spec `sync/NAME.toml`).
    SyncDiverged,
    /// `sync verify` could not run for such a spec (the spec does not load, rows cannot be
    /// generated for its tables, …): its triggers are not proved.
    SyncVerifyFailed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub version: Option<i64>,
    pub message: String,
    /// The objects that differ, one per line of the summary.
    pub changes: Vec<Change>,
    /// A unified diff (expected, then actual); empty when not about schemas.
    pub diff: String,
    /// For an inexact rollback: each object that differs with the classes of its
    /// difference, the accepted ones left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<Classified>,
}

/// One migration's checks.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub version: i64,
    pub name: String,
    /// `ok`, `missing`, `stale`, `written` or `unchanged` (with --write-snapshots).
    pub snapshot: &'static str,
    /// `exact`, `inexact`, `accepted` (inexact only in classes its rollback accepts with
    /// `-- pgstrata:inexact`), `leaves_rows` (exact for the schema, but applying again after
    /// it leaves another number of rows), or `irreversible` (not rolled back: its rollback
    /// says it cannot be).
    pub rollback: &'static str,
    pub ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub checked: Vec<Checked>,
    /// Applied without checks because of `--from`.
    pub applied_unchecked: Vec<i64>,
    pub findings: Vec<Finding>,
    /// Rollback differences accepted by `-- pgstrata:inexact` (not findings).
    pub accepted: Vec<Accepted>,
    /// Migrations not checked because an earlier step failed.
    pub not_checked: Vec<NotChecked>,
    /// Snapshot files written (with --write-snapshots).
    pub written: Vec<String>,
    /// Snapshot files for versions that do not exist.
    pub orphan_snapshots: Vec<String>,
    /// Snapshot files still holding a whole schema (the format before deltas; `check
    /// --write-snapshots` rewrites them as deltas).
    pub full_snapshots: Vec<String>,
    /// What the server said while files ran, each distinct message once (check runs a file
    /// up to four times), in the order first heard.
    pub notices: Vec<Notice>,
    /// Where the time went (`cargo bench --bench check` prints it).
    pub timings: Timings,
}

/// Live progress.
pub enum CheckEvent<'a> {
    Checked(&'a Checked),
    Finding(&'a Finding),
    /// The final whole-project round trip is starting.
    RoundTrip,
    /// The server said something not heard before in this check.
    Notice(&'a Notice),
    /// A rollback's difference was accepted by its `-- pgstrata:inexact` directive.
    Accepted(&'a Accepted),
}

struct Checker<'a> {
    client: &'a mut Client,
    project: &'a Project,
    options: &'a CheckOptions,
    on_event: &'a mut dyn FnMut(CheckEvent),
    report: CheckReport,
    /// Snapshot files to write (relative path, text) once the run has not been refused as
    /// blind: a refused run must not leave empty snapshots behind.
    to_write: Vec<(String, String)>,
    /// Rollbacks that left rows behind, said again when a later step fails: that failure
    /// (a `UNIQUE` violated by a doubled seed row) is likely theirs.
    left_rows: Vec<String>,
    /// The committed snapshot files, and the schema the next delta applies to.
    expected: snapshots::Expected,
    /// Takes the snapshots, with the catalog queries prepared once on `client`.
    reader: snapshot::Reader,
}

/// Checks `project` on `client`'s database, which must be empty.
pub fn run(
    client: &mut Client,
    project: &Project,
    options: &CheckOptions,
    on_event: &mut dyn FnMut(CheckEvent),
) -> Result<CheckReport> {
    let mut checker = Checker {
        client,
        project,
        options,
        on_event,
        report: CheckReport::default(),
        to_write: Vec::new(),
        left_rows: Vec::new(),
        expected: snapshots::Expected::read(project, options.from, options.write_snapshots)?,
        reader: snapshot::Reader::default(),
    };
    let started = Instant::now();
    checker.run()?;
    checker.report.timings.total = started.elapsed();
    for (relative, text) in std::mem::take(&mut checker.to_write) {
        let path = project.root.join(&relative);
        fs::create_dir_all(path.parent().expect("a folder"))
            .with_context(|| format!("creating the folder of {relative}"))?;
        fs::write(&path, text).with_context(|| format!("writing {relative}"))?;
        checker.report.written.push(relative);
    }
    Ok(checker.report)
}

impl Checker<'_> {
    fn run(&mut self) -> Result<()> {
        self.report.orphan_snapshots = snapshots::orphans(self.project)?;
        if !self.options.write_snapshots {
            self.report.full_snapshots = self.expected.full_files(self.project);
        }
        self.lint()?;
        let from = self.options.from.unwrap_or(i64::MIN);
        let unchecked: Vec<i64> = self
            .project
            .migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v < from)
            .collect();
        if let Some(last) = unchecked.last() {
            if !self.step(
                |r| r.up(Some(*last)),
                None,
                "applying the unchecked migrations",
            )? {
                self.not_checked_after(None);
                return Ok(());
            }
            self.report.applied_unchecked = unchecked;
        } else if !self.step(
            |r| r.up(Some(0)),
            None,
            "building the views wanted before the first migration (a view that needs a \
             migration's objects says so with `-- pgstrata:requires V…`)",
        )? {
            self.not_checked_after(None);
            return Ok(());
        }
        // The schema every rollback is compared with is taken after the views wanted at that
        // version were rebuilt, as a rollback's own rebuild leaves them: a view without
        // `requires` exists after V1's rollback, so it must exist in the schema before V1 too.
        let base = self.snapshot()?;
        let mut before = base.clone();
        let mut floor = (base.clone(), self.report.applied_unchecked.last().copied());
        for migration in self.project.migrations.iter().filter(|m| m.version >= from) {
            let Some(after) = self.check_one(migration, &before)? else {
                self.not_checked_after(Some(migration.version));
                return Ok(());
            };
            if migration.irreversible.is_some() {
                floor = (after.clone(), Some(migration.version));
            }
            before = after;
        }
        // Only now are the schemas the migrations create there to be seen.
        snapshot::refuse_blind_spots_in(self.client, &self.options.snapshot)
            .context("after applying every migration")?;
        if !self.report.checked.is_empty() {
            self.compare_head(&before);
        }
        self.round_trip(&floor, &before)
    }

    /// Lints the migrations and rollbacks checked: each finding of severity error is a
    /// finding of check (warnings are for `pgstrata lint` to show).
    fn lint(&mut self) -> Result<()> {
        let selection = crate::lint::Selection {
            from: self.options.from,
            files: Vec::new(),
        };
        for found in crate::lint::lint_project(self.project, &selection)? {
            if found.severity != crate::sql::lint::Severity::Error {
                continue;
            }
            self.add(Finding {
                kind: FindingKind::Lint,
                version: Some(found.version),
                message: format!(
                    "{}:{}:{}: {}: {}; safe: {} (or accept it with `-- pgstrata:lint-ignore {} \
                     <reason>` on the line before)",
                    found.file,
                    found.line,
                    found.column,
                    found.rule,
                    found.message,
                    found.safe,
                    found.rule
                ),
                changes: Vec::new(),
                diff: String::new(),
                classes: Vec::new(),
            });
        }
        Ok(())
    }

    /// Applies, snapshots, rolls back and reapplies one migration. `None` when it could not
    /// go on (a failure, already reported as a finding).
    fn check_one(&mut self, migration: &Migration, before: &str) -> Result<Option<String>> {
        let started = Instant::now();
        let v = migration.version;
        if !self.step(|r| r.up(Some(v)), Some(v), "applying")? {
            return Ok(None);
        }
        let after = self.snapshot()?;
        let snapshot = self.compare_with_file(migration, &after)?;
        let rollback = if migration.irreversible.is_some() {
            "irreversible"
        } else {
            let rows_first = self.count_rows()?;
            if !self.step(|r| r.down(DownTarget::Steps(1)), Some(v), "rolling back")? {
                return Ok(None);
            }
            let rolled_back = self.snapshot()?;
            let judged = self.judge_rollback(migration, before, &rolled_back);
            if !self.step(
                |r| r.up(Some(v)),
                Some(v),
                "applying again after its rollback",
            )? {
                return Ok(None);
            }
            let again = self.snapshot()?;
            self.expect_same(
                &after,
                &again,
                FindingKind::ReapplyDiffers,
                Some(v),
                format!("V{v} applied again after its rollback gives a different schema"),
            );
            let left_rows = self.rows_left_behind(migration, &rows_first)?;
            match (judged, left_rows) {
                ("exact" | "accepted", true) => "leaves_rows",
                (judged, _) => judged,
            }
        };
        let checked = Checked {
            version: v,
            name: migration.name.clone(),
            snapshot,
            rollback,
            ms: started.elapsed().as_millis() as u64,
        };
        (self.on_event)(CheckEvent::Checked(&checked));
        self.report.checked.push(checked);
        Ok(Some(after))
    }

    /// Compares the rows after `migration`'s second apply with those after its first; a
    /// difference is a finding naming the rollback. Returns whether there was one.
    fn rows_left_behind(&mut self, migration: &Migration, first: &rows::RowCounts) -> Result<bool> {
        let again = self.count_rows()?;
        let leftovers = rows::differences(first, &again);
        if leftovers.is_empty() {
            return Ok(false);
        }
        let v = migration.version;
        let tables: Vec<String> = leftovers.iter().map(ToString::to_string).collect();
        let blame = format!(
            "{} left rows behind when check rolled V{v} back and applied it again ({})",
            migration.down.path,
            tables.join("; ")
        );
        self.add(Finding {
            kind: FindingKind::RowsLeftBehind,
            version: Some(v),
            message: format!(
                "rollback of V{v} leaves rows behind: {blame}; a rollback must delete the rows \
                 its migration inserted, or applying V{v} again inserts them twice"
            ),
            changes: vec![],
            diff: String::new(),
            classes: Vec::new(),
        });
        self.left_rows.push(blame);
        Ok(true)
    }

    fn count_rows(&mut self) -> Result<rows::RowCounts> {
        let started = Instant::now();
        let counts = rows::count(self.client, &self.options.snapshot.exclude_schemas);
        self.report.timings.rows += started.elapsed();
        counts
    }

    /// Rolls everything checked back (to the newest irreversible migration, if any) and
    /// applies it all again.
    fn round_trip(&mut self, floor: &(String, Option<i64>), full: &str) -> Result<()> {
        if self.report.checked.is_empty() {
            return Ok(());
        }
        (self.on_event)(CheckEvent::RoundTrip);
        let (floor_schema, floor_version) = floor;
        let to = floor_version.unwrap_or(0);
        if !self.step(
            |r| r.down(DownTarget::To(to)),
            None,
            "rolling everything back",
        )? {
            return Ok(());
        }
        let emptied = self.snapshot()?;
        let what = match floor_version {
            Some(v) => format!("the schema of V{v}"),
            None => "the schema before the first migration (its views only)".to_string(),
        };
        self.expect_same(
            floor_schema,
            &emptied,
            FindingKind::Leftovers,
            None,
            format!("rolling every migration back does not give {what} again"),
        );
        let history = History::new(&self.options.history_schema);
        let remaining: Vec<i64> = history
            .read(self.client)?
            .unwrap_or_default()
            .iter()
            .map(|r| r.version)
            .filter(|v| *v > to)
            .collect();
        if !remaining.is_empty() {
            self.add(Finding {
                kind: FindingKind::Leftovers,
                version: None,
                message: format!(
                    "after rolling everything back, the history still records {remaining:?}"
                ),
                changes: vec![],
                diff: String::new(),
                classes: Vec::new(),
            });
        }
        if !self.step(|r| r.up(None), None, "applying everything again")? {
            return Ok(());
        }
        let again = self.snapshot()?;
        self.expect_same(
            full,
            &again,
            FindingKind::ReapplyDiffers,
            None,
            "applying every migration again after rolling all back gives a different schema"
                .to_string(),
        );
        Ok(())
    }

    /// Runs a runner action; a failure becomes a `Failed` finding and `false`, but a lost
    /// connection is an error.
    fn step(
        &mut self,
        action: impl FnOnce(&mut Runner) -> Result<()>,
        version: Option<i64>,
        doing: &str,
    ) -> Result<bool> {
        let options = Options {
            history_schema: self.options.history_schema.clone(),
            lock_wait: Duration::from_secs(10),
            dry_run: false,
            limits: self.options.limits,
            // A private database: nobody else can block it.
            watch: None,
            // Its database is its own and empty of anyone's data.
            allow_data_loss: true,
            // Checks go in version order, on a database of their own.
            allow_out_of_order: false,
        };
        let quiet: crate::migrate::runner::OnEvent = std::sync::Arc::new(|_| {});
        let mut runner = Runner::new(self.client, self.project, options, quiet)
            .with_notices(self.options.notices.clone());
        let started = Instant::now();
        let result = action(&mut runner);
        self.report.timings.apply += started.elapsed();
        let ran = runner.into_report();
        let said = ran.steps.into_iter().flat_map(|s| s.notices);
        for notice in said.chain(ran.notices) {
            if !self.report.notices.contains(&notice) {
                (self.on_event)(CheckEvent::Notice(&notice));
                self.report.notices.push(notice);
            }
        }
        match result {
            Ok(()) => Ok(true),
            Err(err) => {
                let at = version.map(|v| format!("V{v}: ")).unwrap_or_default();
                // A lost connection says nothing about the project: an error, not a finding.
                if crate::db::connection_lost(&err).is_some() {
                    return Err(err.context(format!(
                        "{at}{doing}: the connection to the check database was lost, so check \
                         cannot go on"
                    )));
                }
                // A doubled seed row fails a later migration: name the rollback that left it.
                let cause = match self.left_rows.as_slice() {
                    [] => String::new(),
                    blames => format!(
                        "\n  likely cause, not this step: earlier, {}",
                        blames.join("; and ")
                    ),
                };
                self.add(Finding {
                    kind: FindingKind::Failed,
                    version,
                    message: format!("{at}{doing} failed: {err:#}{cause}"),
                    changes: vec![],
                    diff: String::new(),
                    classes: Vec::new(),
                });
                Ok(false)
            }
        }
    }

    /// Adds a finding with the diff when `expected` and `actual` differ.
    fn expect_same(
        &mut self,
        expected: &str,
        actual: &str,
        kind: FindingKind,
        version: Option<i64>,
        message: String,
    ) -> bool {
        let started = Instant::now();
        let comparison = snapshot::compare(expected, actual, "expected", "actual");
        self.report.timings.compare += started.elapsed();
        if comparison.is_same() {
            return true;
        }
        self.add(Finding {
            kind,
            version,
            message,
            changes: comparison.changes,
            diff: comparison.unified,
            classes: Vec::new(),
        });
        false
    }

    fn add(&mut self, finding: Finding) {
        (self.on_event)(CheckEvent::Finding(&finding));
        self.report.findings.push(finding);
    }

    fn snapshot(&mut self) -> Result<String> {
        let started = Instant::now();
        let taken = self.reader.take(self.client, &self.options.snapshot)?;
        let read = Instant::now();
        let text = taken.render();
        self.report.timings.introspect += read - started;
        self.report.timings.render += read.elapsed();
        self.report.timings.snapshots += 1;
        Ok(text)
    }
}

//! Running migrations and rollbacks against one database: `up`, `down`, `redo`, `repair`.
//!
//! A migration and its history row commit in ONE transaction; a rollback, the deletion of its
//! row and the dropping of the views that require it likewise. A no-transaction file runs
//! statement by statement between a `running`/`reverting` row and its final state, so a crash
//! leaves a row that later runs refuse. Every change runs under the migration lock (a no-op
//! `up` may answer from an unlocked read: see `Observed`). Progress is reported through an
//! event callback; the runner never prints.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use postgres::Client;
use serde::Serialize;

use crate::error::Refusal;
use crate::execute::{run_batch, run_in_one_trip, run_statements};
use crate::history::{History, HistoryRow, RunState};
use crate::lock::{self, Holder};
use crate::plan::{self, DownTarget};
use crate::project::{Migration, Project};
use crate::views::{self, ViewChange};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub history_schema: String,
    pub lock_wait: Duration,
    /// Plan only: report what would run, change nothing, take no lock.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// One migration applied or rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    /// The file that ran: the migration (up) or the rollback (down).
    pub file: String,
    pub ms: u64,
    pub no_transaction: bool,
}

/// What a run did (or, with `dry_run`, would do), in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    pub steps: Vec<Step>,
    pub views: Vec<ViewChange>,
    /// Things worth knowing that did not stop the run.
    pub notes: Vec<String>,
}

/// Live progress, for a caller that prints as work happens.
pub enum Event<'a> {
    /// The lock is held by someone else; waiting.
    LockBusy(Option<&'a Holder>),
    Starting(Direction, &'a Migration),
    Finished(&'a Step),
    View(&'a ViewChange),
    Note(&'a str),
}

/// The history and the managed views as read without the lock, while the project is still
/// loading (see `cmd::load_and_connect_with`). Enough to see that `up` has nothing to do, a
/// deploy's most common case, without waiting for the lock's round trips; anything else goes
/// the locked way, which reads both again. Reading without the lock is safe for that answer:
/// a run committing in between is ordered after this one, as it would be had we locked first.
pub struct Observed {
    rows: Vec<HistoryRow>,
    views: views::State,
}

impl Observed {
    /// `None` when either cannot be read (no history yet, no permission, a broken session):
    /// the locked path then reports whatever is wrong.
    pub fn read(client: &mut Client, history_schema: &str) -> Option<Observed> {
        let history = History::new(history_schema);
        // A history whose format is not recorded yet goes the locked way, which records it.
        let rows = history
            .read_recorded(client)
            .ok()??
            .format_recorded_rows()?;
        let views = views::read_state(client, &history).ok()?;
        Some(Observed { rows, views })
    }

    /// True when `up --to to` would apply nothing, refuse nothing and change no view.
    fn nothing_to_do(&self, project: &Project, to: Option<i64>) -> bool {
        let Ok(pending) = plan::up(project, &self.rows, to) else {
            return false;
        };
        let applied: BTreeSet<i64> = self.rows.iter().map(|r| r.version).collect();
        pending.is_empty() && views::is_current(project, &applied, &self.views)
    }
}

/// Runs migrations on one connection, accumulating a report.
pub struct Runner<'a> {
    client: &'a mut Client,
    project: &'a Project,
    history: History,
    options: Options,
    on_event: &'a mut dyn FnMut(Event),
    report: RunReport,
}

impl<'a> Runner<'a> {
    pub fn new(
        client: &'a mut Client,
        project: &'a Project,
        options: Options,
        on_event: &'a mut dyn FnMut(Event),
    ) -> Runner<'a> {
        Runner {
            client,
            project,
            history: History::new(&options.history_schema),
            report: RunReport {
                dry_run: options.dry_run,
                ..RunReport::default()
            },
            options,
            on_event,
        }
    }

    /// What the run did so far; complete after success, partial after a failure.
    pub fn into_report(self) -> RunReport {
        self.report
    }

    /// Applies pending migrations up to `to` (all when `None`), then rebuilds views.
    pub fn up(&mut self, to: Option<i64>) -> Result<()> {
        let rows = self.begin()?;
        let pending = plan::up(self.project, &rows, to)?;
        self.apply_all(&pending)?;
        self.finish(&rows, &pending, &[])
    }

    /// `up`, except that it returns at once, taking no lock, when `observed` shows there is
    /// nothing to do.
    pub fn up_unless_current(
        &mut self,
        to: Option<i64>,
        observed: Option<&Observed>,
    ) -> Result<()> {
        if observed.is_some_and(|o| o.nothing_to_do(self.project, to)) {
            return Ok(());
        }
        self.up(to)
    }

    /// Rolls back newest first, then rebuilds views.
    pub fn down(&mut self, target: DownTarget) -> Result<()> {
        let rows = self.begin()?;
        let doomed = plan::down(self.project, &rows, target)?;
        self.roll_back_all(&doomed, &rows)?;
        self.finish(&rows, &[], &doomed)
    }

    /// Rolls back the newest applied migration and applies it again.
    pub fn redo(&mut self) -> Result<()> {
        let rows = self.begin()?;
        let Some(newest) = rows.iter().map(|r| r.version).max() else {
            bail!("nothing to redo: no migration is applied");
        };
        let doomed = plan::down(self.project, &rows, DownTarget::Steps(1))?;
        // Check the way back up before going down, so a refusal changes nothing.
        let remaining: Vec<HistoryRow> = rows
            .iter()
            .filter(|r| r.version != newest)
            .cloned()
            .collect();
        let again = plan::up(self.project, &remaining, Some(newest))?;
        self.roll_back_all(&doomed, &rows)?;
        self.apply_all(&again)?;
        self.finish(&remaining, &again, &[])
    }

    /// Takes the lock (unless dry-running) and reads the history.
    fn begin(&mut self) -> Result<Vec<HistoryRow>> {
        if !self.options.dry_run {
            let on_event = &mut self.on_event;
            lock::acquire(
                self.client,
                &self.options.history_schema,
                self.options.lock_wait,
                |holder| on_event(Event::LockBusy(holder)),
            )?;
        }
        match self.history.read_recorded(self.client)? {
            Some(recorded) if recorded.format_recorded || self.options.dry_run => Ok(recorded.rows),
            Some(recorded) => {
                // A history from before its format was recorded: it is format 1; say so.
                self.history.record_format(self.client)?;
                Ok(recorded.rows)
            }
            None if self.options.dry_run => Ok(Vec::new()),
            None => {
                self.history.ensure(self.client)?;
                Ok(Vec::new())
            }
        }
    }

    /// Rebuilds views for the final set of applied versions and releases the lock.
    fn finish(
        &mut self,
        before: &[HistoryRow],
        applied: &[&Migration],
        rolled_back: &[&Migration],
    ) -> Result<()> {
        let mut versions: BTreeSet<i64> = before.iter().map(|r| r.version).collect();
        versions.extend(applied.iter().map(|m| m.version));
        for m in rolled_back {
            versions.remove(&m.version);
        }
        let changes = views::rebuild(
            self.client,
            &self.history,
            self.project,
            &versions,
            self.options.dry_run,
        )?;
        for change in changes {
            (self.on_event)(Event::View(&change));
            self.report.views.push(change);
        }
        if !self.options.dry_run {
            lock::release(self.client, &self.options.history_schema)?;
        }
        Ok(())
    }

    fn apply_all(&mut self, pending: &[&Migration]) -> Result<()> {
        for migration in pending {
            (self.on_event)(Event::Starting(Direction::Up, migration));
            let started = Instant::now();
            if !self.options.dry_run {
                if migration.up.no_transaction {
                    self.apply_outside_transaction(migration)?;
                } else {
                    self.apply_in_transaction(migration)?;
                }
            }
            self.record_step(migration, Direction::Up, started);
        }
        Ok(())
    }

    /// The migration and its history row in one transaction and one round trip.
    fn apply_in_transaction(&mut self, migration: &Migration) -> Result<()> {
        let record = self.history.record_statement(migration)?;
        run_in_one_trip(self.client, &migration.up, &record)
    }

    fn apply_outside_transaction(&mut self, migration: &Migration) -> Result<()> {
        let started = Instant::now();
        self.history
            .insert(self.client, migration, 0, RunState::Running)?;
        run_statements(self.client, &migration.up)
            .with_context(|| interrupted(migration, RunState::Running))?;
        self.history.set_state(
            self.client,
            migration.version,
            RunState::Applied,
            Some(elapsed_ms(started)),
        )?;
        Ok(())
    }

    fn roll_back_all(&mut self, doomed: &[&Migration], rows: &[HistoryRow]) -> Result<()> {
        for migration in doomed {
            if rows.iter().any(|r| {
                r.version == migration.version && r.rollback_checksum != migration.down.checksum
            }) {
                self.note(format!(
                    "{} has changed since migration {} was applied; rolling back with the file \
                     as it is now",
                    migration.down.path, migration.version
                ));
            }
            (self.on_event)(Event::Starting(Direction::Down, migration));
            let started = Instant::now();
            if !self.options.dry_run {
                let dropped = if migration.down.no_transaction {
                    self.roll_back_outside_transaction(migration)?
                } else {
                    self.roll_back_in_transaction(migration)?
                };
                for change in dropped {
                    (self.on_event)(Event::View(&change));
                    self.report.views.push(change);
                }
            }
            self.record_step(migration, Direction::Down, started);
        }
        Ok(())
    }

    fn roll_back_in_transaction(&mut self, migration: &Migration) -> Result<Vec<ViewChange>> {
        let mut tx = self
            .client
            .transaction()
            .context("starting a transaction")?;
        let dropped =
            views::drop_requiring(&mut tx, &self.history, self.project, migration.version)?;
        run_batch(&mut tx, &migration.down)?;
        self.history.delete(&mut tx, migration.version)?;
        tx.commit()
            .with_context(|| format!("committing {}", migration.down.path))?;
        Ok(dropped)
    }

    fn roll_back_outside_transaction(&mut self, migration: &Migration) -> Result<Vec<ViewChange>> {
        let mut tx = self
            .client
            .transaction()
            .context("starting a transaction")?;
        let dropped =
            views::drop_requiring(&mut tx, &self.history, self.project, migration.version)?;
        self.history
            .set_state(&mut tx, migration.version, RunState::Reverting, None)?;
        tx.commit().context("marking the rollback as started")?;
        run_statements(self.client, &migration.down)
            .with_context(|| interrupted(migration, RunState::Reverting))?;
        self.history.delete(self.client, migration.version)?;
        Ok(dropped)
    }

    fn record_step(&mut self, migration: &Migration, direction: Direction, started: Instant) {
        let file = match direction {
            Direction::Up => &migration.up,
            Direction::Down => &migration.down,
        };
        let step = Step {
            version: migration.version,
            name: migration.name.clone(),
            direction,
            file: file.path.clone(),
            ms: if self.options.dry_run {
                0
            } else {
                started.elapsed().as_millis() as u64
            },
            no_transaction: file.no_transaction,
        };
        (self.on_event)(Event::Finished(&step));
        self.report.steps.push(step);
    }

    fn note(&mut self, note: String) {
        (self.on_event)(Event::Note(&note));
        self.report.notes.push(note);
    }
}

/// The message added to a no-transaction failure: the row stays dirty, and how to repair it.
fn interrupted(migration: &Migration, state: RunState) -> String {
    format!(
        "{}; nothing after the failing statement ran",
        Refusal::Dirty {
            version: migration.version,
            name: migration.name.clone(),
            state: state.as_str().to_string(),
        }
    )
}

fn elapsed_ms(started: Instant) -> i64 {
    started.elapsed().as_millis() as i64
}

/// How `repair` records the outcome of an interrupted no-transaction run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// All of the migration's effects are in place: record it as applied.
    MarkApplied,
    /// None are: remove its history row.
    Forget,
}

/// Records the outcome of an interrupted no-transaction migration or rollback. Refuses to
/// touch a version that is not dirty.
pub fn repair(client: &mut Client, options: &Options, version: i64, action: Repair) -> Result<()> {
    let history = History::new(&options.history_schema);
    lock::acquire(client, &options.history_schema, options.lock_wait, |_| {})?;
    let rows = history.read(client)?.unwrap_or_default();
    let Some(row) = rows.iter().find(|r| r.version == version) else {
        bail!("migration {version} is not recorded in the history; there is nothing to repair");
    };
    if row.state == RunState::Applied {
        bail!(
            "migration {version} is applied and was not interrupted; repair only records the \
             outcome of an interrupted no-transaction run (use `pgstrata down` to undo it)"
        );
    }
    match action {
        Repair::MarkApplied => {
            history.set_state(client, version, RunState::Applied, None)?;
        }
        Repair::Forget => {
            history.delete(client, version)?;
        }
    }
    lock::release(client, &options.history_schema)
}

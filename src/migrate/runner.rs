//! Running migrations and rollbacks against one database: `up`, `down`, `redo`, `repair`.
//!
//! A migration and its history row commit in ONE transaction; a rollback, the deletion of its
//! row and the dropping of the views that require it likewise. A no-transaction file runs
//! statement by statement between a `running`/`reverting` row and its final state, so a crash
//! leaves a row that later runs refuse. Every change runs under the migration lock, released
//! on every path (a no-op `up` may answer from an unlocked read: see `Observed`).
//!
//! Every file runs under its time limits (`lock_timeout`, `statement_timeout`), starts from
//! the same session (see `session`), and is retried whole when it loses a lock race (see
//! `retry`), watched meanwhile (see `watch`). Progress is reported through an event callback;
//! the runner never prints. The server's notices (see `notices`) are attributed to the step
//! whose file raised them; those of pgstrata's own statements are dropped.

mod data_guard;
mod dry_sql;
mod managed_views;
mod rollback;
mod single;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use postgres::{Client, Transaction};
use serde::Serialize;

use crate::config::Limits;
use crate::conninfo::ConnInfo;
use crate::error::Refusal;
use crate::migrate::execute::{FileLimits, place_one_trip_notices, run_in_one_trip, run_statement};
use crate::migrate::history::{History, HistoryRow, RunState};
use crate::migrate::lock::{self, Holder};
use crate::migrate::no_transaction::{self, Support};
use crate::migrate::plan::{self, DownTarget};
use crate::migrate::project::{Migration, Project};
use crate::migrate::retry::{self, Attempts, Retry, views_in_the_way};
use crate::migrate::session::Baseline;
use crate::migrate::views::{self, ViewChange};
use crate::migrate::watch::{Blocker, OnTick, Tick, Watch};
use crate::notices::{Notice, Notices};
use crate::sql::Statement;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub history_schema: String,
    pub lock_wait: Duration,
    /// Plan only: report what would run, change nothing, take no lock.
    pub dry_run: bool,
    /// The time limits files run under, unless they set their own.
    pub limits: Limits,
    /// How to open a second connection that names the sessions blocking a lock wait;
    /// `None`: waits are reported without names.
    pub watch: Option<ConnInfo>,
    /// Run rollbacks that drop tables, materialized views or columns holding data. Otherwise
    /// each rollback is rehearsed first and refused when it would (see `data_loss`).
    pub allow_data_loss: bool,
    /// `up` applies a pending migration older than an applied one, recording it as applied
    /// out of order, instead of refusing.
    pub allow_out_of_order: bool,
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
    /// How many times it ran: more than 1 after lost lock races.
    pub attempts: u32,
    /// Up: applied after a newer migration (`--allow-out-of-order`), as its history row says.
    pub out_of_order: bool,
    /// What the server said while the file ran (its last attempt), in order.
    pub notices: Vec<Notice>,
    /// Dry runs: the SQL pgstrata would send for the step, its own statements included,
    /// headed by the directives in force (comment lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

/// What a run did (or, with `dry_run`, would do), in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    /// The newest applied version when the run began, as read under the lock (`None`: none
    /// applied, or the run stopped before reading the history).
    pub before: Option<i64>,
    /// The newest applied version when the run ended (dry runs: would end), from `before`'s
    /// history and the steps that finished.
    pub after: Option<i64>,
    /// Everything in one transaction (`up --single-transaction`).
    pub single_transaction: bool,
    pub steps: Vec<Step>,
    pub views: Vec<ViewChange>,
    /// Things worth knowing that did not stop the run.
    pub notes: Vec<String>,
    /// What the server said outside a finished step: during the view rebuild (`file` null),
    /// or while the step that failed ran.
    pub notices: Vec<Notice>,
    /// The rollback refused because it would drop data, with what it would drop.
    pub data_loss: Vec<crate::migrate::data_loss::StepLoss>,
    /// Dry runs: the SQL of each planned view change, by its index in `views`.
    #[serde(skip)]
    pub view_sql: Vec<(usize, String)>,
}

/// Where a runner's events go. Called from the runner's thread, and (for `Running`) from
/// its watcher's thread, hence `Send + Sync`.
pub type OnEvent = Arc<dyn Fn(Event) + Send + Sync>;

/// Live progress, for a caller that prints as work happens.
pub enum Event<'a> {
    /// The migration lock is held by someone else; waiting (said when first found busy, then
    /// every 10 s), with how long so far.
    LockBusy(Option<&'a Holder>, Duration),
    Starting(Direction, &'a Migration),
    /// Still running after another 10 s; `blockers` when it waits for a lock.
    Running {
        what: &'a str,
        elapsed: Duration,
        blockers: &'a [Blocker],
    },
    /// An attempt lost a lock race (or deadlocked) and will be retried after a pause.
    Retrying {
        what: &'a str,
        retry: &'a Retry,
    },
    Finished(&'a Step),
    View(&'a ViewChange),
    /// Dry runs: the SQL of the view rebuild, after its changes, as one transaction.
    ViewSql(&'a str),
    Note(&'a str),
    /// Something the server said (NOTICE, WARNING, …), after the step it belongs to.
    Notice(&'a Notice),
}

/// Runs migrations on one connection, accumulating a report.
pub struct Runner<'a> {
    client: &'a mut Client,
    project: &'a Project,
    history: History,
    options: Options,
    on_event: OnEvent,
    report: RunReport,
    /// Started with the first locked operation (a dry run runs nothing to watch).
    watch: Option<Watch>,
    /// The session before the first file, captured once the lock is held.
    baseline: Option<Baseline>,
    holding_lock: bool,
    /// Attempts of the step in progress.
    attempts: u32,
    /// Where the connection's notices arrive (detached: none).
    notices: Notices,
    /// The notices of the step in progress, until it is recorded.
    step_notices: Vec<Notice>,
    /// A missing history is not created by `begin` but by the run's one transaction
    /// (`up --single-transaction`), which then finds `history_missing`.
    defer_history: bool,
    history_missing: bool,
}

impl<'a> Runner<'a> {
    pub fn new(
        client: &'a mut Client,
        project: &'a Project,
        options: Options,
        on_event: OnEvent,
    ) -> Runner<'a> {
        Runner {
            client,
            project,
            history: History::new(&options.history_schema),
            report: RunReport {
                dry_run: options.dry_run,
                ..RunReport::default()
            },
            watch: None,
            options,
            on_event,
            baseline: None,
            holding_lock: false,
            attempts: 0,
            notices: Notices::default(),
            step_notices: Vec::new(),
            defer_history: false,
            history_missing: false,
        }
    }

    /// Attributes the notices arriving in `notices` (attached to this runner's connection)
    /// to the steps that raise them; without it they are dropped.
    pub fn with_notices(mut self, notices: Notices) -> Runner<'a> {
        self.notices = notices;
        self
    }

    /// What the run did so far; complete after success, partial after a failure.
    pub fn into_report(mut self) -> RunReport {
        std::mem::take(&mut self.report)
    }

    /// Applies pending migrations up to `to` (all when `None`), then rebuilds views.
    pub fn up(&mut self, to: Option<i64>) -> Result<()> {
        self.locked(|runner, rows| {
            let pending = plan::up(runner.project, &rows, to, runner.options.allow_out_of_order)?;
            runner.drop_deleted_views(&rows)?;
            runner.apply_all(&pending, &rows)?;
            runner.rebuild_views(&rows, &pending, &[])
        })
    }

    /// Rolls back newest first (by version, whatever order they were applied in: see
    /// `plan::down`), then rebuilds views.
    pub fn down(&mut self, target: DownTarget) -> Result<()> {
        self.locked(|runner, rows| {
            let doomed = plan::down(runner.project, &rows, target)?;
            runner.drop_deleted_views(&rows)?;
            runner.roll_back_all(&doomed, &rows)?;
            runner.rebuild_views(&rows, &[], &doomed)
        })
    }

    /// Rolls back the newest applied migration and applies it again.
    pub fn redo(&mut self) -> Result<()> {
        self.locked(|runner, rows| {
            let Some(newest) = rows.iter().map(|r| r.version).max() else {
                bail!("nothing to redo: no migration is applied");
            };
            let doomed = plan::down(runner.project, &rows, DownTarget::Steps(1))?;
            // Check the way back up before going down, so a refusal changes nothing.
            let remaining: Vec<HistoryRow> = rows
                .iter()
                .filter(|r| r.version != newest)
                .cloned()
                .collect();
            // The newest version comes back after every other: never out of order.
            let again = plan::up(runner.project, &remaining, Some(newest), false)?;
            runner.drop_deleted_views(&rows)?;
            runner.roll_back_all(&doomed, &rows)?;
            runner.apply_all(&again, &remaining)?;
            runner.rebuild_views(&remaining, &again, &[])
        })
    }

    /// Runs `body` with the lock held (unless dry-running) and the history read, and releases
    /// the lock whatever `body` returns. (A panic releases it too: see `Drop`.)
    fn locked(
        &mut self,
        body: impl FnOnce(&mut Self, Vec<HistoryRow>) -> Result<()>,
    ) -> Result<()> {
        ensure!(
            self.project.is_parsed(),
            "internal error: the project's files were not parsed before running them"
        );
        let result = match self.begin() {
            Ok(rows) => {
                let mut applied: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
                self.report.before = applied.last().copied();
                let result = body(self, rows);
                for step in &self.report.steps {
                    match step.direction {
                        Direction::Up => applied.insert(step.version),
                        Direction::Down => applied.remove(&step.version),
                    };
                }
                self.report.after = applied.last().copied();
                result
            }
            Err(err) => Err(err),
        };
        // A failed step's notices: they may say why it failed.
        let unrecorded = std::mem::take(&mut self.step_notices);
        self.report_notices(unrecorded);
        let released = self.release_lock();
        result.and(released)
    }

    /// Takes the lock and records the session (unless dry-running), and reads the history.
    fn begin(&mut self) -> Result<Vec<HistoryRow>> {
        if self.options.dry_run {
            // Only to show the session reset each file ends with (see `dry_sql`).
            self.baseline = Some(Baseline::capture(self.client, &self.options.limits)?);
        } else {
            let on_event = &self.on_event;
            lock::acquire(
                self.client,
                &self.options.history_schema,
                self.options.lock_wait,
                |holder, waited| on_event(Event::LockBusy(holder, waited)),
            )?;
            self.holding_lock = true;
            self.baseline = Some(Baseline::capture(self.client, &self.options.limits)?);
            if self.watch.is_none() {
                let on_event = self.on_event.clone();
                let on_tick: OnTick = Arc::new(move |tick: Tick| {
                    on_event(Event::Running {
                        what: tick.what,
                        elapsed: tick.elapsed,
                        blockers: tick.blockers,
                    })
                });
                self.watch = Some(Watch::start(self.options.watch.clone(), on_tick));
            }
        }
        match self.history.read_recorded(self.client)? {
            Some(recorded) if recorded.is_current() || self.options.dry_run => Ok(recorded.rows),
            Some(recorded) => {
                // Tables an older pgstrata made: brought to this build's format, under the
                // lock, before anything is written to them.
                self.history.upgrade(self.client)?;
                Ok(recorded.rows)
            }
            None if self.options.dry_run => Ok(Vec::new()),
            None if self.defer_history => {
                self.history_missing = true;
                Ok(Vec::new())
            }
            None => {
                self.history.ensure(self.client)?;
                Ok(Vec::new())
            }
        }
    }

    fn release_lock(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.holding_lock) {
            return Ok(());
        }
        lock::release(self.client, &self.options.history_schema)
    }

    /// Shows notices that belong to no recorded step and keeps them in the report.
    fn report_notices(&mut self, notices: Vec<Notice>) {
        for notice in &notices {
            (self.on_event)(Event::Notice(notice));
        }
        self.report.notices.extend(notices);
    }

    /// Takes what the server said while `file` ran, for the step being run.
    fn collect_notices(&mut self, file: &crate::migrate::project::SqlFile) {
        let said = self.notices.take(Some(&file.path));
        self.step_notices.extend(said);
    }

    /// The SQL returning the session to its baseline (captured by `begin`).
    fn reset_sql(&self) -> Result<String> {
        self.baseline
            .as_ref()
            .map(|b| b.reset_sql().to_string())
            .context("internal error: no session baseline outside a dry run")
    }

    /// Runs `work` (a whole transaction) under the watcher, retrying it after lost lock
    /// races; `what` names it in reports.
    fn attempt<T>(
        &mut self,
        what: &str,
        limits: &FileLimits,
        work: impl FnMut(&mut Client) -> Result<T>,
    ) -> Result<T> {
        let (watch, pid) = watched(&self.watch, &self.baseline)?;
        let mut on_retry = retry_reporter(&self.on_event, &mut self.attempts, what);
        let notices = self.notices.clone();
        let mut work = work;
        retry::attempt(
            self.client,
            Attempts {
                watch,
                pid,
                lock_timeout: limits.lock_timeout,
                retries: limits.lock_retries,
                not_retried: None,
            },
            what,
            &mut on_retry,
            |client| {
                // Only the last attempt's notices are the work's; before it ran ours.
                notices.discard();
                work(client)
            },
        )
    }

    /// Runs a no-transaction file under the watcher, statement by statement.
    /// `after`: the versions applied once the file has run (`None`: as the history says
    /// meanwhile, this migration's `running` row included), for the views made again when
    /// the server refuses a statement because views stand in its way.
    fn run_outside(
        &mut self,
        what: &str,
        file: &crate::migrate::project::SqlFile,
        after: Option<&BTreeSet<i64>>,
    ) -> Result<()> {
        let limits = FileLimits::of(&self.options.limits, file);
        let reset = self.reset_sql()?;
        let (watch, pid) = watched(&self.watch, &self.baseline)?;
        let (history, project) = (self.history.clone(), self.project);
        let notices = self.notices.clone();
        let mut made_again = (Vec::new(), None);
        let mut around_views = |client: &mut Client, statement: &Statement| -> Result<()> {
            let mut tx = client.transaction().context("starting a transaction")?;
            let after = match after {
                Some(after) => after.clone(),
                None => history
                    .read(&mut tx)?
                    .unwrap_or_default()
                    .iter()
                    .map(|r| r.version)
                    .collect(),
            };
            let guard = views::Guard {
                reset: &reset,
                notices: &notices,
                failed: None,
            };
            let targets = &statement.class.alters;
            made_again =
                views::around_all(&mut tx, &history, project, &after, &guard, targets, |tx| {
                    run_statement(tx, file, statement)
                })?;
            tx.commit().context("committing the statement")?;
            Ok(())
        };
        let mut on_retry = retry_reporter(&self.on_event, &mut self.attempts, what);
        let ran = no_transaction::run(
            self.client,
            file,
            &limits,
            Support {
                what,
                watch,
                pid,
                reset: &reset,
                on_retry: &mut on_retry,
                notices: &self.notices,
                around_views: &mut around_views,
            },
        );
        drop(on_retry);
        let (changes, note) = made_again;
        self.report_views(changes, note);
        ran
    }

    /// Applies `pending` in order on top of `applied`; one older than an applied migration is
    /// recorded as applied out of order (`plan::up` allowed it).
    fn apply_all(&mut self, pending: &[&Migration], applied: &[HistoryRow]) -> Result<()> {
        let newest_applied = applied.iter().map(|r| r.version).max();
        for migration in pending {
            let late = plan::is_out_of_order(migration.version, newest_applied);
            if late {
                self.note(format!(
                    "migration {} ({}) runs out of order, after migration {}",
                    migration.version,
                    migration.name,
                    newest_applied.unwrap_or_default()
                ));
            }
            (self.on_event)(Event::Starting(Direction::Up, migration));
            let started = Instant::now();
            let mut sql = None;
            if self.options.dry_run {
                sql = Some(self.step_sql(migration, Direction::Up, late)?);
            } else if migration.up.no_transaction {
                self.apply_outside_transaction(migration, late)?;
            } else {
                self.apply_in_transaction(migration, late)?;
            }
            self.record_step(migration, Direction::Up, started, sql, late);
        }
        Ok(())
    }

    /// The migration and its history row in one transaction and one round trip; the session
    /// returned to its baseline before the history row is written, so that the row is
    /// written as pgstrata and nothing of the file's session state survives the commit.
    /// The reset's RESET ALL also clears a file's own `SET LOCAL` limits (the run's come back
    /// with the baseline), so they are set again: the history row's lock is waited for under
    /// the same limit as the file's, while the file's locks are held.
    fn apply_in_transaction(&mut self, migration: &Migration, out_of_order: bool) -> Result<()> {
        let record = self.history.record_statement(migration, out_of_order)?;
        let limits = FileLimits::of(&self.options.limits, &migration.up);
        let epilogue = format!("{}{}{record};\n", self.reset_sql()?, limits.set_local());
        let what = format!("migration {} ({})", migration.version, migration.name);
        let first = self.attempt(&what, &limits, |client| {
            run_in_one_trip(client, &migration.up, &limits, &epilogue)
        });
        if let Err(err) = &first
            && views_in_the_way(err)
            && !self.project.views.is_empty()
        {
            let mut after: BTreeSet<i64> = self
                .history
                .read(self.client)?
                .unwrap_or_default()
                .iter()
                .map(|r| r.version)
                .collect();
            after.insert(migration.version);
            return self.run_around_views(&what, &migration.up, &after, &limits, &epilogue);
        }
        place_one_trip_notices(&self.notices, &migration.up, &limits);
        self.collect_notices(&migration.up);
        first
    }

    fn apply_outside_transaction(
        &mut self,
        migration: &Migration,
        out_of_order: bool,
    ) -> Result<()> {
        let started = Instant::now();
        self.history
            .insert(self.client, migration, 0, RunState::Running, out_of_order)?;
        let what = format!("migration {} ({})", migration.version, migration.name);
        let result = self.run_outside(&what, &migration.up, None);
        self.collect_notices(&migration.up);
        result.with_context(|| interrupted(migration, RunState::Running))?;
        self.history.set_state(
            self.client,
            migration.version,
            RunState::Applied,
            Some(elapsed_ms(started)),
        )?;
        Ok(())
    }

    fn record_step(
        &mut self,
        migration: &Migration,
        direction: Direction,
        started: Instant,
        sql: Option<String>,
        out_of_order: bool,
    ) {
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
            attempts: self.attempts.max(1),
            out_of_order,
            notices: std::mem::take(&mut self.step_notices),
            sql,
        };
        (self.on_event)(Event::Finished(&step));
        for notice in &step.notices {
            (self.on_event)(Event::Notice(notice));
        }
        self.report.steps.push(step);
    }

    fn note(&mut self, note: String) {
        (self.on_event)(Event::Note(&note));
        self.report.notes.push(note);
    }
}

impl Drop for Runner<'_> {
    /// A panic (or a caller dropping a runner mid-run) must not keep the lock.
    fn drop(&mut self) {
        let _ = self.release_lock();
    }
}

/// The watcher and the backend it watches; both exist once a locked run has begun.
fn watched<'w>(watch: &'w Option<Watch>, baseline: &Option<Baseline>) -> Result<(&'w Watch, i32)> {
    match (watch, baseline) {
        (Some(watch), Some(baseline)) => Ok((watch, baseline.backend_pid)),
        _ => bail!("internal error: running a file outside a locked run"),
    }
}

/// Counts the attempts of the step in progress (from 1) and reports each retry.
fn retry_reporter<'r>(
    on_event: &'r OnEvent,
    attempts: &'r mut u32,
    what: &'r str,
) -> impl FnMut(&Retry) + 'r {
    *attempts = 1;
    move |retry: &Retry| {
        *attempts += 1;
        on_event(Event::Retrying { what, retry });
    }
}

/// Starts a transaction under a file's own limits (the run's are the session's already).
fn begin_under<'c>(client: &'c mut Client, limits: &FileLimits) -> Result<Transaction<'c>> {
    let mut tx = client.transaction().context("starting a transaction")?;
    let own_limits = limits.set_local();
    if !own_limits.is_empty() {
        tx.batch_execute(&own_limits)
            .context("setting the file's lock_timeout and statement_timeout")?;
    }
    Ok(tx)
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

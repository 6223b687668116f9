//! `up --single-transaction`: every pending migration, its history row, the dropping of deleted
//! views and the view rebuild in ONE transaction, so that a deploy is all or nothing: on any
//! error (or an interrupted connection) nothing of the run is left, not even the history table
//! on a database that had none.
//!
//! The safety of a run file by file is kept: the run's lock, each file under its own
//! `lock_timeout` and `statement_timeout` (`SET LOCAL` before each file: the previous file's
//! would otherwise last until COMMIT), the session returned to its baseline after each file,
//! notices placed in their files. A lost lock race (55P03, 40P01, 40001) rolls the whole
//! transaction back and runs it again, as a file's transaction is otherwise. A no-transaction
//! file cannot run inside it: the run is refused before anything runs.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Context, Result};
use postgres::Transaction;

use super::{Direction, Event, OnEvent, Runner, Step};
use crate::error::Refusal;
use crate::migrate::execute::{
    FileLimits, place_batch_notices, place_open_transaction_notices, run_batch,
    run_in_open_transaction, set_sql,
};
use crate::migrate::history::{History, HistoryRow};
use crate::migrate::plan;
use crate::migrate::project::{Migration, Project};
use crate::migrate::retry::views_in_the_way;
use crate::migrate::views::{self, FailedView, ViewChange};
use crate::notices::Notices;

/// What the one transaction did, kept until it commits.
#[derive(Default)]
struct Done {
    steps: Vec<Step>,
    views: Vec<ViewChange>,
    notes: Vec<String>,
}

/// A pending migration as the transaction runs it.
struct Planned<'p> {
    migration: &'p Migration,
    limits: FileLimits,
    /// The session reset, the file's limits again, and its history row.
    epilogue: String,
    out_of_order: bool,
}

impl Runner<'_> {
    /// Applies pending migrations up to `to` (all when `None`) and rebuilds views, all in one
    /// transaction (see the module's comment).
    pub fn up_in_one_transaction(&mut self, to: Option<i64>) -> Result<()> {
        self.report.single_transaction = true;
        // A database without a history gets one inside the transaction, so that a failed
        // first deploy leaves no trace.
        self.defer_history = true;
        self.locked(|runner, rows| {
            let pending = plan::up(runner.project, &rows, to, runner.options.allow_out_of_order)?;
            refuse_no_transaction(&pending)?;
            if runner.options.dry_run {
                runner.note(
                    "--single-transaction: BEGIN before the first migration, COMMIT after the \
                     view rebuild; nothing is applied unless everything is"
                        .to_string(),
                );
                runner.apply_all(&pending, &rows)?;
                return runner.rebuild_views(&rows, &pending, &[]);
            }
            runner.apply_in_one_transaction(&pending, &rows)
        })
    }

    fn apply_in_one_transaction(
        &mut self,
        pending: &[&Migration],
        rows: &[HistoryRow],
    ) -> Result<()> {
        let newest_applied = rows.iter().map(|r| r.version).max();
        let reset = self.reset_sql()?;
        let mut planned = Vec::with_capacity(pending.len());
        for &migration in pending {
            let out_of_order = plan::is_out_of_order(migration.version, newest_applied);
            let record = self.history.record_statement(migration, out_of_order)?;
            let limits = FileLimits::of(&self.options.limits, &migration.up);
            planned.push(Planned {
                migration,
                epilogue: format!("{reset}{}{record};\n", limits.set_local()),
                limits,
                out_of_order,
            });
        }
        let before: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
        let mut after = before.clone();
        after.extend(pending.iter().map(|m| m.version));
        let run_limits = FileLimits::of_run(&self.options.limits);
        let whole = Whole {
            history: self.history.clone(),
            project: self.project,
            notices: self.notices.clone(),
            on_event: self.on_event.clone(),
            reset: reset.clone(),
            run_limits,
            create_history: self.history_missing,
            before,
            after,
            newest_applied,
            failed: RefCell::new(None),
        };
        let what = "the single transaction";
        let outcome = self.attempt(what, &run_limits, |client| whole.run(client, &planned));
        let said = self.notices.take(None);
        let done = match outcome {
            Ok(done) => done,
            Err(err) => {
                self.report_notices(said);
                if let Some(failed) = whole.failed.into_inner() {
                    self.history_missing = false;
                    self.record_failed_view(&err, failed);
                }
                let pending = match pending.len() {
                    1 => "the pending migration".to_string(),
                    n => format!("the {n} pending migrations"),
                };
                return Err(err.context(format!(
                    "the single transaction was rolled back, so none of {pending} of this run \
                     is applied and the history is as it was"
                )));
            }
        };
        self.history_missing = false;
        let attempts = self.attempts.max(1);
        for mut step in done.steps {
            step.attempts = attempts;
            self.report.steps.push(step);
        }
        for note in done.notes {
            self.note(note);
        }
        for change in done.views {
            (self.on_event)(Event::View(&change));
            self.report.views.push(change);
        }
        self.report_notices(said);
        Ok(())
    }

    /// Records which view file failed the rebuild, once the transaction is rolled back (a
    /// failed first deploy has no history table to record it in: then it is only the error).
    fn record_failed_view(&mut self, err: &anyhow::Error, failed: FailedView) {
        let exists = self.history.read(self.client).map(|rows| rows.is_some());
        if exists.unwrap_or(false) {
            self.record_view_failure(err, Some(failed));
        }
    }
}

/// Refuses a run with a pending no-transaction migration, naming the first.
fn refuse_no_transaction(pending: &[&Migration]) -> Result<(), Refusal> {
    let Some(at) = pending.iter().position(|m| m.up.no_transaction) else {
        return Ok(());
    };
    let before = match at {
        0 => None,
        at => Some(pending[at - 1].version),
    };
    Err(Refusal::NoTransactionInSingle {
        file: pending[at].up.path.clone(),
        version: pending[at].version,
        before,
    })
}

/// Everything one attempt of the transaction needs, apart from the runner's client.
struct Whole<'p> {
    history: History,
    project: &'p Project,
    notices: Notices,
    on_event: OnEvent,
    reset: String,
    run_limits: FileLimits,
    create_history: bool,
    /// The versions applied before the run, and once it commits.
    before: BTreeSet<i64>,
    after: BTreeSet<i64>,
    newest_applied: Option<i64>,
    /// The view file the rebuild failed on, to record once rolled back.
    failed: RefCell<Option<FailedView>>,
}

impl Whole<'_> {
    /// One attempt: BEGIN, the history (if new), deleted views dropped, each migration and its
    /// row, the view rebuild, COMMIT. Any error drops the transaction (rolled back).
    fn run(&self, client: &mut postgres::Client, planned: &[Planned]) -> Result<Done> {
        let mut tx = client
            .transaction()
            .context("starting the single transaction")?;
        if self.create_history {
            self.history.ensure(&mut tx)?;
        }
        let mut done = Done::default();
        let guard = views::Guard {
            reset: &self.reset,
            notices: &self.notices,
            failed: None,
        };
        let (dropped, note) =
            views::drop_deleted(&mut tx, &self.history, self.project, &self.before, &guard)?;
        done.views.extend(dropped);
        done.notes.extend(note);
        for step in planned {
            self.apply(&mut tx, step, &mut done)?;
        }
        if planned.iter().any(|p| p.limits != self.run_limits) {
            // The last file's own limits (set again for its history row) end here.
            let run = &self.run_limits;
            tx.batch_execute(&set_sql(
                run.lock_timeout,
                run.statement_timeout,
                "SET LOCAL",
            ))
            .context("setting the run's limits for the view rebuild")?;
        }
        let guard = views::Guard {
            failed: Some(&self.failed),
            ..guard
        };
        let rebuilt = views::rebuild(
            &mut tx,
            &self.history,
            self.project,
            &self.after,
            Some(&guard),
        )?;
        if !rebuilt.is_empty() {
            views::clear_failures(&mut tx, &self.history)?;
        }
        done.views.extend(rebuilt);
        tx.commit().context("committing the single transaction")?;
        Ok(done)
    }

    /// Runs one migration and writes its history row inside the transaction. When managed
    /// views stand in its way (2BP01, 0A000), it runs again around them in a savepoint taken
    /// before it (only when the project has managed views: a savepoint per file costs a
    /// subtransaction each).
    fn apply(&self, tx: &mut Transaction, step: &Planned, done: &mut Done) -> Result<()> {
        let migration = step.migration;
        let file = &migration.up;
        if step.out_of_order {
            done.notes.push(format!(
                "migration {} ({}) runs out of order, after migration {}",
                migration.version,
                migration.name,
                self.newest_applied.unwrap_or_default()
            ));
        }
        (self.on_event)(Event::Starting(Direction::Up, migration));
        let started = Instant::now();
        if self.project.views.is_empty() {
            let ran = run_in_open_transaction(tx, file, &step.limits, &step.epilogue);
            place_open_transaction_notices(&self.notices, file, &step.limits);
            ran?;
        } else {
            let mut savepoint = tx.savepoint("pgstrata_migration")?;
            let ran = run_in_open_transaction(&mut savepoint, file, &step.limits, &step.epilogue);
            place_open_transaction_notices(&self.notices, file, &step.limits);
            match ran {
                Ok(()) => savepoint.commit()?,
                Err(err) if views_in_the_way(&err) => {
                    savepoint.rollback()?;
                    self.notices.discard();
                    self.around_views(tx, step, done).with_context(|| {
                        format!(
                            "migration {} ({}) was refused by the server because managed \
                                 views depend on what it alters or drops, and running it again \
                                 around those views failed too",
                            migration.version, migration.name
                        )
                    })?;
                }
                Err(err) => return Err(err),
            }
        }
        let step = Step {
            version: migration.version,
            name: migration.name.clone(),
            direction: Direction::Up,
            file: file.path.clone(),
            ms: started.elapsed().as_millis() as u64,
            no_transaction: false,
            attempts: 1,
            out_of_order: step.out_of_order,
            notices: self.notices.take(Some(&file.path)),
            sql: None,
        };
        (self.on_event)(Event::Finished(&step));
        for notice in &step.notices {
            (self.on_event)(Event::Notice(notice));
        }
        done.steps.push(step);
        Ok(())
    }

    /// The migration again, with the managed views in its way dropped before it and those
    /// wanted once it is applied made again after it (see `views::around_all`).
    fn around_views(&self, tx: &mut Transaction, step: &Planned, done: &mut Done) -> Result<()> {
        let file = &step.migration.up;
        let mut after: BTreeSet<i64> = self.before.clone();
        after.extend(done.steps.iter().map(|s| s.version));
        after.insert(step.migration.version);
        let guard = views::Guard {
            reset: &self.reset,
            notices: &self.notices,
            failed: None,
        };
        let targets = file.altered_relations();
        let mut savepoint = tx.savepoint("pgstrata_around_views")?;
        let (changes, note) = views::around_all(
            &mut savepoint,
            &self.history,
            self.project,
            &after,
            &guard,
            &targets,
            |inner| {
                inner
                    .batch_execute(&set_sql(
                        step.limits.lock_timeout,
                        step.limits.statement_timeout,
                        "SET LOCAL",
                    ))
                    .context("setting the file's limits")?;
                self.notices.discard();
                let ran = run_batch(inner, file);
                place_batch_notices(&self.notices, file);
                ran?;
                inner
                    .batch_execute(&step.epilogue)
                    .context("returning the session to its starting state")
            },
        )?;
        savepoint.commit()?;
        done.views.extend(changes);
        done.notes.extend(note);
        Ok(())
    }
}

//! Rolling back: each rollback with the deletion of its history row in one transaction, the
//! managed views that need its version dropped in that transaction and the views depending on
//! them made again there (see `views::around_rollback`); a no-transaction rollback between a
//! `reverting` row and the row's deletion.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Context, Result};

use super::{Direction, Event, Runner, begin_under, interrupted};
use crate::migrate::execute::{
    FileLimits, place_batch_notices, place_one_trip_notices, run_batch, run_in_one_trip,
};
use crate::migrate::history::{HistoryRow, RunState};
use crate::migrate::project::Migration;
use crate::migrate::retry::views_in_the_way;
use crate::migrate::views::{self, Restore, ViewChange};

impl Runner<'_> {
    pub(super) fn roll_back_all(
        &mut self,
        doomed: &[&Migration],
        rows: &[HistoryRow],
    ) -> Result<()> {
        if !self.options.allow_data_loss {
            self.guard_data(doomed, rows)?;
        }
        let mut applied: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
        for migration in doomed {
            applied.remove(&migration.version);
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
            let sql = if self.options.dry_run {
                Some(self.step_sql(migration, Direction::Down, false)?)
            } else {
                None
            };
            if !self.options.dry_run {
                let dropped = if migration.down.no_transaction {
                    self.roll_back_outside_transaction(migration, &applied)?
                } else {
                    self.roll_back_in_transaction(migration, &applied)?
                };
                for change in dropped {
                    (self.on_event)(Event::View(&change));
                    self.report.views.push(change);
                }
            }
            self.record_step(migration, Direction::Down, started, sql, false);
        }
        Ok(())
    }

    /// The rollback, the deletion of its history row and the dropping of the views that
    /// require it, in one transaction, retried whole after a lost lock race.
    fn roll_back_in_transaction(
        &mut self,
        migration: &Migration,
        after: &BTreeSet<i64>,
    ) -> Result<Vec<ViewChange>> {
        let limits = FileLimits::of(&self.options.limits, &migration.down);
        let reset = self.reset_sql()?;
        let (history, project) = (self.history.clone(), self.project);
        let what = format!(
            "the rollback of migration {} ({})",
            migration.version, migration.name
        );
        // The reset clears the file's own limits too; the row's deletion waits under them,
        // like the rollback, while its locks are held.
        let epilogue = format!(
            "{reset}{}{};\n",
            limits.set_local(),
            history.forget_statement(migration.version)
        );
        let drops_views = project.views_require(migration.version);
        if !drops_views {
            // The common case, like a migration: one round trip.
            let result = self.attempt(&what, &limits, |client| {
                run_in_one_trip(client, &migration.down, &limits, &epilogue)
            });
            if let Err(err) = &result
                && views_in_the_way(err)
                && !project.views.is_empty()
            {
                self.run_around_views(&what, &migration.down, after, &limits, &epilogue)?;
                return Ok(Vec::new());
            }
            place_one_trip_notices(&self.notices, &migration.down, &limits);
            self.collect_notices(&migration.down);
            return result.map(|()| Vec::new());
        }
        let notices = self.notices.clone();
        let result = self.attempt(&what, &limits, |client| {
            let mut tx = begin_under(client, &limits)?;
            let guard = views::Guard {
                reset: &reset,
                notices: &notices,
                failed: None,
            };
            let changes = views::around_rollback(
                &mut tx,
                &history,
                project,
                after,
                &guard,
                Restore::InTheSameTransaction,
                |tx| {
                    notices.discard();
                    let ran = run_batch(tx, &migration.down);
                    place_batch_notices(&notices, &migration.down);
                    ran?;
                    tx.batch_execute(&epilogue)
                        .context("returning the session to its starting state")
                },
            )?;
            tx.commit()
                .with_context(|| format!("committing {}", migration.down.path))?;
            Ok(changes)
        });
        if let Err(err) = &result
            && views_in_the_way(err)
        {
            self.run_around_views(&what, &migration.down, after, &limits, &epilogue)?;
            return Ok(Vec::new());
        }
        self.collect_notices(&migration.down);
        result
    }

    /// Drops the views that require the migration and marks it `reverting` in one
    /// transaction (under the run's limits, retried like any other), then runs the rollback
    /// statement by statement.
    fn roll_back_outside_transaction(
        &mut self,
        migration: &Migration,
        after: &BTreeSet<i64>,
    ) -> Result<Vec<ViewChange>> {
        let what = format!(
            "the rollback of migration {} ({})",
            migration.version, migration.name
        );
        let limits = FileLimits::of_run(&self.options.limits);
        let reset = self.reset_sql()?;
        let (history, project) = (self.history.clone(), self.project);
        let notices = self.notices.clone();
        let dropped = self.attempt(&what, &limits, |client| {
            let mut tx = client.transaction().context("starting a transaction")?;
            let guard = views::Guard {
                reset: &reset,
                notices: &notices,
                failed: None,
            };
            // The rollback runs after this commits: the views that depended on the dropped
            // ones are made again here, before it.
            let dropped = views::around_rollback(
                &mut tx,
                &history,
                project,
                after,
                &guard,
                Restore::BeforeTheRollback,
                |tx| {
                    history.set_state(tx, migration.version, RunState::Reverting, None)?;
                    Ok(())
                },
            )?;
            tx.commit().context("marking the rollback as started")?;
            Ok(dropped)
        })?;
        let result = self.run_outside(&what, &migration.down, Some(after));
        self.collect_notices(&migration.down);
        result.with_context(|| interrupted(migration, RunState::Reverting))?;
        self.history.delete(self.client, migration.version)?;
        Ok(dropped)
    }
}

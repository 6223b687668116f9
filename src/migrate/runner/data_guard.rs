//! The runner's data-loss guard: before a `down` or `redo` rolls anything back, every rollback
//! it will run is rehearsed, in order, in one transaction that is then rolled back (see
//! `data_loss`); when one would drop data, nothing runs and the refusal names every object
//! and what it holds. A dry run reports the same figures and refuses nothing.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use postgres::{Client, Transaction};

use super::Runner;
use crate::error::Refusal;
use crate::migrate::data_loss::{self, StepLoss};
use crate::migrate::execute::{FileLimits, run_statement};
use crate::migrate::history::{BASELINE_APPLIED_BY, History, HistoryRow};
use crate::migrate::project::{Migration, Project};
use crate::migrate::retry::views_in_the_way;
use crate::migrate::views::{self, Restore};
use crate::notices::Notices;

impl Runner<'_> {
    /// Rehearses the rollbacks of `doomed` (newest first, from the history `rows`); refuses
    /// them all when one would drop data. In a dry run, only reports what they would drop.
    pub(super) fn guard_data(&mut self, doomed: &[&Migration], rows: &[HistoryRow]) -> Result<()> {
        self.guard_baseline(doomed, rows)?;
        let rehearsal = Rehearsal {
            history: self.history.clone(),
            project: self.project,
            schema: self.options.history_schema.clone(),
            limits: self.options.limits,
            // A dry run has no session baseline; everything it does is rolled back anyway.
            reset: if self.options.dry_run {
                String::new()
            } else {
                self.reset_sql()?
            },
            notices: self.notices.clone(),
            applied: rows.iter().map(|r| r.version).collect(),
        };
        let found = if self.options.dry_run {
            rehearsal.all(self.client, doomed)
        } else {
            let limits = FileLimits::of_run(&self.options.limits);
            // Named as the rollbacks: a lock wait in the rehearsal is theirs.
            let named: Vec<String> = doomed
                .iter()
                .map(|m| format!("{} ({})", m.version, m.name))
                .collect();
            let what = match named.as_slice() {
                [one] => format!("the rollback of migration {one}"),
                _ => format!("the rollbacks of migrations {}", named.join(", ")),
            };
            self.attempt(&what, &limits, |client| rehearsal.all(client, doomed))
        };
        // What the rehearsal made the server say, it says again when the rollbacks run.
        self.notices.discard();
        let found = found?;
        if found.is_empty() {
            return Ok(());
        }
        let refusal = data_loss::refusal(&found);
        self.report.data_loss = found;
        if self.options.dry_run {
            self.note(refusal.replace("; nothing was changed", ""));
            return Ok(());
        }
        bail!(Refusal::DataLoss(refusal))
    }
}

impl Runner<'_> {
    /// Refuses rolling back the migration `baseline` recorded on this database: its rollback
    /// drops everything the database held when it was adopted, which counting rows cannot
    /// measure (tables empty today, functions, types, extensions are gone all the same).
    fn guard_baseline(&mut self, doomed: &[&Migration], rows: &[HistoryRow]) -> Result<()> {
        let Some(baseline) = rows.iter().find(|row| {
            row.applied_by == BASELINE_APPLIED_BY && doomed.iter().any(|m| m.version == row.version)
        }) else {
            return Ok(());
        };
        let refusal = format!(
            "V{} ({}) is the baseline this database was adopted with: its rollback drops every \
             object the database held when it was adopted, whatever its tables hold now; \
             nothing was changed; rerun with --allow-data-loss if that is what is meant",
            baseline.version, baseline.name
        );
        if self.options.dry_run {
            self.note(refusal.replace("; nothing was changed", ""));
            return Ok(());
        }
        bail!(Refusal::DataLoss(refusal))
    }
}

/// What rehearsing rollbacks needs from the run.
struct Rehearsal<'p> {
    history: History,
    project: &'p Project,
    schema: String,
    limits: crate::config::Limits,
    reset: String,
    notices: Notices,
    applied: BTreeSet<i64>,
}

impl Rehearsal<'_> {
    /// Every rollback of `doomed` in order, in one transaction rolled back at the end; what
    /// each would drop.
    fn all(&self, client: &mut Client, doomed: &[&Migration]) -> Result<Vec<StepLoss>> {
        let mut tx = client
            .transaction()
            .context("starting the rehearsal of the rollbacks")?;
        let mut applied = self.applied.clone();
        let mut found = Vec::new();
        for migration in doomed {
            applied.remove(&migration.version);
            let own = FileLimits::of(&self.limits, &migration.down).set_local();
            if !own.is_empty() {
                tx.batch_execute(&own)
                    .context("setting the file's lock_timeout and statement_timeout")?;
            }
            let losses = data_loss::rehearse(&mut tx, &self.schema, |tx| {
                self.one(tx, migration, &applied)
            })?;
            if !losses.is_empty() {
                found.push(StepLoss {
                    version: migration.version,
                    file: migration.down.path.clone(),
                    losses,
                });
            }
        }
        tx.rollback()
            .context("ending the rehearsal of the rollbacks")?;
        Ok(found)
    }

    /// One rollback, as the run will do it: the managed views needing its version dropped
    /// (and their dependents made again) around it, or, when the server refuses it because of
    /// views, run around the views in its way. A no-transaction file's statements that cannot
    /// run in a transaction (CONCURRENTLY and the like) drop no data and are left out.
    fn one(
        &self,
        tx: &mut Transaction,
        migration: &Migration,
        after: &BTreeSet<i64>,
    ) -> Result<()> {
        let file = &migration.down;
        let guard = views::Guard {
            reset: &self.reset,
            notices: &self.notices,
            failed: None,
        };
        let run = |tx: &mut Transaction| -> Result<()> {
            for statement in &file.statements {
                if file.no_transaction && statement.class.needs_autocommit.is_some() {
                    continue;
                }
                run_statement(tx, file, statement)?;
            }
            Ok(())
        };
        let drops_views = self.project.views_require(migration.version);
        let mut first = tx.savepoint("pgstrata_first_try")?;
        let tried = if drops_views {
            views::around_rollback(
                &mut first,
                &self.history,
                self.project,
                after,
                &guard,
                Restore::InTheSameTransaction,
                run,
            )
            .map(|_| ())
        } else {
            run(&mut first)
        };
        match tried {
            Ok(()) => Ok(first.commit()?),
            Err(err) if views_in_the_way(&err) => {
                first.rollback()?;
                let targets = file.altered_relations();
                views::around_all(
                    tx,
                    &self.history,
                    self.project,
                    after,
                    &guard,
                    &targets,
                    run,
                )
                .map(|_| ())
            }
            Err(err) => Err(err),
        }
    }
}

//! The runner's part in managed views: dropping deleted views before migrations, the rebuild
//! after them (its failure recorded for `status`), and running a migration or rollback again
//! around the views when the server refused it because views were in its way. What is done to
//! the views themselves is `views`' business.

use std::cell::RefCell;
use std::collections::BTreeSet;

use anyhow::{Context, Result};

use super::{Event, Runner, begin_under};
use crate::migrate::execute::{FileLimits, place_batch_notices, run_batch};
use crate::migrate::history::HistoryRow;
use crate::migrate::project::{Migration, SqlFile};
use crate::migrate::views::{self, ViewChange};

impl Runner<'_> {
    /// Before migrations run: drops the managed views whose files are gone, so that a
    /// migration may drop what they read (see `views::drop_deleted`).
    pub(super) fn drop_deleted_views(&mut self, rows: &[HistoryRow]) -> Result<()> {
        if self.options.dry_run {
            return Ok(());
        }
        let applied: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
        let limits = FileLimits::of_run(&self.options.limits);
        let reset = self.reset_sql()?;
        let (history, project) = (self.history.clone(), self.project);
        let notices = self.notices.clone();
        let (changes, note) = self.attempt("dropping deleted views", &limits, |client| {
            let guard = views::Guard {
                reset: &reset,
                notices: &notices,
                failed: None,
            };
            views::drop_deleted(client, &history, project, &applied, &guard)
        })?;
        self.report_views(changes, note);
        Ok(())
    }

    /// Rebuilds views for the final set of applied versions.
    pub(super) fn rebuild_views(
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
        let failed = RefCell::new(None);
        let rebuilt = if self.options.dry_run {
            views::rebuild(self.client, &self.history, self.project, &versions, None)
        } else {
            let limits = FileLimits::of_run(&self.options.limits);
            let reset = self.reset_sql()?;
            let (history, project) = (self.history.clone(), self.project);
            let notices = self.notices.clone();
            self.attempt("the view rebuild", &limits, |client| {
                let guard = views::Guard {
                    reset: &reset,
                    notices: &notices,
                    failed: Some(&failed),
                };
                views::rebuild(client, &history, project, &versions, Some(&guard))
            })
        };
        // Each view file's notices are placed in it; anything else (none expected) goes to
        // the rebuild as a whole (`file` null).
        let said = self.notices.take(None);
        let changes = match rebuilt {
            Ok(changes) => changes,
            Err(err) => {
                self.report_notices(said);
                self.record_view_failure(&err, failed.into_inner());
                return Err(err);
            }
        };
        if !changes.is_empty() && !self.options.dry_run {
            views::clear_failures(self.client, &self.history)?;
        }
        // One transaction for the whole run shows its COMMIT here, view changes or none.
        let ends_run = self.report.single_transaction && !self.report.steps.is_empty();
        let sql = (self.options.dry_run && (!changes.is_empty() || ends_run))
            .then(|| self.view_sql(&changes));
        for change in changes {
            (self.on_event)(Event::View(&change));
            self.report.views.push(change);
        }
        if let Some((each, whole)) = sql {
            let first = self.report.views.len() - each.len();
            self.report.view_sql.extend(
                each.into_iter()
                    .enumerate()
                    .map(|(i, sql)| (first + i, sql)),
            );
            (self.on_event)(Event::ViewSql(&whole));
        }
        self.report_notices(said);
        Ok(())
    }

    /// Runs a migration's or rollback's `file` again with the managed views dropped before it
    /// and those wanted at `after` created again after it, in its transaction (see
    /// `views::around_all`), for when the server refused it because views were in its way.
    pub(super) fn run_around_views(
        &mut self,
        what: &str,
        file: &SqlFile,
        after: &BTreeSet<i64>,
        limits: &FileLimits,
        epilogue: &str,
    ) -> Result<()> {
        // The refused attempt is run again whole: what it said is said again.
        self.notices.discard();
        let reset = self.reset_sql()?;
        let (history, project) = (self.history.clone(), self.project);
        let notices = self.notices.clone();
        let done = self.attempt(what, limits, |client| {
            let mut tx = begin_under(client, limits)?;
            let guard = views::Guard {
                reset: &reset,
                notices: &notices,
                failed: None,
            };
            let targets = file.altered_relations();
            let done =
                views::around_all(&mut tx, &history, project, after, &guard, &targets, |tx| {
                    notices.discard();
                    let ran = run_batch(tx, file);
                    place_batch_notices(&notices, file);
                    ran?;
                    tx.batch_execute(epilogue)
                        .context("returning the session to its starting state")
                })?;
            tx.commit()
                .with_context(|| format!("committing {}", file.path))?;
            Ok(done)
        });
        self.collect_notices(file);
        let (changes, note) = done.with_context(|| {
            format!(
                "{what} ({}) was refused by the server because managed views depend on what it \
                 alters or drops, and running it again around those views failed too",
                file.path
            )
        })?;
        self.report_views(changes, note);
        Ok(())
    }

    /// Records which view file the failed rebuild `err` failed on, for `status`; a failure to
    /// record it is a note, never in the way of the rebuild's own error.
    pub(super) fn record_view_failure(
        &mut self,
        err: &anyhow::Error,
        failed: Option<views::FailedView>,
    ) {
        let Some(failed) = failed else {
            return;
        };
        let error = format!("{err:#}");
        if let Err(why) = views::record_failure(self.client, &self.history, &failed, &error) {
            self.note(format!("{why:#}"));
        }
    }

    /// Reports view changes made outside the rebuild, and the note about them, if any.
    pub(super) fn report_views(&mut self, changes: Vec<ViewChange>, note: Option<String>) {
        for change in changes {
            (self.on_event)(Event::View(&change));
            self.report.views.push(change);
        }
        if let Some(note) = note {
            self.note(note);
        }
    }
}

//! How `check` judges a rollback that does not restore the schema exactly, and says what it
//! could not check after a failure.
//!
//! Every object that differs is classified (`snapshot::classify`): column order only; a
//! default, comment or privilege; an object missing or extra; anything else. A rollback may
//! accept a class for its own migration with `-- pgstrata:inexact <class> <reason>`: such a
//! difference is reported as accepted, not as a finding. Any difference of a class it does not
//! accept is still a finding, naming each object's classes.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{CheckEvent, Checker, Finding, FindingKind};
use crate::migrate::project::Migration;
use crate::snapshot::{self, DifferenceClass};

/// A rollback difference its migration's rollback accepts.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub version: i64,
    pub class: DifferenceClass,
    pub reason: String,
    /// The objects that differ in this class only (or in this and other accepted classes).
    pub objects: Vec<String>,
}

/// A migration check did not get to.
#[derive(Debug, Clone, Serialize)]
pub struct NotChecked {
    pub version: i64,
    pub name: String,
}

impl Checker<'_> {
    /// Compares the schema after `migration`'s rollback with the one before it: `exact`,
    /// `accepted` (every difference in a class the rollback accepts) or `inexact` (a finding).
    pub(super) fn judge_rollback(
        &mut self,
        migration: &Migration,
        before: &str,
        rolled_back: &str,
    ) -> &'static str {
        let comparison = snapshot::compare(before, rolled_back, "expected", "actual");
        if comparison.is_same() {
            return "exact";
        }
        let accepts: BTreeSet<DifferenceClass> =
            migration.inexact.iter().map(|i| i.class).collect();
        let (accepted, refused): (Vec<_>, Vec<_>) =
            snapshot::classify(before, rolled_back, &comparison.changes)
                .into_iter()
                .partition(|c| c.classes.is_subset(&accepts));
        let v = migration.version;
        for inexact in &migration.inexact {
            let objects: Vec<String> = accepted
                .iter()
                .filter(|c| c.classes.contains(&inexact.class))
                .map(|c| c.change.to_string())
                .collect();
            if objects.is_empty() {
                continue;
            }
            let note = Accepted {
                version: v,
                class: inexact.class,
                reason: inexact.reason.clone(),
                objects,
            };
            (self.on_event)(CheckEvent::Accepted(&note));
            self.report.accepted.push(note);
        }
        // Only whitespace between blocks differs when nothing was classified: not acceptable.
        if refused.is_empty() && !accepted.is_empty() {
            return "accepted";
        }
        let by_object: Vec<String> = refused
            .iter()
            .map(|c| {
                let classes: Vec<&str> = c.classes.iter().map(|c| c.name()).collect();
                format!("{} ({})", c.change, classes.join(", "))
            })
            .collect();
        let accepted_note = match accepts.is_empty() {
            true => String::new(),
            false => format!(
                "; its rollback accepts only {}",
                accepts
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.add(Finding {
            kind: FindingKind::InexactRollback,
            version: Some(v),
            message: format!(
                "rollback of V{v} is not exact: {} leaves the schema different from before the \
                 migration: {}{accepted_note}. If the difference is intended, accept its class for \
                 this migration with `-- pgstrata:inexact <class> <reason>` in the rollback's \
                 leading comments (classes: {}; a definition difference cannot be accepted)",
                migration.down.path,
                by_object.join("; "),
                DifferenceClass::ACCEPTABLE
                    .map(DifferenceClass::name)
                    .join(", "),
            ),
            changes: refused.iter().map(|c| c.change.clone()).collect(),
            diff: comparison.unified,
            classes: refused,
        });
        "inexact"
    }

    /// After a failure at `failed` (or before the first checked migration when `None`), the
    /// migrations check did not get to: recorded, and said in a finding of their own.
    pub(super) fn not_checked_after(&mut self, failed: Option<i64>) {
        let from = self.options.from.unwrap_or(i64::MIN);
        let after = failed.unwrap_or(i64::MIN);
        let left: Vec<NotChecked> = self
            .project
            .migrations
            .iter()
            .filter(|m| m.version >= from && m.version > after)
            .map(|m| NotChecked {
                version: m.version,
                name: m.name.clone(),
            })
            .collect();
        if left.is_empty() {
            return;
        }
        let at = match failed {
            Some(v) => format!("V{v} failed"),
            None => "a step before the first checked migration failed".to_string(),
        };
        let versions: Vec<String> = left
            .iter()
            .map(|m| format!("V{}__{}", m.version, m.name))
            .collect();
        self.add(Finding {
            kind: FindingKind::NotChecked,
            version: failed,
            message: format!(
                "{at}, so check could not go on: {} later {} not checked: {}",
                left.len(),
                if left.len() == 1 {
                    "migration was"
                } else {
                    "migrations were"
                },
                versions.join(", ")
            ),
            changes: Vec::new(),
            diff: String::new(),
            classes: Vec::new(),
        });
        self.report.not_checked = left;
    }
}

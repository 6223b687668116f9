//! What the library's calls return: the [`Report`] of an `up` or a `down` and the [`Status`]
//! of a database. Plain data, converted from the runner's own records, so the runner can
//! change without changing the API.

use std::time::Duration;

use crate::migrate::{plan, runner};

/// What an `up` or a `down` did, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The migrations applied or rolled back, in the order they ran.
    pub steps: Vec<Step>,
    /// The managed views (`views/`) created, replaced, rebuilt or dropped after them.
    pub views: Vec<ViewChange>,
    /// Things worth knowing that did not stop the run.
    pub notes: Vec<String>,
}

/// One migration applied (`Up`) or rolled back (`Down`), committed with its history row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    /// The file that ran: `migrations/V3__x.sql`, or `rollbacks/V3__x.sql` for a rollback.
    pub file: String,
    /// How long it took, to the millisecond (its last attempt, when it was retried).
    pub duration: Duration,
    /// How many times it ran: more than 1 after lost races for a table lock.
    pub attempts: u32,
    /// Applied after a newer migration ([`Migrator::allow_out_of_order`](crate::Migrator::allow_out_of_order)).
    pub out_of_order: bool,
}

/// Which way a [`Step`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// One managed view's change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ViewChange {
    /// `schema.name`.
    pub view: String,
    /// `views/offering_images.sql`.
    pub file: String,
    /// `created`, `replaced`, `recreated`, `dropped`…, as the CLI's JSON report says it.
    pub action: String,
}

/// Every version known to the project or to the database's history, and whether the
/// database is clean: everything applied as it is on disk, nothing interrupted, every view
/// current.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    pub versions: Vec<VersionStatus>,
    /// Nothing pending, modified, missing or dirty; no invalid index; every view current.
    pub clean: bool,
}

impl Status {
    /// The versions in `state`.
    pub fn in_state(&self, state: VersionState) -> impl Iterator<Item = &VersionStatus> {
        self.versions.iter().filter(move |v| v.state == state)
    }
}

/// One version's line of [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionStatus {
    pub version: i64,
    pub name: String,
    pub state: VersionState,
    /// `migrations/V3__x.sql`, when the file exists.
    pub file: Option<String>,
    /// When it was applied, as the server wrote it; `None` while pending.
    pub applied_at: Option<String>,
    /// How long it took to apply, in milliseconds.
    pub execution_ms: Option<i64>,
    /// Pending, but older than a migration already applied.
    pub out_of_order: bool,
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionState {
    /// Applied, and its file is as it was.
    Applied,
    /// In the project, not applied.
    Pending,
    /// Applied, but its file has changed since.
    Modified,
    /// Applied, but its file is not in the project.
    MissingOnDisk,
    /// A migration or rollback run outside a transaction was interrupted; see
    /// `pgstrata repair`.
    Dirty,
}

impl From<runner::RunReport> for Report {
    fn from(report: runner::RunReport) -> Report {
        Report {
            steps: report
                .steps
                .into_iter()
                .map(|step| Step {
                    version: step.version,
                    name: step.name,
                    direction: match step.direction {
                        runner::Direction::Up => Direction::Up,
                        runner::Direction::Down => Direction::Down,
                    },
                    file: step.file,
                    duration: Duration::from_millis(step.ms),
                    attempts: step.attempts,
                    out_of_order: step.out_of_order,
                })
                .collect(),
            views: report
                .views
                .into_iter()
                .map(|change| ViewChange {
                    action: serde_json::to_value(change.action)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    view: change.view,
                    file: change.file,
                })
                .collect(),
            notes: report.notes,
        }
    }
}

impl From<plan::VersionStatus> for VersionStatus {
    fn from(status: plan::VersionStatus) -> VersionStatus {
        VersionStatus {
            version: status.version,
            name: status.name,
            state: match status.state {
                plan::VersionState::Applied => VersionState::Applied,
                plan::VersionState::Pending => VersionState::Pending,
                plan::VersionState::Modified => VersionState::Modified,
                plan::VersionState::MissingOnDisk => VersionState::MissingOnDisk,
                plan::VersionState::Dirty => VersionState::Dirty,
            },
            file: status.file,
            applied_at: status.applied_at,
            execution_ms: status.execution_ms,
            out_of_order: status.out_of_order,
        }
    }
}

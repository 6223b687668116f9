//! Comparing the project on disk with the history in the database: what is applied, pending,
//! modified, missing or dirty, and which migrations `up` and `down` will run.
//!
//! Pure: takes the loaded project and the history rows (and, for `is_clean`, the invalid
//! indexes read by `invalid_index`), never touches the database.

use serde::Serialize;

use crate::error::Refusal;
use crate::migrate::history::{HistoryRow, RunState};
use crate::migrate::invalid_index::InvalidIndex;
use crate::migrate::project::{Migration, Project};

/// The state of one version, as `status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Applied, and the file is as it was.
    Applied,
    /// On disk, not applied.
    Pending,
    /// Applied, but the migration file has changed since.
    Modified,
    /// Applied, but no file on disk.
    MissingOnDisk,
    /// A no-transaction migration or rollback was interrupted (`running` / `reverting`).
    Dirty,
}

/// One line of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct VersionStatus {
    pub version: i64,
    pub name: String,
    pub state: VersionState,
    /// Path of the migration file, when there is one.
    pub file: Option<String>,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub execution_ms: Option<i64>,
    /// Applied checksum and current file checksum, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_checksum: Option<String>,
    /// The rollback file changed since the migration was applied (allowed; noted).
    pub rollback_modified: bool,
    /// Pending but older than an applied migration: `up` refuses it unless allowed to apply
    /// it out of order.
    pub out_of_order: bool,
    /// Applied while a newer migration was already applied (`up --allow-out-of-order`).
    pub applied_out_of_order: bool,
}

/// Every version known to the project or the history, in version order.
pub fn status(project: &Project, history: &[HistoryRow]) -> Vec<VersionStatus> {
    let newest_applied = history.iter().map(|r| r.version).max();
    let mut versions: Vec<i64> = project
        .migrations
        .iter()
        .map(|m| m.version)
        .chain(history.iter().map(|r| r.version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    // Looked up by version, not searched: a long history is thousands of rows.
    let rows: std::collections::HashMap<i64, &HistoryRow> =
        history.iter().map(|r| (r.version, r)).collect();
    versions
        .into_iter()
        .map(|version| {
            let migration = project.migration(version);
            let row = rows.get(&version).copied();
            version_status(version, migration, row, newest_applied)
        })
        .collect()
}

fn version_status(
    version: i64,
    migration: Option<&Migration>,
    row: Option<&HistoryRow>,
    newest_applied: Option<i64>,
) -> VersionStatus {
    let state = match (migration, row) {
        (_, Some(row)) if row.state != RunState::Applied => VersionState::Dirty,
        (None, Some(_)) => VersionState::MissingOnDisk,
        (Some(m), Some(row)) if m.up.checksum != row.checksum => VersionState::Modified,
        (Some(_), Some(_)) => VersionState::Applied,
        (_, None) => VersionState::Pending,
    };
    let modified = state == VersionState::Modified;
    VersionStatus {
        version,
        name: migration
            .map(|m| m.name.clone())
            .or_else(|| row.map(|r| r.name.clone()))
            .unwrap_or_default(),
        state,
        file: migration.map(|m| m.up.path.clone()),
        applied_at: row.map(|r| r.applied_at.clone()),
        applied_by: row.map(|r| r.applied_by.clone()),
        execution_ms: row.map(|r| r.execution_ms),
        applied_checksum: row.filter(|_| modified).map(|r| r.checksum.clone()),
        file_checksum: migration
            .filter(|_| modified)
            .map(|m| m.up.checksum.clone()),
        rollback_modified: match (migration, row) {
            (Some(m), Some(r)) => m.down.checksum != r.rollback_checksum,
            _ => false,
        },
        out_of_order: row.is_none() && newest_applied.is_some_and(|newest| version < newest),
        applied_out_of_order: row.is_some_and(|r| r.out_of_order),
    }
}

/// True when `status --exit-code` should exit 0: everything applied and unchanged, and no
/// invalid index in the database (an interrupted CONCURRENTLY statement's leftover, which
/// can sit under a migration recorded as applied).
pub fn is_clean(statuses: &[VersionStatus], invalid_indexes: &[InvalidIndex]) -> bool {
    statuses.iter().all(|s| s.state == VersionState::Applied) && invalid_indexes.is_empty()
}

/// Refuses to run anything while a version is dirty.
pub fn refuse_dirty(history: &[HistoryRow]) -> Result<(), Refusal> {
    match history.iter().find(|r| r.state != RunState::Applied) {
        Some(row) => Err(Refusal::Dirty {
            version: row.version,
            name: row.name.clone(),
            state: row.state.as_str().to_string(),
        }),
        None => Ok(()),
    }
}

/// The migrations `up` applies, in order: pending ones up to `to` (inclusive). Refuses when
/// the history and the files disagree in a way that makes applying unsafe, and a pending
/// migration older than an applied one unless `allow_out_of_order`.
pub fn up<'p>(
    project: &'p Project,
    history: &[HistoryRow],
    to: Option<i64>,
    allow_out_of_order: bool,
) -> Result<Vec<&'p Migration>, Refusal> {
    refuse_dirty(history)?;
    if let Some(to) = to.filter(|to| *to != 0 && project.migration(*to).is_none()) {
        return Err(Refusal::UnknownVersion(to));
    }
    for s in status(project, history) {
        match s.state {
            VersionState::Modified => {
                return Err(Refusal::Modified {
                    version: s.version,
                    file: s.file.unwrap_or_default(),
                    applied: s.applied_checksum.unwrap_or_default(),
                    current: s.file_checksum.unwrap_or_default(),
                });
            }
            VersionState::MissingOnDisk => {
                return Err(Refusal::MissingOnDisk {
                    version: s.version,
                    name: s.name,
                });
            }
            _ => {}
        }
    }
    let applied: std::collections::HashSet<i64> = history.iter().map(|r| r.version).collect();
    let pending: Vec<&Migration> = project
        .migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .filter(|m| to.is_none_or(|to| m.version <= to))
        .collect();
    let newest = history.iter().map(|r| r.version).max();
    let late: Vec<&Migration> = pending
        .iter()
        .copied()
        .filter(|m| is_out_of_order(m.version, newest))
        .collect();
    if let (Some(first), Some(newest)) = (late.first(), newest)
        && !allow_out_of_order
    {
        return Err(Refusal::OutOfOrder {
            version: first.version,
            file: first.up.path.clone(),
            newest,
            renames: renames(project, &late, newest),
        });
    }
    Ok(pending)
}

/// Whether applying `version` now would apply it out of order: after a newer one.
pub fn is_out_of_order(version: i64, newest_applied: Option<i64>) -> bool {
    newest_applied.is_some_and(|newest| newest > version)
}

/// How to renumber migrations that are out of order so that they come after every other
/// migration, in their order: (old path, new path) of each migration and rollback.
fn renames(project: &Project, late: &[&Migration], newest: i64) -> Vec<(String, String)> {
    let highest = project
        .migrations
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
        .max(newest);
    let mut out = Vec::new();
    for (offset, migration) in (1..).zip(late) {
        let Some(version) = highest.checked_add(offset) else {
            break;
        };
        for file in [&migration.up, &migration.down] {
            let old = file.path.clone();
            let folder = old.rsplit_once('/').map_or("", |(folder, _)| folder);
            let new = format!("{folder}/V{version}__{}.sql", migration.name);
            out.push((old, new));
        }
    }
    out
}

/// How far `down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// Roll back the newest `n` applied migrations.
    Steps(usize),
    /// Roll back every applied migration newer than this version (0: all of them).
    To(i64),
}

/// The migrations `down` rolls back, newest first. Refuses when one of them is missing on
/// disk or irreversible, before anything runs.
pub fn down<'p>(
    project: &'p Project,
    history: &[HistoryRow],
    target: DownTarget,
) -> Result<Vec<&'p Migration>, Refusal> {
    refuse_dirty(history)?;
    if let DownTarget::To(to) = target
        && to != 0
        && project.migration(to).is_none()
    {
        return Err(Refusal::UnknownVersion(to));
    }
    let mut applied: Vec<&HistoryRow> = history.iter().collect();
    applied.sort_by_key(|r| std::cmp::Reverse(r.version));
    let chosen: Vec<&HistoryRow> = match target {
        DownTarget::Steps(n) => applied.into_iter().take(n).collect(),
        DownTarget::To(to) => applied.into_iter().filter(|r| r.version > to).collect(),
    };
    let mut migrations = Vec::new();
    for row in chosen {
        let Some(migration) = project.migration(row.version) else {
            return Err(Refusal::MissingOnDisk {
                version: row.version,
                name: row.name.clone(),
            });
        };
        if let Some(reason) = &migration.irreversible {
            return Err(Refusal::Irreversible {
                version: migration.version,
                file: migration.down.path.clone(),
                reason: reason.clone(),
            });
        }
        migrations.push(migration);
    }
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::project::SqlFile;

    fn file(path: &str, sql: &str) -> SqlFile {
        SqlFile {
            path: path.into(),
            sql: sql.into(),
            checksum: crate::checksum::sha256_hex(sql),
            ..SqlFile::default()
        }
    }

    fn project(versions: &[i64]) -> Project {
        Project {
            root: ".".into(),
            parsed: true,
            from_cache: false,
            migrations: versions
                .iter()
                .map(|&v| Migration {
                    version: v,
                    name: format!("m{v}"),
                    up: file(&format!("migrations/V{v}__m{v}.sql"), &format!("up {v}")),
                    down: file(&format!("rollbacks/V{v}__m{v}.sql"), &format!("down {v}")),
                    irreversible: None,
                    inexact: Vec::new(),
                })
                .collect(),
            views: vec![],
            warnings: vec![],
        }
    }

    fn row(project: &Project, version: i64) -> HistoryRow {
        let m = project.migration(version).unwrap();
        HistoryRow {
            version,
            name: m.name.clone(),
            checksum: m.up.checksum.clone(),
            rollback_checksum: m.down.checksum.clone(),
            applied_at: "2026-01-01T00:00:00Z".into(),
            applied_by: "test".into(),
            execution_ms: 1,
            state: RunState::Applied,
            out_of_order: false,
        }
    }

    fn versions(migrations: &[&Migration]) -> Vec<i64> {
        migrations.iter().map(|m| m.version).collect()
    }

    #[test]
    fn up_applies_pending_in_order_up_to_target() {
        let p = project(&[1, 2, 5]);
        let history = vec![row(&p, 1)];
        assert_eq!(
            versions(&up(&p, &history, None, false).unwrap()),
            vec![2, 5]
        );
        assert_eq!(
            versions(&up(&p, &history, Some(2), false).unwrap()),
            vec![2]
        );
        assert_eq!(
            up(&p, &history, Some(3), false).unwrap_err(),
            Refusal::UnknownVersion(3)
        );
    }

    #[test]
    fn up_refuses_modified_missing_dirty_and_out_of_order() {
        let p = project(&[1, 2, 3]);
        let mut modified = row(&p, 1);
        modified.checksum = "0".repeat(64);
        assert!(matches!(
            up(&p, &[modified], None, false),
            Err(Refusal::Modified { version: 1, .. })
        ));
        let mut missing = row(&p, 1);
        missing.version = 9;
        assert!(matches!(
            up(&p, &[row(&p, 1), missing], None, false),
            Err(Refusal::MissingOnDisk { version: 9, .. })
        ));
        let mut dirty = row(&p, 2);
        dirty.state = RunState::Running;
        assert!(matches!(
            up(&p, &[row(&p, 1), dirty], None, false),
            Err(Refusal::Dirty { version: 2, .. })
        ));
        assert!(matches!(
            up(&p, &[row(&p, 1), row(&p, 3)], None, false),
            Err(Refusal::OutOfOrder {
                version: 2,
                newest: 3,
                ..
            })
        ));
    }

    #[test]
    fn out_of_order_is_applied_when_allowed_and_the_refusal_names_the_renames() {
        let p = project(&[1, 2, 3, 4, 6]);
        let history = vec![row(&p, 1), row(&p, 4)];
        assert_eq!(
            versions(&up(&p, &history, None, true).unwrap()),
            vec![2, 3, 6]
        );
        let Err(Refusal::OutOfOrder { renames, .. }) = up(&p, &history, None, false) else {
            panic!("refused");
        };
        let pairs: Vec<(&str, &str)> = renames
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("migrations/V2__m2.sql", "migrations/V7__m2.sql"),
                ("rollbacks/V2__m2.sql", "rollbacks/V7__m2.sql"),
                ("migrations/V3__m3.sql", "migrations/V8__m3.sql"),
                ("rollbacks/V3__m3.sql", "rollbacks/V8__m3.sql"),
            ]
        );
        assert!(!is_out_of_order(6, Some(4)) && is_out_of_order(3, Some(4)));
        assert!(!is_out_of_order(3, None));
    }

    #[test]
    fn down_goes_newest_first_and_refuses_irreversible_before_running() {
        let mut p = project(&[1, 2, 3]);
        let history: Vec<HistoryRow> = [1, 2, 3].iter().map(|&v| row(&p, v)).collect();
        assert_eq!(
            versions(&down(&p, &history, DownTarget::Steps(1)).unwrap()),
            vec![3]
        );
        assert_eq!(
            versions(&down(&p, &history, DownTarget::To(1)).unwrap()),
            vec![3, 2]
        );
        assert_eq!(
            versions(&down(&p, &history, DownTarget::To(0)).unwrap()),
            vec![3, 2, 1]
        );
        p.migrations[1].irreversible = Some("drops data".into());
        assert!(matches!(
            down(&p, &history, DownTarget::To(0)),
            Err(Refusal::Irreversible { version: 2, .. })
        ));
        assert_eq!(
            versions(&down(&p, &history, DownTarget::Steps(1)).unwrap()),
            vec![3]
        );
    }

    #[test]
    fn status_flags_each_state() {
        let p = project(&[1, 2, 3, 4]);
        let mut modified = row(&p, 2);
        modified.checksum = "f".repeat(64);
        let mut dirty = row(&p, 3);
        dirty.state = RunState::Reverting;
        let mut gone = row(&p, 1);
        gone.version = 7;
        gone.name = "gone".into();
        let statuses = status(&p, &[row(&p, 1), modified, dirty, gone]);
        let states: Vec<(i64, VersionState)> =
            statuses.iter().map(|s| (s.version, s.state)).collect();
        assert_eq!(
            states,
            vec![
                (1, VersionState::Applied),
                (2, VersionState::Modified),
                (3, VersionState::Dirty),
                (4, VersionState::Pending),
                (7, VersionState::MissingOnDisk),
            ]
        );
        assert!(statuses[3].out_of_order);
        assert_eq!(
            statuses[1].applied_checksum.as_deref(),
            Some(&*"f".repeat(64))
        );
        assert!(!is_clean(&statuses, &[]));
    }

    #[test]
    fn an_invalid_index_makes_status_unclean() {
        let p = project(&[1]);
        let statuses = status(&p, &[row(&p, 1)]);
        assert!(is_clean(&statuses, &[]));
        let index = InvalidIndex {
            schema: "public".into(),
            name: "t_a".into(),
            table_schema: "public".into(),
            table: "t".into(),
            ready: false,
            cause: crate::migrate::invalid_index::Cause::Create,
            note: String::new(),
            fix: vec![],
            ancestors: vec![],
        };
        assert!(!is_clean(&statuses, &[index]));
    }
}

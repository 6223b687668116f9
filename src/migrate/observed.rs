//! The no-op `up`, a deploy's most common case: the history and the managed views read
//! without the lock while the project loads, and the answer whether there is anything to do.

use std::collections::BTreeSet;

use postgres::Client;

use crate::migrate::history::{History, HistoryRow};
use crate::migrate::plan;
use crate::migrate::project::Project;
use crate::migrate::views;

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
        // Tables of an older format go the locked way, which upgrades them.
        let rows = history.read_recorded(client).ok()??.current_rows()?;
        let views = views::read_state_quick(client, &history).ok()?;
        Some(Observed { rows, views })
    }

    /// The newest applied version (`None`: none is).
    pub fn newest(&self) -> Option<i64> {
        self.rows.iter().map(|r| r.version).max()
    }

    /// True when `up --to to` would apply nothing, refuse nothing and change no view.
    pub fn nothing_to_do(&self, project: &Project, to: Option<i64>) -> bool {
        // Refused or not, a late migration is something to do or to say.
        let Ok(pending) = plan::up(project, &self.rows, to, true) else {
            return false;
        };
        // A no-op only syntax-checks the files (no statements classified), which is right only
        // when every file is as it was recorded; an edited rollback goes the long way.
        let rollbacks_as_recorded = self.rows.iter().all(|row| {
            project
                .migration(row.version)
                .is_some_and(|m| m.down.checksum == row.rollback_checksum)
        });
        if !rollbacks_as_recorded {
            return false;
        }
        let applied: BTreeSet<i64> = self.rows.iter().map(|r| r.version).collect();
        pending.is_empty() && views::is_current(project, &applied, &self.views)
    }
}

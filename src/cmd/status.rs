//! `status`: every version and its state, from the files and the history.

use anyhow::Result;
use serde_json::json;

use super::{FOUND, OK, json, load_and_connect, print_json};
use crate::cli::Format;
use crate::config::Settings;
use crate::history::History;
use crate::plan::{self, VersionState};

pub fn run(settings: &Settings, format: Format, exit_code: bool) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    let rows = History::new(&settings.history_schema)
        .read(&mut target.client)?
        .unwrap_or_default();
    let statuses = plan::status(&project, &rows);
    let clean = plan::is_clean(&statuses);
    if json(format) {
        print_json(&json!({"command": "status", "clean": clean, "versions": statuses}));
    } else {
        outln!(
            "{:<7} {:<16} {:<40} {:<21} {:>8}",
            "version",
            "state",
            "name",
            "applied at",
            "ms"
        );
        for s in &statuses {
            let state = serde_json::to_value(s.state).expect("enum serialises");
            let mut state = state.as_str().unwrap_or_default().replace('_', " ");
            if s.out_of_order {
                state.push_str(" (late)");
            }
            outln!(
                "V{:<6} {:<16} {:<40} {:<21} {:>8}",
                s.version,
                state,
                s.name,
                s.applied_at.as_deref().unwrap_or("-"),
                s.execution_ms
                    .map(|ms| ms.to_string())
                    .unwrap_or_else(|| "-".into())
            );
        }
        for s in &statuses {
            explain(s);
        }
        let pending = statuses
            .iter()
            .filter(|s| s.state == VersionState::Pending)
            .count();
        let applied = statuses.len() - pending;
        outln!(
            "{applied} recorded, {pending} pending{}",
            if clean { "; clean" } else { "" }
        );
    }
    Ok(if exit_code && !clean { FOUND } else { OK })
}

/// A line of advice under the table for each version that needs attention.
fn explain(s: &plan::VersionStatus) {
    let file = s.file.as_deref().unwrap_or("");
    match s.state {
        VersionState::Modified => outln!(
            "V{}: {file} changed since it was applied (applied sha256 {}, file {}); restore it, \
             or undo it with `pgstrata down` before editing",
            s.version,
            s.applied_checksum.as_deref().unwrap_or("?"),
            s.file_checksum.as_deref().unwrap_or("?")
        ),
        VersionState::MissingOnDisk => outln!(
            "V{}: applied as {}, but its file is missing; restore it from version control",
            s.version,
            s.name
        ),
        VersionState::Dirty => outln!(
            "V{}: interrupted outside a transaction; see `pgstrata repair --help`",
            s.version
        ),
        VersionState::Pending if s.out_of_order => outln!(
            "V{}: older than an applied migration; `up` will refuse it until it is renumbered",
            s.version
        ),
        _ => {}
    }
    if s.rollback_modified {
        outln!(
            "V{}: its rollback file changed since it was applied",
            s.version
        );
    }
}

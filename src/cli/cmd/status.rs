//! `status`: every version and its state, from the files and the history, and every invalid
//! index in the database with the statements that fix it.

use std::collections::BTreeSet;

use anyhow::Result;
use serde_json::json;

use super::{FOUND, OK, json, load_and_connect, output, print_json};
use crate::cli::Format;
use crate::config::Settings;
use crate::migrate::history::History;
use crate::migrate::invalid_index::{self, InvalidIndex};
use crate::migrate::plan::{self, VersionState};
use crate::migrate::views::{self, plan::Standing};
use crate::shown::escape;

pub fn run(settings: &Settings, format: Format, exit_code: bool) -> Result<u8> {
    let (project, mut target) = load_and_connect(settings)?;
    let rows = History::new(&settings.history_schema)
        .read(&mut target.client)?
        .unwrap_or_default();
    let statuses = plan::status(&project, &rows);
    // A migration recorded as applied can still have left an invalid index behind (an
    // interrupted CONCURRENTLY statement, then `repair --mark-applied`): nothing else shows it.
    let invalid = invalid_index::list(&mut target.client)?;
    let applied: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
    let history = History::new(&settings.history_schema);
    let views = views::status(&mut target.client, &history, &project, &applied)?;
    let clean = plan::is_clean(&statuses, &invalid) && views.iter().all(|v| !v.state.is_pending());
    if json(format) {
        print_json(&json!({
            "command": "status",
            "clean": clean,
            "versions": statuses,
            "views": views,
            "invalid_indexes": invalid,
        }));
    } else {
        let states: Vec<String> = statuses.iter().map(state_words).collect();
        let width = states.iter().map(String::len).max().unwrap_or(0).max(16);
        outln!(
            "{} {:<width$} {:<40} {:<21} {:>8}",
            super::output::version_heading(),
            "state",
            "name",
            "applied at",
            "ms"
        );
        for (s, state) in statuses.iter().zip(&states) {
            outln!(
                "{} {:<width$} {:<40} {:<21} {:>8}",
                super::output::version_cell_headed(s.version),
                state,
                escape(&s.name),
                escape(s.applied_at.as_deref().unwrap_or("-")),
                s.execution_ms
                    .map(|ms| ms.to_string())
                    .unwrap_or_else(|| "-".into())
            );
        }
        for s in &statuses {
            explain(s, settings.allow_out_of_order);
        }
        for index in &invalid {
            explain_invalid(index);
        }
        if !views.is_empty() {
            outln!("{:<48} {:<13} file", "view", "state");
            for v in &views {
                outln!(
                    "{:<48} {:<13} {}",
                    escape(&v.view),
                    standing_words(v.state),
                    escape(&v.file)
                );
            }
            for v in &views {
                if let Some(error) = &v.error {
                    let first = error.lines().next().unwrap_or_default();
                    outln!(
                        "{}: its last rebuild failed: {}",
                        escape(&v.view),
                        escape(first)
                    );
                }
            }
        }
        let pending = statuses
            .iter()
            .filter(|s| s.state == VersionState::Pending)
            .count();
        let recorded = statuses.len() - pending;
        let invalid_count = match invalid.len() {
            0 => String::new(),
            1 => "; 1 invalid index".to_string(),
            n => format!("; {n} invalid indexes"),
        };
        let stale = views.iter().filter(|v| v.state.is_pending()).count();
        let dirty = statuses.iter().any(|s| s.state == VersionState::Dirty);
        let stale = match stale {
            0 => String::new(),
            n if dirty => format!(
                "; {} to rebuild (repair the dirty version, then `pgstrata up` rebuilds them)",
                output::count(n, "view")
            ),
            n => format!(
                "; {} to rebuild (`pgstrata up` does it)",
                output::count(n, "view")
            ),
        };
        outln!(
            "{recorded} recorded, {pending} pending{invalid_count}{stale}{}",
            if clean { "; clean" } else { "" }
        );
    }
    Ok(if exit_code && !clean { FOUND } else { OK })
}

/// A version's state as the table shows it: `applied`, `pending (late)`, `applied out of
/// order`…
fn state_words(s: &plan::VersionStatus) -> String {
    let state = serde_json::to_value(s.state).expect("enum serialises");
    let mut state = state.as_str().unwrap_or_default().replace('_', " ");
    if s.out_of_order {
        state.push_str(" (late)");
    }
    if s.applied_out_of_order {
        state.push_str(" out of order");
    }
    state
}

fn standing_words(standing: Standing) -> &'static str {
    match standing {
        Standing::Current => "current",
        Standing::Changed => "changed",
        Standing::Missing => "missing",
        Standing::Unwanted => "unwanted",
        Standing::NotRequired => "not required",
        Standing::Failed => "failed",
    }
}

/// A line of advice under the table for each version that needs attention (or was applied
/// out of order). `allow_out_of_order`: the setting in pgstrata.toml.
fn explain(s: &plan::VersionStatus, allow_out_of_order: bool) {
    let file = s.file.as_deref().unwrap_or("");
    match s.state {
        VersionState::Modified => outln!(
            "V{}: {file} changed since it was applied (applied sha256 {}, file {}); restore it, \
             or undo it with `pgstrata down` before editing",
            s.version,
            escape(s.applied_checksum.as_deref().unwrap_or("?")),
            s.file_checksum.as_deref().unwrap_or("?")
        ),
        VersionState::MissingOnDisk => outln!(
            "V{}: applied as {}, but its file is missing; restore it from version control",
            s.version,
            escape(&s.name)
        ),
        VersionState::Dirty => outln!(
            "V{}: interrupted outside a transaction; see `pgstrata repair --help`",
            s.version
        ),
        VersionState::Pending if s.out_of_order && allow_out_of_order => outln!(
            "V{}: older than an applied migration; `up` applies it out of order \
             (allow_out_of_order in pgstrata.toml)",
            s.version
        ),
        VersionState::Pending if s.out_of_order => outln!(
            "V{}: older than an applied migration; `up` refuses it until it is renumbered, or \
             applies it out of order with --allow-out-of-order",
            s.version
        ),
        _ if s.applied_out_of_order => outln!(
            "V{}: applied out of order, after a newer migration; `down` still goes by version, \
             newest first",
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

/// Two lines for an invalid index: what it is, and the statements that fix it.
fn explain_invalid(index: &InvalidIndex) {
    outln!(
        "invalid index {}: {}",
        escape(&index.describe()),
        escape(&index.note)
    );
    outln!("  fix: {}", escape(&index.fix_line()));
}

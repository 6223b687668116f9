//! The session every file starts from. A migration's `SET search_path`, `SET ROLE`,
//! `set_config(…)`, temporary table or `SET client_encoding` must not reach the next file of
//! the same run: otherwise applying V1 and V2 in one run and in two runs builds different
//! schemas. This module prepares a new connection, records the session as it is before the
//! first file runs (the baseline), and writes the SQL that returns a session to it after
//! every file, sent in the same round trip as the file's own bookkeeping.
//!
//! It also refuses servers that read strings differently from PostgreSQL's parser
//! (`standard_conforming_strings = off`): pgstrata would split files differently from how the
//! server then reads them.

use anyhow::{Context, Result, bail};
use postgres::error::SqlState;
use postgres::{Client, SimpleQueryMessage};

use crate::config::Limits;
use crate::db::quote_literal;
use crate::migrate::execute::set_sql;

/// Prepares a new connection in one round trip: asks PostgreSQL 14+ to check every second
/// that pgstrata is still there (if pgstrata is killed mid-migration, the server aborts the
/// migration and releases its locks within a second instead of finishing a long statement
/// for nobody), and refuses a server that reads strings with `standard_conforming_strings =
/// off`. Both are utility statements in the simple protocol: a fresh backend plans nothing
/// and looks up no function for them, which a `SELECT` would cost on every connection.
pub fn prepare(client: &mut Client) -> Result<()> {
    const SHOW: &str = "SHOW standard_conforming_strings";
    let answer = match client.simple_query(&format!(
        "SET client_connection_check_interval = 1000; {SHOW}"
    )) {
        Ok(answer) => answer,
        // PostgreSQL 13 and older do not know the setting; that is fine.
        Err(err) if err.code() == Some(&SqlState::UNDEFINED_OBJECT) => client
            .simple_query(SHOW)
            .context("reading standard_conforming_strings")?,
        Err(err) => return Err(err).context("configuring the session"),
    };
    let standard = answer
        .iter()
        .find_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        })
        .context("reading standard_conforming_strings: the server sent no value")?;
    refuse_nonstandard_strings(standard)
}

/// pgstrata's parser reads string literals the way PostgreSQL does by default; a session
/// reading them otherwise would run different statements than the ones pgstrata split.
fn refuse_nonstandard_strings(standard: &str) -> Result<()> {
    if standard != "on" {
        bail!(
            "the server reads string literals with standard_conforming_strings = {standard} \
             (set for this server, database or role); pgstrata splits files the way PostgreSQL \
             reads them by default (on), so the server would read some statements differently \
             from how they were split. Turn it on for the role pgstrata connects as (ALTER ROLE \
             … SET standard_conforming_strings = on) or for this connection \
             (PGOPTIONS='-c standard_conforming_strings=on'), after checking that the files \
             write backslash escapes as E'…'"
        );
    }
    Ok(())
}

/// The session as it was before the first file of a run: who it runs as and the settings made
/// in it (by pgstrata or by a library caller), plus the backend's pid for the watcher.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The backend running the files, for `pg_blocking_pids`.
    pub backend_pid: i32,
    reset: String,
}

impl Baseline {
    /// Puts the run's time limits into the session and reads it (two round trips); call
    /// before the first file runs. The limits are then part of the baseline: every file starts
    /// under them without sending them again.
    pub fn capture(client: &mut Client, limits: &Limits) -> Result<Baseline> {
        client
            .batch_execute(&set_sql(
                limits.lock_timeout,
                limits.statement_timeout,
                "SET",
            ))
            .context("setting lock_timeout and statement_timeout")?;
        let row = client
            .query_typed_one(include_str!("queries/session_baseline.sql"), &[])
            .context("reading the session's settings")?;
        let read = |index: usize| -> Result<String> {
            row.try_get(index)
                .with_context(|| format!("reading the session's settings (column {index})"))
        };
        let session_user = read(0)?;
        let current_user = read(1)?;
        let names: Vec<String> = row.try_get(2).context("reading the session's settings")?;
        let values: Vec<String> = row.try_get(3).context("reading the session's settings")?;
        let backend_pid: i32 = row.try_get(4).context("reading the backend's pid")?;
        refuse_nonstandard_strings(&read(5)?)?;
        Ok(Baseline {
            backend_pid,
            reset: reset_sql(
                &session_user,
                &current_user,
                &names.into_iter().zip(values).collect::<Vec<_>>(),
            ),
        })
    }

    /// SQL that returns the session to the baseline. Every statement in it is transactional,
    /// so it can end a file's own transaction (the session after COMMIT is the baseline) or
    /// run on its own after a no-transaction file.
    pub fn reset_sql(&self) -> &str {
        &self.reset
    }
}

/// The reset: every setting, temporary objects, `currval` state, cursors, LISTEN
/// registrations, then who the session runs as and the settings made in it, the last two in
/// one statement (each statement of a batch costs the server a few microseconds, and this runs
/// after every file). RESET ALL leaves the role alone, and works under any role.
fn reset_sql(session_user: &str, current_user: &str, settings: &[(String, String)]) -> String {
    // RESET ALL returns every setting to its value at connection start (server, database,
    // role and connection options), which is where a fresh connection starts.
    let mut sql =
        String::from("RESET ALL;\nDISCARD TEMP;\nDISCARD SEQUENCES;\nCLOSE ALL;\nUNLISTEN *;\n");
    // Setting session_authorization is allowed back to the user that logged in, and to another
    // user only if that one is a superuser (who set it); it also ends any SET ROLE.
    let role = if current_user == session_user {
        "none"
    } else {
        current_user
    };
    let mut calls = vec![
        set_config("session_authorization", session_user),
        set_config("role", role),
    ];
    calls.extend(settings.iter().map(|(name, value)| set_config(name, value)));
    sql.push_str(&format!("SELECT {};\n", calls.join(", ")));
    sql
}

fn set_config(name: &str, value: &str) -> String {
    format!(
        "pg_catalog.set_config({}, {}, false)",
        quote_literal(name),
        quote_literal(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_restores_user_role_and_session_settings() {
        let sql = reset_sql(
            "admin",
            "owner role",
            &[("search_path".into(), "app, 'x'".into())],
        );
        assert!(sql.starts_with("RESET ALL;\n"), "{sql}");
        assert!(
            sql.ends_with(
                "SELECT pg_catalog.set_config('session_authorization', 'admin', false), \
                 pg_catalog.set_config('role', 'owner role', false), \
                 pg_catalog.set_config('search_path', 'app, ''x''', false);\n"
            ),
            "{sql}"
        );
        let plain = reset_sql("app", "app", &[]);
        assert!(
            plain.contains("set_config('role', 'none', false);"),
            "{plain}"
        );
    }
}

//! Running a `-- pgstrata:no-transaction` file: one statement at a time, each committing on
//! its own, each under its time limits.
//!
//! A statement that loses a lock race is retried on its own: having failed, it committed
//! nothing, and the statements before it are never repeated. `CREATE INDEX CONCURRENTLY` is
//! the exception that commits part of its work: when it fails it leaves an INVALID index.
//! pgstrata notes the table's indexes before running it and, after a failure, drops the
//! invalid indexes it made (with `DROP INDEX CONCURRENTLY`), so that a retry starts clean and a
//! final failure leaves nothing half built. Other CONCURRENTLY statements (`REINDEX`,
//! `DETACH PARTITION`) are not retried: their leftovers need a decision; the error names the
//! invalid indexes left in the database and how to drop them.

use std::time::Duration;

use anyhow::{Context, Result};
use postgres::Client;
use postgres::types::Type;

use crate::db::quote_ident;
use crate::migrate::execute::{FileLimits, place_statement_notices, run_statement, set_sql};
use crate::migrate::project::SqlFile;
use crate::migrate::retry::{self, Attempts, Retry};
use crate::migrate::watch::Watch;
use crate::notices::Notices;
use crate::sql::{IndexName, Statement, text};

/// What a no-transaction run needs from the runner.
pub struct Support<'r> {
    /// What runs, for reports: `migration 5 (add_x)`.
    pub what: &'r str,
    pub watch: &'r Watch,
    pub pid: i32,
    /// SQL returning the session to its baseline (see `session`).
    pub reset: &'r str,
    pub on_retry: &'r mut dyn FnMut(&Retry),
    /// Where the connection's notices arrive; each statement's are placed at it.
    pub notices: &'r Notices,
    /// Runs a statement the server refused because managed views stand in its way again, in
    /// a transaction with those views dropped before it and made again after it.
    pub around_views: &'r mut dyn FnMut(&mut Client, &Statement) -> Result<()>,
}

/// Runs `file` statement by statement, then returns the session to its baseline (also after
/// a failure). The error says how many statements committed before the failing one.
pub fn run(
    client: &mut Client,
    file: &SqlFile,
    limits: &FileLimits,
    mut cx: Support,
) -> Result<()> {
    let result = run_each(client, file, limits, &mut cx);
    // The file's SET commands, and ours, must not reach what runs next.
    let reset = client
        .batch_execute(cx.reset)
        .context("returning the session to its starting state after a no-transaction file");
    result.and(reset)
}

fn run_each(
    client: &mut Client,
    file: &SqlFile,
    limits: &FileLimits,
    cx: &mut Support,
) -> Result<()> {
    let total = file.statements.len();
    let mut in_force: Option<Duration> = None;
    for (done, statement) in file.statements.iter().enumerate() {
        let lock_timeout = limits.lock_timeout_for(statement);
        if in_force != Some(lock_timeout) {
            client
                .batch_execute(&set_sql(lock_timeout, limits.statement_timeout, "SET"))
                .context("setting lock_timeout and statement_timeout")?;
            in_force = Some(lock_timeout);
        }
        let (line, _) = text::line_col(&file.sql, statement.start);
        let what = format!(
            "{}, statement {} of {total} ({}:{line})",
            cx.what,
            done + 1,
            file.path
        );
        // Only statements whose failure leaves nothing behind (or whose leftovers pgstrata
        // removes) are attempted more than once.
        let not_retried = not_retried(statement);
        let attempts = Attempts {
            watch: cx.watch,
            pid: cx.pid,
            lock_timeout,
            retries: if not_retried.is_none() {
                limits.lock_retries
            } else {
                0
            },
            not_retried,
        };
        let notices = cx.notices;
        let result = retry::attempt(client, attempts, &what, cx.on_retry, |client| {
            // Only the last attempt's notices are the statement's; before it ran ours.
            notices.discard();
            run_cleanly(client, file, statement)
        });
        place_statement_notices(notices, file, statement);
        if statement.class.resets_limits {
            // The statement put lock_timeout and statement_timeout back to the session's
            // defaults: send the file's limits again before the next one.
            in_force = None;
        }
        // Views in its way: once more around them, when it can run in a transaction and ran
        // nothing the first time.
        let result = match result {
            Err(err)
                if retry::views_in_the_way(&err)
                    && statement.class.needs_autocommit.is_none()
                    && !statement.class.may_commit =>
            {
                notices.discard();
                let again = (cx.around_views)(client, statement);
                place_statement_notices(notices, file, statement);
                again
            }
            other => other,
        };
        if let Err(err) = result {
            let leftovers = if statement.class.concurrent {
                invalid_indexes_note(client)
            } else {
                String::new()
            };
            return Err(err.context(format!(
                "{}: statement {} of {total} (line {line}) failed; the {done} before it were \
                 committed (no-transaction file){leftovers}",
                file.path,
                done + 1,
            )));
        }
    }
    Ok(())
}

/// A failed statement that committed nothing, or a `CREATE INDEX CONCURRENTLY` whose invalid
/// index pgstrata drops, can run again; other CONCURRENTLY statements cannot, nor can a
/// `CALL` or `DO` that may have committed part of its work before it failed. `None` when it
/// can, else why not.
fn not_retried(statement: &Statement) -> Option<&'static str> {
    if statement.class.may_commit {
        return Some(
            "a CALL, or a DO block that may COMMIT, may have committed part of its work before \
             it failed, and running it again would repeat that part",
        );
    }
    let retryable = !statement.class.concurrent
        || statement.class.concurrent_index.is_some()
        || statement.class.needs_autocommit == Some("DROP INDEX CONCURRENTLY");
    (!retryable).then_some(
        "a failed CONCURRENTLY statement leaves work half done that needs a decision before it \
         runs again",
    )
}

/// Runs one statement; if it is a `CREATE INDEX CONCURRENTLY` that fails, drops the invalid
/// index it left (any invalid index on its table that was not there before).
fn run_cleanly(client: &mut Client, file: &SqlFile, statement: &Statement) -> Result<()> {
    let Some(index) = &statement.class.concurrent_index else {
        return run_statement(client, file, statement);
    };
    let table = qualified_table(index);
    let before: Vec<(String, String)> = indexes(client, &table)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let result = run_statement(client, file, statement);
    if result.is_err() {
        let leftovers: Vec<_> = indexes(client, &table)?
            .into_iter()
            .filter(|(name, valid)| !valid && !before.contains(name))
            .collect();
        if leftovers.is_empty() {
            return result;
        }
        // The drops run without a lock timeout; the one in force (the file's, for a retry of
        // this statement and for the statements after it) is put back after them.
        let in_force: String = client
            .query_typed_one("SELECT pg_catalog.current_setting('lock_timeout')", &[])
            .context("reading lock_timeout")?
            .get(0);
        for ((schema, name), _) in leftovers {
            let index = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
            // Exempt from lock_timeout like every CONCURRENTLY statement, for the same reason;
            // and sent alone, as CONCURRENTLY statements must be.
            client
                .batch_execute("SET lock_timeout = 0")
                .and_then(|()| {
                    client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
                })
                .with_context(|| {
                    format!("dropping the invalid index {index} that the failed statement left")
                })?;
        }
        client
            .query_typed_one(
                "SELECT pg_catalog.set_config('lock_timeout', $1, false)",
                &[(&in_force, Type::TEXT)],
            )
            .context("setting lock_timeout back after dropping the invalid index")?;
    }
    result
}

/// `"schema"."table"` or `"table"`, as the statement named it (resolved with the session's
/// search_path, as the statement was).
fn qualified_table(index: &IndexName) -> String {
    match &index.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&index.table)),
        None => quote_ident(&index.table),
    }
}

/// The indexes of `table`: (schema, name) and whether each is valid.
fn indexes(client: &mut Client, table: &str) -> Result<Vec<((String, String), bool)>> {
    let rows = client
        .query_typed(
            include_str!("queries/table_indexes.sql"),
            &[(&table, Type::TEXT)],
        )
        .with_context(|| format!("listing the indexes of {table}"))?;
    rows.iter()
        .map(|row| Ok(((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?)))
        .collect::<Result<_, postgres::Error>>()
        .with_context(|| format!("reading the indexes of {table}"))
}

/// After a failed CONCURRENTLY statement: the invalid indexes now in the database, each with
/// the statements that fix it (as `pgstrata status` lists them), for the repair message.
fn invalid_indexes_note(client: &mut Client) -> String {
    let Ok(found) = crate::migrate::invalid_index::list(client) else {
        return String::new();
    };
    if found.is_empty() {
        return String::new();
    }
    let each: Vec<String> = found
        .iter()
        .map(|index| format!("{} (fix: {})", index.describe(), index.fix_line()))
        .collect();
    format!(
        "; the database now holds INVALID indexes, which an interrupted CONCURRENTLY statement \
         leaves: {}",
        each.join("; ")
    )
}

//! Statements that cannot run the way pgstrata runs their file, refused when the project is
//! parsed: in one transaction that pgstrata opens and commits (migrations, rollbacks, the view
//! rebuild), or one statement at a time, each committing on its own (no-transaction files).
//! What else a view file may not hold is checked by `views`.

use super::SqlFile;
use crate::sql::{self, Statement, TransactionControl};

/// Refuses, before anything runs, statements that cannot run the way pgstrata runs `file`:
/// in one transaction it opens and commits, or (no-transaction files) one statement at a
/// time, each committing on its own.
pub(super) fn refuse_unrunnable(file: &SqlFile, problems: &mut Vec<String>) {
    let folder = file.path.split('/').next().unwrap_or_default();
    for statement in &file.statements {
        let Some(why) = unrunnable(statement, file, folder) else {
            continue;
        };
        let (line, col) = sql::text::line_col(&file.sql, statement.start);
        problems.push(format!(
            "{}:{line}:{col}: `{}` {why}\n{}",
            file.path,
            statement.head(&file.sql),
            sql::text::excerpt(&file.sql, statement.start)
        ));
    }
}

/// Why `statement` cannot run in `file` as pgstrata runs it, if it cannot.
pub(super) fn unrunnable(statement: &Statement, file: &SqlFile, folder: &str) -> Option<String> {
    let class = &statement.class;
    let each = match folder {
        "rollbacks" => "rollback",
        "views" => "view rebuild",
        _ => "migration",
    };
    let no_transaction_fix = if folder == "views" {
        "; views are rebuilt in one transaction, so it does not belong in a view file".to_string()
    } else {
        "; put `-- pgstrata:no-transaction` in the file's leading comments to run the file \
         statement by statement, each committing on its own"
            .to_string()
    };
    if let Some(copy) = class.copy_with_client {
        return Some(format!(
            "({copy}) exchanges data with the client, which pgstrata does not do; load data \
             with INSERT … VALUES, or COPY from or to a file on the server"
        ));
    }
    if class.resets_limits && !file.no_transaction {
        return Some(
            "would lift the lock_timeout and statement_timeout the file runs under for the rest \
             of it; remove it (pgstrata returns the session to its starting state after every \
             file), or RESET only the settings you changed"
                .to_string(),
        );
    }
    if class.prepares {
        return Some(
            "makes a prepared statement, which outlives the file (the next file would inherit \
             it) and its transaction (a retry after a lost lock race would find it there \
             already); write the statement out, or use a function"
                .to_string(),
        );
    }
    if class.releases_locks {
        return Some(
            "releases every advisory lock of the session, the migration lock pgstrata holds \
             for the run included, so another run could start in the middle of this one; \
             release your own advisory locks by key (pg_advisory_unlock), and instead of \
             DISCARD ALL use DISCARD TEMP, DISCARD PLANS or DISCARD SEQUENCES, or RESET ALL \
             (pgstrata returns the session to its starting state after every file anyway)"
                .to_string(),
        );
    }
    if let Some(setting) = class.changes_reading {
        return Some(format!(
            "changes {setting}, after which the server reads (or encodes) the SQL pgstrata \
             sends differently from how PostgreSQL's parser split it (pgstrata sends UTF-8 \
             with standard conforming strings); remove it"
        ));
    }
    match (class.transaction, file.no_transaction) {
        (Some(TransactionControl::Block), false) => {
            return Some(format!(
                "controls the transaction, but pgstrata runs each {each} in one transaction \
                 that it opens and commits together with its bookkeeping; remove it{}",
                if folder == "views" {
                    ""
                } else {
                    &no_transaction_fix
                }
            ));
        }
        (Some(_), true) => {
            return Some(
                "controls a transaction, but this no-transaction file runs each statement on \
                 its own; move statements that belong together into a migration without \
                 `-- pgstrata:no-transaction`, which runs in one transaction"
                    .to_string(),
            );
        }
        _ => {}
    }
    match (class.needs_autocommit, file.no_transaction) {
        (Some(_), false) => Some(format!(
            "cannot run inside a transaction block, and pgstrata runs each {each} in one{no_transaction_fix}"
        )),
        _ => None,
    }
}

//! The catalog queries prepared once per connection, for a caller that takes many snapshots
//! of one database (`check` takes three per migration). Planning them was about a third of a
//! snapshot's server time on a long history (measured by the server's statement log: 11.5 s
//! of binds against 27 s of execution over a 200-migration check); a prepared statement is
//! planned a few times, then the server keeps its generic plan.
//!
//! While [`Prepared::reading`] runs, the per-kind query helpers of `introspect` find the
//! statements here (a thread-local set for that call only) instead of sending each query's
//! text to be parsed and planned again; outside it they work as before. A statement belongs to
//! the connection it was prepared on: one `Prepared` serves one connection.

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::Result;
use postgres::{Statement, Transaction};

thread_local! {
    static CURRENT: RefCell<Option<HashMap<&'static str, Statement>>> =
        const { RefCell::new(None) };
}

/// Statements prepared on one connection, by query text.
#[derive(Default)]
pub struct Prepared {
    statements: HashMap<&'static str, Statement>,
}

impl Prepared {
    /// Runs `read` with these statements in use on this thread. When it fails, it runs once
    /// more with none kept: a statement can be gone from the session (a migration that ran
    /// `DEALLOCATE ALL`), and a real failure fails again.
    pub fn reading<T>(&mut self, mut read: impl FnMut() -> Result<T>) -> Result<T> {
        match self.with_current(&mut read) {
            Ok(value) => Ok(value),
            Err(_) => {
                self.statements.clear();
                self.with_current(&mut read)
            }
        }
    }

    fn with_current<T>(&mut self, read: &mut impl FnMut() -> Result<T>) -> Result<T> {
        CURRENT.with(|c| *c.borrow_mut() = Some(std::mem::take(&mut self.statements)));
        let result = read();
        self.statements = CURRENT.with(|c| c.borrow_mut().take()).unwrap_or_default();
        result
    }
}

/// The statement for `sql` when a [`Prepared`] is in use on this thread (prepared now if it
/// was not yet); `None` otherwise.
pub(super) fn statement(
    tx: &mut Transaction,
    sql: &'static str,
) -> Option<Result<Statement, postgres::Error>> {
    let known = CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .map(|statements| statements.get(sql).cloned())
    })?;
    if let Some(statement) = known {
        return Some(Ok(statement));
    }
    let prepared = tx.prepare(sql);
    if let Ok(statement) = &prepared {
        CURRENT.with(|c| {
            if let Some(statements) = c.borrow_mut().as_mut() {
                statements.insert(sql, statement.clone());
            }
        });
    }
    Some(prepared)
}

//! One run at a time: a session advisory lock per history schema and database.
//!
//! The lock is taken by polling `pg_try_advisory_lock`, never by blocking in
//! `pg_advisory_lock`: a waiter blocked there while the holder runs
//! `CREATE INDEX CONCURRENTLY` is seen as a deadlock and leaves an invalid index (Flyway
//! #3497, golang-migrate #960). It is held until the connection closes or [`release`];
//! [`with_lock`] releases it on every path. A read replica is refused when the lock is taken:
//! every run that changes something takes it first.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use postgres::Client;
use postgres::types::Type;
use sha2::{Digest, Sha256};

use crate::error::Refusal;

/// The session holding the lock, as `pg_stat_activity` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub application_name: String,
    pub client: String,
    pub user: String,
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {}, application_name {}, client {}, user {}, connected since {}",
            self.pid, self.application_name, self.client, self.user, self.since
        )
    }
}

/// The lock key for a history schema: runs with different history schemas do not block
/// each other. Advisory locks are per database already.
pub fn key(history_schema: &str) -> i64 {
    let digest = Sha256::digest(format!("pgstrata:{history_schema}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Takes the lock, waiting up to `wait`. `on_wait` is called with the holder and the time
/// waited so far when the lock is found busy, then every 10 s while it stays busy (a CI log
/// must not fall silent). On time-out the error (a [`Refusal::LockTimeout`]) names the holder.
pub fn acquire(
    client: &mut Client,
    history_schema: &str,
    wait: Duration,
    mut on_wait: impl FnMut(Option<&Holder>, Duration),
) -> Result<()> {
    let key = key(history_schema);
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    let mut next_report = Duration::ZERO;
    loop {
        // A read replica (a hot standby) grants advisory locks but no write: refused here,
        // before anything is read or tried, without taking the lock (NULL), in the same round
        // trip.
        let locked: Option<bool> = client
            .query_typed_one(
                "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL \
                 ELSE pg_catalog.pg_try_advisory_lock($1) END",
                &[(&key, Type::INT8)],
            )
            .context("taking the migration lock")?
            .get(0);
        match locked {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => bail!(
                "this server is a read replica (pg_is_in_recovery() is true): migrations run on \
                 the primary; point the connection at it (with several hosts, \
                 target_session_attrs=read-write or primary picks it)"
            ),
        }
        if started.elapsed() >= next_report {
            on_wait(holder(client, key)?.as_ref(), started.elapsed());
            next_report += crate::migrate::watch::PROGRESS_EVERY;
        }
        if started.elapsed() >= wait {
            let holder = holder(client, key)?
                .map(|h| h.to_string())
                .unwrap_or_else(|| "it was released just now; try again".to_string());
            bail!(Refusal::LockTimeout {
                waited_s: wait.as_secs(),
                holder,
            });
        }
        std::thread::sleep(pause.min(wait.saturating_sub(started.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Runs `body` with the lock held and releases it whatever `body` returns: a failure must
/// not keep the lock on a connection that lives on (a pool, a library caller, a fleet).
pub fn with_lock<T>(
    client: &mut Client,
    history_schema: &str,
    wait: Duration,
    on_wait: impl FnMut(Option<&Holder>, Duration),
    body: impl FnOnce(&mut Client) -> Result<T>,
) -> Result<T> {
    acquire(client, history_schema, wait, on_wait)?;
    let result = body(client);
    let released = release(client, history_schema);
    match (result, released) {
        (Ok(value), Ok(())) => Ok(value),
        (Err(err), _) => Err(err),
        (Ok(_), Err(err)) => Err(err),
    }
}

/// Releases the lock before the connection closes.
pub fn release(client: &mut Client, history_schema: &str) -> Result<()> {
    client
        .query_typed_one(
            "SELECT pg_catalog.pg_advisory_unlock($1)",
            &[(&key(history_schema), Type::INT8)],
        )
        .context("releasing the migration lock")?;
    Ok(())
}

/// The session holding the lock, if any.
pub fn holder(client: &mut Client, key: i64) -> Result<Option<Holder>> {
    let high = key >> 32 & 0xffff_ffff;
    let low = key & 0xffff_ffff;
    let row = client
        .query_typed_opt(
            include_str!("queries/lock_holder.sql"),
            &[(&high, Type::INT8), (&low, Type::INT8)],
        )
        .context("looking up the migration lock's holder")?;
    Ok(row.map(|row| Holder {
        pid: row.get(0),
        application_name: row.get(1),
        client: row.get(2),
        user: row.get(3),
        since: row.get(4),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_schema_and_is_stable() {
        assert_eq!(key("pgstrata"), key("pgstrata"));
        assert_ne!(key("pgstrata"), key("other"));
    }
}

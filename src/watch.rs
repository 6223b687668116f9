//! Watching a statement while it runs. The file's SQL runs on a scoped worker thread (the
//! connection is blocked until the server answers); the caller's thread meanwhile reports
//! progress every 10 s and, from a second connection opened only when a statement runs
//! longer than a moment, asks the server which sessions block it (`pg_blocking_pids`). A
//! fast migration costs one short-lived thread and no extra connection.
//!
//! The second connection reads `pg_stat_activity` only: it takes no lock and never touches
//! the migration's tables.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use postgres::Client;
use postgres::types::Type;
use serde::Serialize;

use crate::conninfo::ConnInfo;

/// How often a long statement is reported.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// A session that holds a lock the watched statement waits for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// Client address, or `local` for a Unix socket.
    pub client: String,
    /// `active`, `idle in transaction`…
    pub state: String,
    /// Seconds since its transaction began, when it is in one.
    pub transaction_s: Option<f64>,
    /// The first 80 characters of its current (or last) query, on one line.
    pub query: String,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (user {}, application {}, client {}, {}",
            self.pid,
            or_unknown(&self.user),
            or_unknown(&self.application),
            or_unknown(&self.client),
            or_unknown(&self.state)
        )?;
        if let Some(age) = self.transaction_s {
            write!(f, ", transaction open for {age:.1} s")?;
        }
        write!(f, "): {}", self.query)
    }
}

fn or_unknown(text: &str) -> &str {
    if text.is_empty() { "?" } else { text }
}

/// Blockers as one line each, for messages.
pub fn describe(blockers: &[Blocker]) -> String {
    blockers
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A report while a statement runs: how long so far, and who blocks it (empty when it is
/// working, not waiting for a lock).
#[derive(Debug, Clone)]
pub struct Tick<'a> {
    pub elapsed: Duration,
    pub blockers: &'a [Blocker],
}

/// The watcher of one run: the second connection, opened on first need and kept.
pub struct Watch {
    conninfo: Option<ConnInfo>,
    side: Option<Client>,
    /// Opening the second connection failed once; do not try again in this run.
    unavailable: bool,
}

impl Watch {
    /// `conninfo` opens the second connection; `None`: progress only, blockers not named.
    pub fn new(conninfo: Option<ConnInfo>) -> Watch {
        Watch {
            conninfo,
            side: None,
            unavailable: false,
        }
    }

    /// Runs `work` on `client` while watching backend `pid`: `on_tick` every
    /// [`PROGRESS_EVERY`], blockers asked for every `probe_every` once the statement has run
    /// that long. Returns `work`'s result and the last blockers seen (empty if none).
    pub fn run<R: Send>(
        &mut self,
        client: &mut Client,
        pid: i32,
        probe_every: Duration,
        on_tick: &mut dyn FnMut(Tick),
        work: impl FnOnce(&mut Client) -> R + Send,
    ) -> (R, Vec<Blocker>) {
        let started = Instant::now();
        let mut blockers = Vec::new();
        let result = std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel::<()>();
            let worker = scope.spawn(move || {
                let result = work(client);
                let _ = done.send(());
                result
            });
            let mut next_probe = probe_every;
            let mut next_tick = PROGRESS_EVERY;
            loop {
                let wake = next_probe.min(next_tick);
                match finished.recv_timeout(wake.saturating_sub(started.elapsed())) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                let elapsed = started.elapsed();
                if elapsed >= next_probe {
                    if let Some(found) = self.blockers(pid) {
                        // Keep the last non-empty answer: the lock wait may have just ended
                        // in the error being reported.
                        if !found.is_empty() {
                            blockers = found;
                        }
                    }
                    next_probe = elapsed + probe_every;
                }
                if elapsed >= next_tick {
                    on_tick(Tick {
                        elapsed,
                        blockers: &blockers,
                    });
                    next_tick += PROGRESS_EVERY;
                }
            }
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (result, blockers)
    }

    /// The sessions blocking `pid` now; `None` when they cannot be asked for.
    fn blockers(&mut self, pid: i32) -> Option<Vec<Blocker>> {
        let client = self.side()?;
        match read_blockers(client, pid) {
            Ok(blockers) => Some(blockers),
            Err(_) => {
                // A broken side connection only costs the names; try a new one next time.
                self.side = None;
                None
            }
        }
    }

    fn side(&mut self) -> Option<&mut Client> {
        if self.side.is_none() && !self.unavailable {
            match self.conninfo.as_ref().map(ConnInfo::connect) {
                Some(Ok(client)) => self.side = Some(client),
                _ => self.unavailable = true,
            }
        }
        self.side.as_mut()
    }
}

fn read_blockers(client: &mut Client, pid: i32) -> Result<Vec<Blocker>> {
    let rows = client
        .query_typed(include_str!("sql/blockers.sql"), &[(&pid, Type::INT4)])
        .context("asking which sessions block the migration")?;
    rows.iter()
        .map(|row| {
            Ok(Blocker {
                pid: row.try_get(0)?,
                user: row.try_get(1)?,
                application: row.try_get(2)?,
                client: row.try_get(3)?,
                state: row.try_get(4)?,
                transaction_s: row.try_get(5)?,
                query: row.try_get(6)?,
            })
        })
        .collect::<Result<_, postgres::Error>>()
        .context("reading the blocking sessions")
}

/// How often to ask for blockers: four times per lock timeout, so that a wait is seen before
/// it times out, but not more often than every 25 ms nor less often than every second.
pub fn probe_interval(lock_timeout: Duration) -> Duration {
    if lock_timeout.is_zero() {
        return Duration::from_secs(1);
    }
    (lock_timeout / 4).clamp(Duration::from_millis(25), Duration::from_secs(1))
}

//! Watching statements while they run. One thread per run sits beside the runner: while a
//! statement runs longer than a moment it asks the server, over a second connection opened
//! on first need, which sessions block it (`pg_blocking_pids`), and every 10 s it reports
//! the statement still running. The runner's own thread sends each statement and waits for
//! the answer exactly as it would without a watcher: starting and ending a watched statement
//! is a mutex away, with no thread woken and no round trip, so a run of fast migrations pays
//! nothing for it.
//!
//! The second connection reads `pg_stat_activity` only: it takes no lock and never touches
//! the migration's tables.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use postgres::Client;
use postgres::types::Type;
use serde::Serialize;

use crate::conninfo::ConnInfo;

/// How often a long statement is reported.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How often the watcher looks at what runs; the first probe of a statement comes at most
/// this long after its due time.
const POLL: Duration = Duration::from_millis(20);

/// A session that holds a lock the watched statement waits for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// Client address, `local` for a Unix socket, the kind of process for a background one
    /// (`autovacuum worker`), or empty when this role may not see it.
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
        match self.query.as_str() {
            "" => write!(f, ")"),
            query => write!(f, "): `{query}`"),
        }
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

/// A report while a statement runs: what, how long so far, and who blocks it (empty when it
/// is working, not waiting for a lock).
#[derive(Debug, Clone)]
pub struct Tick<'a> {
    pub what: &'a str,
    pub elapsed: Duration,
    pub blockers: &'a [Blocker],
}

/// Where ticks go; called on the watcher's thread.
pub type OnTick = Arc<dyn Fn(Tick) + Send + Sync>;

/// The watcher of one run; dropping it stops its thread.
pub struct Watch {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    next_generation: u64,
    stop: bool,
}

/// The statement being watched.
struct Current {
    generation: u64,
    what: String,
    pid: i32,
    started: Instant,
    probe_every: Duration,
    /// The last non-empty answer, for the report of a wait that ended in an error.
    blockers: Vec<Blocker>,
    /// The latest answer, empty once the wait is over: what a progress line shows.
    blocking_now: Vec<Blocker>,
}

impl Watch {
    /// Starts the watcher's thread. `conninfo` opens the second connection (`None`:
    /// progress only, blockers not named); `on_tick` receives the 10 s reports.
    pub fn start(conninfo: Option<ConnInfo>, on_tick: OnTick) -> Watch {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let watcher = Watcher {
            shared: shared.clone(),
            conninfo,
            side: None,
            unavailable: false,
            on_tick,
        };
        let thread = std::thread::Builder::new()
            .name("pgstrata-watch".into())
            .spawn(move || watcher.run())
            .ok();
        Watch { shared, thread }
    }

    /// Runs `work` (one statement or transaction on backend `pid`) while watching it:
    /// blockers asked for every `probe_every` once it has run that long. Returns `work`'s
    /// result and the last blockers seen (empty if none).
    pub fn watching<R>(
        &self,
        what: &str,
        pid: i32,
        probe_every: Duration,
        work: impl FnOnce() -> R,
    ) -> (R, Vec<Blocker>) {
        {
            let mut state = self.shared.lock();
            let generation = state.next_generation;
            state.next_generation += 1;
            state.current = Some(Current {
                generation,
                what: what.to_string(),
                pid,
                started: Instant::now(),
                probe_every,
                blockers: Vec::new(),
                blocking_now: Vec::new(),
            });
        }
        let result = work();
        let blockers = self
            .shared
            .lock()
            .current
            .take()
            .map(|c| c.blockers)
            .unwrap_or_default();
        (result, blockers)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The watcher's thread and what it owns.
struct Watcher {
    shared: Arc<Shared>,
    conninfo: Option<ConnInfo>,
    side: Option<Client>,
    /// Opening the second connection failed; do not try again in this run.
    unavailable: bool,
    on_tick: OnTick,
}

/// What the watcher has done for the statement of one generation.
struct Seen {
    generation: u64,
    next_probe: Duration,
    next_tick: Duration,
}

impl Watcher {
    fn run(mut self) {
        let mut seen: Option<Seen> = None;
        let mut state = self.shared.lock();
        loop {
            if state.stop {
                return;
            }
            let due = match &state.current {
                Some(current) => {
                    let elapsed = current.started.elapsed();
                    if seen
                        .as_ref()
                        .is_none_or(|s| s.generation != current.generation)
                    {
                        seen = Some(Seen {
                            generation: current.generation,
                            next_probe: current.probe_every,
                            next_tick: PROGRESS_EVERY,
                        });
                    }
                    let mark = seen.as_mut().expect("set just above");
                    let probe = elapsed >= mark.next_probe;
                    let tick = elapsed >= mark.next_tick;
                    if probe || tick {
                        let (generation, pid, what) =
                            (current.generation, current.pid, current.what.clone());
                        if probe {
                            mark.next_probe = elapsed + current.probe_every;
                        }
                        if tick {
                            mark.next_tick += PROGRESS_EVERY;
                        }
                        // Ask and report without holding the lock: the runner must never
                        // wait for the watcher.
                        drop(state);
                        let found = if probe { self.blockers(pid) } else { None };
                        state = self.shared.lock();
                        let still = state
                            .current
                            .as_mut()
                            .filter(|c| c.generation == generation);
                        let Some(current) = still else {
                            continue;
                        };
                        if let Some(found) = found {
                            // Keep the last non-empty answer for the error report: the wait
                            // may have just ended in the error being reported. A progress
                            // line shows the latest: a wait that ended is no longer a wait.
                            if !found.is_empty() {
                                current.blockers = found.clone();
                            }
                            current.blocking_now = found;
                        }
                        if tick {
                            let blockers = current.blocking_now.clone();
                            drop(state);
                            (self.on_tick)(Tick {
                                what: &what,
                                elapsed,
                                blockers: &blockers,
                            });
                            state = self.shared.lock();
                        }
                        continue;
                    }
                    POLL.min(mark.next_probe.min(mark.next_tick) - elapsed)
                }
                None => POLL,
            };
            state = match self.shared.wake.wait_timeout(state, due) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
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
        .query_typed(include_str!("queries/blockers.sql"), &[(&pid, Type::INT4)])
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

//! Clean-up when a run is stopped from outside and at process exit: run what was registered
//! (cancel the statement in flight, drop `check`'s temporary database), stop scratch servers
//! and delete their directories.
//!
//! Ctrl-C (SIGINT), SIGTERM (CI cancellation, `docker stop`, Kubernetes, systemd) and SIGHUP
//! (a closed terminal or SSH session) all do the same clean-up; the exit code says which came:
//! 128 + the signal's number (130, 143, 129), as a shell reports a process killed by it.
//!
//! Other modules register what must be undone; this module owns the signal handling thread and
//! the `atexit` hook and must not do anything else. Only the binary (`cmd::run`) installs the
//! handlers: a program using pgstrata as a library keeps its own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use libc::c_int;
use postgres::CancelToken;
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

struct Registry {
    /// Scratch servers still running: postmaster pid and the directory to delete.
    servers: Vec<(u32, PathBuf)>,
    /// Work to do when a signal stops the run, in the order it was registered: cancelling a connection's
    /// statement, dropping `check`'s temporary database.
    cleanups: Vec<(u64, Cleanup)>,
    next_id: u64,
}

type Cleanup = Box<dyn FnOnce() + Send>;

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    servers: Vec::new(),
    cleanups: Vec::new(),
    next_id: 0,
});
static INSTALL: Once = Once::new();
/// Set first thing when a stopping signal arrives.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The stopping signal that arrived (0: none yet), for clean-ups that pass it on.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The stopping signal that arrived, once one has: a clean-up that stops child processes
/// (`--targets`) sends them the same one, so each ends as it would have alone.
pub fn signal() -> Option<c_int> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The signals that stop a run, with what is printed when one arrives.
const STOPPING: [(c_int, &str); 3] = [
    (SIGINT, "interrupted"),
    (SIGTERM, "terminated (SIGTERM)"),
    (SIGHUP, "hung up (SIGHUP)"),
];

/// Installs the handling of SIGINT, SIGTERM and SIGHUP (once). When one arrives every
/// registered clean-up runs (cancelling statements first, as connections register before
/// anything else), every scratch server is stopped and deleted, and the process exits with
/// 128 + the signal's number.
///
/// The work happens on a thread of its own that waits for the signals (signal-hook's
/// self-pipe), not in a signal handler, where almost nothing may be done safely.
pub fn install_signal_handlers() -> std::io::Result<()> {
    static HANDLER: Once = Once::new();
    let mut result = Ok(());
    HANDLER.call_once(|| {
        result = Signals::new(STOPPING.iter().map(|(signal, _)| *signal)).and_then(|signals| {
            std::thread::Builder::new()
                .name("pgstrata-signals".into())
                .spawn(move || wait_for_signals(signals))
                .map(|_| ())
        });
    });
    result
}

fn wait_for_signals(mut signals: Signals) {
    // The first stopping signal wins; a second one (an impatient Ctrl-C) waits in the pipe
    // while the clean-up it would cut short runs.
    if let Some(signal) = signals.forever().next() {
        SIGNAL.store(signal, Ordering::SeqCst);
        INTERRUPTED.store(true, Ordering::SeqCst);
        run_cleanups();
        stop_servers();
        let what = STOPPING
            .iter()
            .find(|(s, _)| *s == signal)
            .map_or("stopped", |(_, what)| what);
        eprintln!("{what}");
        std::process::exit(exit_code(signal));
    }
}

/// 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
pub fn exit_code(signal: c_int) -> i32 {
    128 + signal
}

/// True once a stopping signal arrived: the handling thread is cleaning up and will end the
/// process. The command, whose statement was just cancelled, must then neither report nor exit
/// itself (exiting would cut the clean-up short): see `wait_for_handler`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Blocks until the signal handling thread has cleaned up and ended the process.
pub fn wait_for_handler() -> ! {
    loop {
        std::thread::park();
    }
}

/// Remembers a scratch server so that it is stopped and deleted even if its owner is never
/// dropped (a `static` in a test binary) or the run is stopped by a signal.
pub fn register_server(pid: u32, dir: PathBuf) {
    INSTALL.call_once(|| {
        // SAFETY: `at_exit` is an `extern "C"` function without arguments that does not unwind.
        unsafe {
            libc::atexit(at_exit);
        }
    });
    lock().servers.push((pid, dir));
}

/// Forgets a server its owner has stopped and deleted itself.
pub fn unregister_server(pid: u32) {
    lock().servers.retain(|(p, _)| *p != pid);
}

/// Registers the cancelling of a connection's running statement; the returned guard
/// unregisters it when dropped.
pub fn register_cancel(token: CancelToken) -> CleanupGuard {
    register_cleanup(move || {
        // Best effort: the connection may be plain or TLS; the cancel request is sent plain,
        // which every server accepts on the same address.
        let _ = token.cancel_query(postgres::NoTls);
    })
}

/// Registers work to do if the run is stopped by a signal while the returned guard lives (best
/// effort: it must not panic and should not take long).
pub fn register_cleanup(cleanup: impl FnOnce() + Send + 'static) -> CleanupGuard {
    let mut registry = lock();
    let id = registry.next_id;
    registry.next_id += 1;
    registry.cleanups.push((id, Box::new(cleanup)));
    CleanupGuard { id }
}

/// Unregisters a clean-up when what it would undo is gone or kept on purpose.
pub struct CleanupGuard {
    id: u64,
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        lock().cleanups.retain(|(id, _)| *id != self.id);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run_cleanups() {
    let cleanups = std::mem::take(&mut lock().cleanups);
    for (_, cleanup) in cleanups {
        cleanup();
    }
}

extern "C" fn at_exit() {
    stop_servers();
}

fn stop_servers() {
    let servers = std::mem::take(&mut lock().servers);
    for (pid, dir) in servers {
        crate::scratch::kill_and_remove(pid, &dir);
    }
}

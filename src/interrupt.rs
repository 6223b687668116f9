//! Clean-up on Ctrl-C and at process exit: run what was registered (cancel the statement in
//! flight, drop `check`'s temporary database), stop scratch servers and delete their
//! directories.
//!
//! Other modules register what must be undone; this module owns the signal handler and the
//! `atexit` hook and must not do anything else.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use postgres::CancelToken;

struct Registry {
    /// Scratch servers still running: postmaster pid and the directory to delete.
    servers: Vec<(u32, PathBuf)>,
    /// Work to do on Ctrl-C, in the order it was registered: cancelling a connection's
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
/// Set first thing on Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once). On Ctrl-C every registered clean-up runs (cancelling
/// statements first, as connections register before anything else), every scratch server is
/// stopped and deleted, and the process exits with 130.
pub fn install_ctrl_c_handler() {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        // An error here only means another handler exists; clean-up at exit still runs.
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            run_cleanups();
            stop_servers();
            eprintln!("interrupted");
            std::process::exit(130);
        });
    });
}

/// True once Ctrl-C was pressed: the handler is cleaning up and will exit with 130. The
/// command, whose statement was just cancelled, must then neither report nor exit itself
/// (exiting would cut the clean-up short): see `wait_for_handler`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Blocks until the Ctrl-C handler has cleaned up and ended the process.
pub fn wait_for_handler() -> ! {
    loop {
        std::thread::park();
    }
}

/// Remembers a scratch server so that it is stopped and deleted even if its owner is never
/// dropped (a `static` in a test binary) or the user presses Ctrl-C.
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

/// Registers work to do if the user presses Ctrl-C while the returned guard lives (best
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

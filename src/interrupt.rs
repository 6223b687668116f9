//! Clean-up on Ctrl-C and at process exit: cancel the statement in flight, stop scratch
//! servers and delete their directories.
//!
//! Other modules register what must be undone; this module owns the signal handler and the
//! `atexit` hook and must not do anything else.

use std::path::PathBuf;
use std::sync::{Mutex, Once};

use postgres::CancelToken;

struct Registry {
    /// Scratch servers still running: postmaster pid and the directory to delete.
    servers: Vec<(u32, PathBuf)>,
    /// Connections whose running statement should be cancelled on Ctrl-C.
    cancels: Vec<(u64, CancelToken)>,
    next_cancel_id: u64,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    servers: Vec::new(),
    cancels: Vec::new(),
    next_cancel_id: 0,
});
static INSTALL: Once = Once::new();

/// Installs the Ctrl-C handler (once). On Ctrl-C every registered statement is cancelled,
/// every scratch server stopped and deleted, and the process exits with 130.
pub fn install_ctrl_c_handler() {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        // An error here only means another handler exists; clean-up at exit still runs.
        let _ = ctrlc::set_handler(|| {
            cancel_statements();
            stop_servers();
            eprintln!("interrupted");
            std::process::exit(130);
        });
    });
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

/// Registers a connection's cancel token; the returned guard unregisters it when dropped.
pub fn register_cancel(token: CancelToken) -> CancelGuard {
    let mut registry = lock();
    let id = registry.next_cancel_id;
    registry.next_cancel_id += 1;
    registry.cancels.push((id, token));
    CancelGuard { id }
}

/// Unregisters a cancel token when the connection it belongs to is done.
pub struct CancelGuard {
    id: u64,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        lock().cancels.retain(|(id, _)| *id != self.id);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cancel_statements() {
    let tokens: Vec<CancelToken> = lock().cancels.iter().map(|(_, t)| t.clone()).collect();
    for token in tokens {
        // Best effort: the connection may be plain or TLS; the cancel request is sent plain,
        // which every server accepts on the same address.
        let _ = token.cancel_query(postgres::NoTls);
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

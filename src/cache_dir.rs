//! Where pgstrata keeps what it can rebuild at any time: the initialised scratch cluster
//! (`scratch`) and what a no-op `up` needs of a long history (`migrate::project::cache`).
//! Deleting the folder only costs time.

use std::path::PathBuf;

/// `PGSTRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/pgstrata`, else `~/.cache/pgstrata`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PGSTRATA_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("pgstrata"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".cache").join("pgstrata"))
}

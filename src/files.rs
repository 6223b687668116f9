//! Reading the files a user points pgstrata at (SQL files, `pgstrata.toml`, committed
//! snapshots, the password file): regular files only, and never more than a size cap.
//!
//! A FIFO in `migrations/` used to block the run forever in `open`, and a symlink to
//! `/dev/zero` was read until memory ran out. Here the file is opened without blocking
//! (`O_NONBLOCK`: opening a FIFO for reading no longer waits for a writer) and the opened
//! descriptor is checked with `fstat`, so what is checked is what is read, even if the path is
//! swapped in between. A symlink is followed when its target is a regular file: projects share
//! migrations through symlinks, and git checks symlinks out as such. This module reads bytes
//! and says what went wrong; callers name the file in their own terms.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most a SQL file (migration, rollback, view, committed snapshot) may hold: 64 MiB.
/// Large enough for migrations that carry data (a few hundred thousand INSERTed rows), far
/// below the 1 GB PostgreSQL accepts as one query; every file is read, normalised and hashed
/// on every run, so a mistaken file (a dump, a log, a disk image) is refused rather than
/// read into memory.
pub const MAX_SQL_BYTES: u64 = 64 * 1024 * 1024;

/// The most `pgstrata.toml` or the password file may hold: 1 MiB, a thousand times what a
/// real one needs.
pub const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The path (or the target of its symlink) is not a regular file: `kind` says what it is.
    NotRegular {
        kind: &'static str,
    },
    /// Larger than the cap.
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// Not UTF-8 text: the offset of the first invalid byte.
    NotUtf8 {
        offset: usize,
    },
    Io(io::Error),
}

impl ReadError {
    /// The file does not exist (which callers often treat as "none", not as an error).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(err) if err.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotRegular { kind } => write!(
                f,
                "is {kind}, not a regular file; pgstrata reads only regular files (or symlinks \
                 to them)"
            ),
            ReadError::TooLarge { size, limit } => write!(
                f,
                "is {size} bytes, more than the {} pgstrata reads from one file",
                size_text(*limit)
            ),
            ReadError::NotUtf8 { offset } => write!(
                f,
                "is not UTF-8 text (invalid byte at offset {offset}); save it as UTF-8"
            ),
            ReadError::Io(err) if err.kind() == io::ErrorKind::NotFound => {
                write!(f, "cannot be read: it does not exist (a dangling symlink?)")
            }
            ReadError::Io(err) => write!(f, "cannot be read: {err}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a regular file (following symlinks) of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    read_capped(file, meta.len(), limit)
}

/// [`read_regular`], as UTF-8 text.
pub fn read_regular_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_regular(path, limit)?).map_err(|err| ReadError::NotUtf8 {
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Reads at most `limit` bytes; a file that grew past it since `fstat` is still refused.
/// A file read whole in one `read` (its size as `fstat` gave it, and a short read from a
/// regular file is its end) costs no second `read` to find the end: a no-op `up` reads
/// thousands of files, and system calls are most of that.
fn read_capped(file: File, expected: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    let want = expected.min(limit) as usize;
    let mut bytes = vec![0; want + 1];
    let mut file = file;
    let first = loop {
        match file.read(&mut bytes) {
            Ok(n) => break n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ReadError::Io(err)),
        }
    };
    bytes.truncate(first);
    if first == want {
        // The size `fstat` gave, one byte short of what was asked: the end of the file.
        return Ok(bytes);
    }
    read_rest(file, bytes, limit)
}

/// The rest of a file read in part (a short read, or one that grew since `fstat`), up to
/// its end, capped at `limit`.
fn read_rest(file: File, mut bytes: Vec<u8>, limit: u64) -> Result<Vec<u8>, ReadError> {
    let already = bytes.len() as u64;
    file.take((limit + 1).saturating_sub(already))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Whether `path` names something (a file, a FIFO, a dangling symlink...): such a path is
/// read and refused with the reason, where `Path::is_file` would skip it without a word.
pub fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn kind_of(file_type: &fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "not a plain file"
    }
}

fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64).replace(".0 MiB", " MiB")
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pgstrata-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = scratch_dir("fifo");
        let fifo = dir.join("V1__x.sql");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo, 10).unwrap_err();
        assert!(err.to_string().starts_with("is a FIFO"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn devices_behind_symlinks_are_refused_and_regular_targets_followed() {
        let dir = scratch_dir("links");
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.sql")).unwrap();
        let err = read_regular(&dir.join("zero.sql"), MAX_SQL_BYTES).unwrap_err();
        assert!(
            err.to_string().starts_with("is a character device"),
            "{err}"
        );
        fs::write(dir.join("real.sql"), "SELECT 1;").unwrap();
        std::os::unix::fs::symlink(dir.join("real.sql"), dir.join("link.sql")).unwrap();
        assert_eq!(
            read_regular(&dir.join("link.sql"), 100).unwrap(),
            b"SELECT 1;"
        );
        std::os::unix::fs::symlink(dir.join("gone.sql"), dir.join("dangling.sql")).unwrap();
        let err = read_regular(&dir.join("dangling.sql"), 100).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(exists(&dir.join("dangling.sql")));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_cap_is_inclusive() {
        let dir = scratch_dir("cap");
        fs::write(dir.join("a"), [b'x'; 10]).unwrap();
        assert_eq!(read_regular(&dir.join("a"), 10).unwrap().len(), 10);
        let err = read_regular(&dir.join("a"), 9).unwrap_err();
        assert_eq!(
            err.to_string(),
            "is 10 bytes, more than the 9 bytes pgstrata reads from one file"
        );
        assert_eq!(size_text(64 * 1024 * 1024), "64 MiB");
        assert_eq!(size_text(3 * 1024 * 1024 / 2), "1.5 MiB");
        fs::remove_dir_all(&dir).unwrap();
    }
}

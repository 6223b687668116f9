//! The no-op cache: what loading a project on disk found (names, checksums, directives), kept
//! between runs so that a no-op `up` on a long history looks at its files instead of reading
//! them.
//!
//! A no-op `up` only compares names and checksums with the history, yet reading, hashing and
//! syntax-checking 2,000 files for it took longer than connecting. Like git's index, the cache
//! records how every entry of migrations/, rollbacks/ and views/ looked when the project was
//! loaded (size, modification and change times, inode, device) and is used only while every
//! entry still looks exactly so. Writing a file changes its change time (ctime), which no tool
//! can set back, so an edit, a copy over the file (`cp -p` included) or a checkout shows.
//!
//! A file written within [`SETTLE`] of being looked at could be written again within the same
//! tick of the file system's clock and look unchanged (git's "racily clean" files), so no
//! cache is written while any file is that young: the next run, seconds later, writes it.
//! Only projects of at least [`WORTH_CACHING`] SQL files are cached (smaller ones load faster
//! than a cache is checked), only when they loaded without a problem (so a cached project is
//! one the parser accepted), and a cache is used only by the very program that wrote it.
//!
//! One file per project folder, under [`cache_dir`]. A cache that cannot be read or written
//! only costs time.

use std::borrow::Cow;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Migration, Project, View};
use crate::cache_dir::cache_dir;
use crate::checksum;

/// How long after its last change a file is trusted to look different if changed again: far
/// above any file system's clock tick (FAT's is 2 s; ext4's and XFS's are a scheduler tick).
const SETTLE: Duration = Duration::from_secs(3);

/// The fewest SQL files (migrations, rollbacks, views) for which a cache is written.
const WORTH_CACHING: usize = 100;

/// Changes whenever what is stored changes meaning.
const FORMAT: u32 = 1;

/// The folders whose entries decide whether the cache holds.
const FOLDERS: [&str; 3] = ["migrations", "rollbacks", "views"];

/// The cache of one project folder, and how its files look now.
pub(super) struct Cache {
    file: PathBuf,
    program: String,
    look: Look,
}

/// How a project's files look, without opening one.
struct Look {
    /// A digest of every entry's name, type, size, times, inode and device.
    digest: String,
    /// Whether every entry was last changed at least [`SETTLE`] before it was looked at.
    settled: bool,
}

/// The cache file: for this program, these files, the project they loaded into.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    format: u32,
    program: Cow<'a, str>,
    digest: Cow<'a, str>,
    migrations: Cow<'a, [Migration]>,
    views: Cow<'a, [View]>,
    warnings: Cow<'a, [String]>,
}

impl Cache {
    /// Looks at the project's files; `None` when there is no cache folder, the program cannot
    /// tell who it is, or a folder cannot be listed (the loader then says why).
    pub(super) fn open(root: &Path) -> Option<Cache> {
        let dir = cache_dir()?;
        let program = program()?;
        let canonical = fs::canonicalize(root).ok()?;
        let key = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        let file = dir.join(format!("noop-{}.json", checksum::hex(&key[..12])));
        let look = look(root).ok()?;
        Some(Cache {
            file,
            program,
            look,
        })
    }

    /// The project as it was loaded, when every file still looks as it did then. Its SQL is
    /// not in it: [`Project::parse`] reads the files again.
    pub(super) fn project(&self, root: &Path) -> Option<Project> {
        let text = fs::read(&self.file).ok()?;
        let stored: Stored<'_> = serde_json::from_slice(&text).ok()?;
        if stored.format != FORMAT
            || stored.program != self.program
            || stored.digest != self.look.digest
        {
            return None;
        }
        Some(Project {
            root: root.to_path_buf(),
            migrations: stored.migrations.into_owned(),
            views: stored.views.into_owned(),
            parsed: false,
            from_cache: true,
            warnings: stored.warnings.into_owned(),
        })
    }

    /// Keeps a project just loaded from these files, when it is worth it and safe (see the
    /// module's comment). Best effort: an error only means the next run reads the files.
    pub(super) fn store(&self, project: &Project) {
        let files = 2 * project.migrations.len() + project.views.len();
        if !self.look.settled || files < WORTH_CACHING {
            return;
        }
        let stored = Stored {
            format: FORMAT,
            program: Cow::Borrowed(&self.program),
            digest: Cow::Borrowed(&self.look.digest),
            migrations: Cow::Borrowed(&project.migrations),
            views: Cow::Borrowed(&project.views),
            warnings: Cow::Borrowed(&project.warnings),
        };
        let Ok(text) = serde_json::to_vec(&stored) else {
            return;
        };
        let Some(dir) = self.file.parent() else {
            return;
        };
        // Written aside, then renamed into place: a reader sees the old file or the new one,
        // never half of one, whatever runs at the same time (a fleet runs many).
        let aside = dir.join(format!(".noop-{}.tmp", std::process::id()));
        let written = fs::create_dir_all(dir)
            .and_then(|()| fs::write(&aside, text))
            .and_then(|()| fs::rename(&aside, &self.file));
        if written.is_err() {
            let _ = fs::remove_file(&aside);
        }
    }
}

/// This program, as precisely as is cheap to tell: a cache written by another build (whose
/// loader may read files differently) is not used.
fn program() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(exe).ok()?;
    Some(format!(
        "pgstrata {} {} {}.{} {}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ino()
    ))
}

/// Every entry of the project's folders, sorted, with what changes when its content does.
/// A symlink is looked at through (the loader reads its target).
fn look(root: &Path) -> io::Result<Look> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let settled_before = now.saturating_sub(SETTLE);
    let mut settled = true;
    let mut hasher = Sha256::new();
    for folder in FOLDERS {
        hasher.update(folder.as_bytes());
        let listing = match fs::read_dir(root.join(folder)) {
            Ok(listing) => listing,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                hasher.update(b"\0absent\0");
                continue;
            }
            Err(err) => return Err(err),
        };
        let mut entries = Vec::new();
        for entry in listing {
            let entry = entry?;
            // The entry's own metadata is one `statx` relative to the open folder; a
            // symlink's target needs the whole path.
            let meta = if entry.file_type()?.is_symlink() {
                fs::metadata(entry.path())?
            } else {
                entry.metadata()?
            };
            entries.push((entry.file_name(), meta));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, meta) in entries {
            hasher.update(b"\0");
            hasher.update(name.as_encoded_bytes());
            let changed = [
                Duration::new(meta.mtime() as u64, meta.mtime_nsec() as u32),
                Duration::new(meta.ctime() as u64, meta.ctime_nsec() as u32),
            ];
            // A time before 1970 or after now is as good as young.
            if meta.mtime() < 0 || meta.ctime() < 0 || changed.iter().any(|t| *t >= settled_before)
            {
                settled = false;
            }
            for number in [
                u64::from(meta.mode()),
                meta.len(),
                meta.mtime() as u64,
                meta.mtime_nsec() as u64,
                meta.ctime() as u64,
                meta.ctime_nsec() as u64,
                meta.ino(),
                meta.dev(),
            ] {
                hasher.update(number.to_le_bytes());
            }
        }
    }
    Ok(Look {
        digest: checksum::hex(&hasher.finalize()),
        settled,
    })
}

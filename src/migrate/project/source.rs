//! Where a project's files come from: a folder on disk, or migrations embedded in the program
//! at compile time (`embed_migrations!`, see [`crate::embedded`]). Both are read through the
//! same three questions (is there such a folder, what is in it, what does a file hold), so a
//! project embedded in a binary is validated exactly as the same project on disk.
//!
//! Reading only: names and bytes, what the bytes mean is the loader's business.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::embedded::{Embedded, Entry as EmbeddedEntry};
use crate::files::{self, ReadError};

/// The files of a project.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The project rooted at this folder.
    Disk(&'a Path),
    /// The files `embed_migrations!` put in the program.
    Embedded(&'a Embedded),
}

/// A name in one of the project's folders.
pub(crate) struct Entry {
    pub name: String,
    pub is_dir: bool,
}

impl Source<'_> {
    /// The project root, as messages and the commands that write files beside it name it.
    pub fn root(&self) -> PathBuf {
        match self {
            Source::Disk(root) => root.to_path_buf(),
            Source::Embedded(embedded) => PathBuf::from(embedded.root),
        }
    }

    /// Whether the project has this folder (`migrations`, `rollbacks`, `views`).
    pub fn has_folder(&self, folder: &str) -> bool {
        match self {
            Source::Disk(root) => root.join(folder).is_dir(),
            Source::Embedded(embedded) => embedded.folders.contains(&folder),
        }
    }

    /// The names in a folder, unsorted; none when there is no such folder.
    pub fn entries(&self, folder: &str) -> Result<Vec<Entry>> {
        match self {
            Source::Disk(root) => {
                let dir = root.join(folder);
                let Ok(listing) = fs::read_dir(&dir) else {
                    return Ok(Vec::new());
                };
                let mut entries = Vec::new();
                for entry in listing {
                    let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
                    entries.push(Entry {
                        name: entry.file_name().to_string_lossy().into_owned(),
                        // The entry's own type: no extra stat per file (syscalls are most
                        // of loading).
                        is_dir: entry.file_type().is_ok_and(|t| t.is_dir()),
                    });
                }
                Ok(entries)
            }
            Source::Embedded(embedded) => Ok(embedded
                .entries
                .iter()
                .filter_map(|entry| {
                    let (path, is_dir) = match entry {
                        EmbeddedEntry::File(path, _) | EmbeddedEntry::Other(path) => (path, false),
                        EmbeddedEntry::Folder(path) => (path, true),
                    };
                    let name = path.strip_prefix(folder)?.strip_prefix('/')?;
                    Some(Entry {
                        name: name.to_string(),
                        is_dir,
                    })
                })
                .collect()),
        }
    }

    /// The bytes of `folder/name`, at most [`files::MAX_SQL_BYTES`] of them.
    pub fn read(&self, folder: &str, name: &str) -> Result<Vec<u8>, ReadError> {
        match self {
            Source::Disk(root) => {
                files::read_regular(&root.join(folder).join(name), files::MAX_SQL_BYTES)
            }
            Source::Embedded(embedded) => {
                let relative = format!("{folder}/{name}");
                let bytes = embedded
                    .entries
                    .iter()
                    .find_map(|entry| match entry {
                        EmbeddedEntry::File(path, bytes) if *path == relative => Some(*bytes),
                        _ => None,
                    })
                    .ok_or(ReadError::NotRegular {
                        kind: "not a file embedded in the program",
                    })?;
                if bytes.len() as u64 > files::MAX_SQL_BYTES {
                    return Err(ReadError::TooLarge {
                        size: bytes.len() as u64,
                        limit: files::MAX_SQL_BYTES,
                    });
                }
                Ok(bytes.to_vec())
            }
        }
    }
}

//! A project compiled into the program by [`embed_migrations!`](crate::embed_migrations):
//! the names and bytes of the files of its `migrations/`, `rollbacks/` and `views/` folders,
//! and its `pgstrata.toml`.
//! Nothing is checked when it is built; [`Migrations::embedded`](crate::Migrations::embedded)
//! validates it exactly as a project on disk is validated.

/// The files of a project, embedded in the program at compile time by
/// [`embed_migrations!`](crate::embed_migrations). Load it with
/// [`Migrations::embedded`](crate::Migrations::embedded).
#[derive(Clone, Copy)]
pub struct Embedded {
    /// The folder the files were read from, when the program was built.
    pub(crate) root: &'static str,
    /// Which of `migrations`, `rollbacks` and `views` there were.
    pub(crate) folders: &'static [&'static str],
    pub(crate) entries: &'static [Entry],
}

impl Embedded {
    /// Made by `embed_migrations!` only; its arguments are not an API.
    #[doc(hidden)]
    pub const fn __new(
        root: &'static str,
        folders: &'static [&'static str],
        entries: &'static [Entry],
    ) -> Embedded {
        Embedded {
            root,
            folders,
            entries,
        }
    }

    /// The project's `pgstrata.toml`, when it had one.
    pub(crate) fn settings_file(&self) -> Option<&'static [u8]> {
        self.entries.iter().find_map(|entry| match entry {
            Entry::File(path, bytes) if *path == crate::config::FILE_NAME => Some(*bytes),
            _ => None,
        })
    }

    /// The names of the embedded files, relative to the project root
    /// (`migrations/V1__books.sql`), in file-name order within each folder.
    pub fn file_names(&self) -> impl Iterator<Item = &'static str> {
        self.entries.iter().map(|entry| match entry {
            Entry::File(path, _) | Entry::Other(path) | Entry::Folder(path) => *path,
        })
    }
}

impl std::fmt::Debug for Embedded {
    /// The folder and the file names; not the bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("root", &self.root)
            .field("files", &self.file_names().collect::<Vec<_>>())
            .finish()
    }
}

/// One name in an embedded folder. Written by `embed_migrations!` only; not an API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    /// A `.sql` file (or `pgstrata.toml`): its path relative to the project root, and its
    /// bytes.
    File(&'static str, &'static [u8]),
    /// A subfolder (the loader refuses it: pgstrata reads no subfolder).
    Folder(&'static str),
    /// Any other file: only its name is kept (the loader refuses near misses like `V3__x.SQL`).
    Other(&'static str),
}

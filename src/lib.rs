//! pgstrata: PostgreSQL migrations with paired rollbacks, idempotent views and schema
//! snapshots, proved in CI. This is its library: load a project, apply it, roll it back, ask
//! a database where it stands.
//!
//! ```no_run
//! use pgstrata::{Down, Migrations, Migrator};
//!
//! // The project's migrations/, rollbacks/ and views/, compiled into the program.
//! static PROJECT: pgstrata::Embedded = pgstrata::embed_migrations!(".");
//!
//! fn main() -> Result<(), pgstrata::Error> {
//!     let migrations = Migrations::embedded(&PROJECT)?; // or Migrations::from_dir("db")?
//!     let migrator = Migrator::new(&migrations);
//!     let url = "postgres://app@localhost/app";
//!     let report = migrator.up(url)?;
//!     for step in &report.steps {
//!         println!("applied V{} {} in {:?}", step.version, step.name, step.duration);
//!     }
//!     let status = migrator.status(url)?;
//!     assert!(status.clean);
//!     migrator.down(url, Down::Steps(1))?;
//!     Ok(())
//! }
//! ```
//!
//! - [`Migrations`]: a project read from a folder ([`Migrations::from_dir`]) or embedded at
//!   compile time ([`embed_migrations!`], [`Migrations::embedded`]), validated before anything
//!   runs.
//! - [`Migrator`]: `up`, `up_to`, `down` and `status` on a connection string or a
//!   [`postgres::Client`], returning a [`Report`] or a [`Status`]. Synchronous, and safe to
//!   call from inside a tokio runtime (see [`Migrator`]).
//! - [`Error`]: every failure, with an [`ErrorKind`] to branch on (refused, lock busy,
//!   checksum mismatch, SQL error at a file's line and column, connection) and the report of
//!   what ran before it.
//!
//! # Features
//!
//! - `cli` (default): the `pgstrata` binary and what only it needs (argument parsing, signal
//!   handling, the scratch server, `check`, `lint`, snapshots). A program that only applies
//!   migrations can depend on `pgstrata = { …, default-features = false }`.
//! - `internals`: the crate's internal modules, public but hidden and unstable, for this
//!   package's own tests and benches. Not an API.
//!
//! # Inside
//!
//! The binary is `cli` (its arguments, and one module per command in `cli::cmd`): each command
//! resolves settings, calls into the modules below and prints the report it gets back.
//! Nothing outside `cli` prints.
//!
//! - `api`: the public API above, translating to and from what follows
//! - `migrate`: the project on disk (or embedded), the plan, and the runner that applies and
//!   rolls back migrations on a live database (history, lock, session, limits and retries,
//!   views)
//! - `sql`: PostgreSQL's own parser on our files: statements and what they are (pure)
//! - `snapshot`: the schema as deterministic SQL text
//! - `check`: the CI proof on a scratch server or a temporary database
//! - `sync`: the trigger toolkit: sync specs, the migrations generated from them, their proof
//! - `scratch`: a throwaway PostgreSQL server (and the processes it runs); `conninfo`:
//!   connections as libpq makes them
//! - `import`: other tools' migration folders converted into a project
//! - `notices`: the server's NOTICE and WARNING messages, attributed to the file that caused them
//! - `config`, `error`, `source_error`, `files`, `secrets`, `shown`, `interrupt`, `db`,
//!   `checksum`, `embedded`: settings, errors and the plumbing every part uses

// Without the binary, much of the plumbing it shares with the library (settings files, lint,
// the parser's extras, the runner's progress events) has no user: unused, not dead.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]

// `embed_migrations!` writes `::pgstrata::…` paths; this lets them resolve inside the crate
// too (its own doc tests and unit tests).
extern crate self as pgstrata;

mod api;
// Public for the paths `embed_migrations!` writes; its one type worth naming is re-exported.
#[doc(hidden)]
pub mod embedded;

pub use api::{
    Database, Direction, Down, Error, ErrorKind, Migrations, Migrator, Report, Status, Step,
    VersionState, VersionStatus, ViewChange,
};
pub use embedded::Embedded;
/// The `postgres` crate pgstrata connects with, for [`Database::Client`]: a client made
/// with another version of it would be another type.
pub use postgres;

/// Embeds a project's `migrations/`, `rollbacks/` and `views/` folders in the program at
/// compile time, as an [`Embedded`] to load with [`Migrations::embedded`].
///
/// The argument is the project folder, relative to the folder of the crate's `Cargo.toml`
/// (default `"."`): `static PROJECT: pgstrata::Embedded = pgstrata::embed_migrations!("db");`
///
/// Every file is embedded with `include_bytes!`, so editing a migration rebuilds the program.
/// A file added or removed is only seen when the crate is rebuilt for another reason; a build
/// script makes cargo watch the folders:
///
/// ```text
/// // build.rs
/// fn main() {
///     for folder in ["db/migrations", "db/rollbacks", "db/views"] {
///         println!("cargo:rerun-if-changed={folder}");
///     }
/// }
/// ```
///
/// Nothing is judged at compile time but the presence of `migrations/`: file names, pairs
/// and SQL are validated when the program loads the project, by the code that validates a
/// project on disk, so a project is refused (or accepted) the same way embedded or not.
pub use pgstrata_macros::embed_migrations;

// The internals. With the `internals` feature (this package's tests and benches) they are
// public but hidden; otherwise private to the crate. Declared twice rather than edited item
// by item, so the boundary is this one list.
mod cache_dir;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod check;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod check;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod checksum;
#[cfg(not(feature = "internals"))]
mod checksum;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod config;
#[cfg(not(feature = "internals"))]
mod config;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod conninfo;
#[cfg(not(feature = "internals"))]
mod conninfo;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod db;
#[cfg(not(feature = "internals"))]
mod db;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod error;
#[cfg(not(feature = "internals"))]
mod error;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod files;
#[cfg(not(feature = "internals"))]
mod files;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod import;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod import;
#[cfg(feature = "cli")]
mod interrupt;
#[cfg(feature = "cli")]
mod lint;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod migrate;
#[cfg(not(feature = "internals"))]
mod migrate;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod notices;
#[cfg(not(feature = "internals"))]
mod notices;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod scratch;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod scratch;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod secrets;
#[cfg(not(feature = "internals"))]
mod secrets;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod shown;
#[cfg(not(feature = "internals"))]
mod shown;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod snapshot;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod snapshot;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod source_error;
#[cfg(not(feature = "internals"))]
mod source_error;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod sql;
#[cfg(not(feature = "internals"))]
mod sql;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod sync;
#[cfg(all(feature = "cli", not(feature = "internals")))]
mod sync;

/// The `pgstrata` command: parses the command line, runs it, and returns the exit code. The
/// whole of `src/main.rs`; not an API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub fn cli_main() -> std::process::ExitCode {
    cli::cmd::main()
}

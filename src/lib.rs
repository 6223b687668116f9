//! pgstrata: PostgreSQL migrations with paired rollbacks, idempotent views and schema
//! snapshots, proved in CI.
//!
//! The binary's commands (`cmd`) are thin: each resolves settings, calls into this library
//! and prints the report it gets back. Nothing outside `cmd` prints.
//!
//! - `migrate`: the project on disk, the plan, and the runner that applies and rolls back
//!   migrations on a live database (history, lock, session, limits and retries, views)
//! - `sql`: PostgreSQL's own parser on our files: statements and what they are (pure)
//! - `snapshot`: the schema as deterministic SQL text
//! - `check`: the CI proof on a scratch server or a temporary database
//! - `scratch`: a throwaway PostgreSQL server; `conninfo`: connections as libpq makes them
//! - `notices`: the server's NOTICE and WARNING messages, attributed to the file that caused them
//! - `config`, `error`, `source_error`, `files`, `secrets`, `shown`, `interrupt`, `process`,
//!   `db`, `checksum`: settings, errors and the plumbing every part uses

pub mod check;
pub mod checksum;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod conninfo;
pub mod db;
pub mod error;
pub mod files;
pub mod import;
pub mod interrupt;
pub mod lint;
pub mod migrate;
pub mod notices;
pub mod process;
pub mod scratch;
pub mod secrets;
pub mod shown;
pub mod snapshot;
pub mod source_error;
pub mod sql;

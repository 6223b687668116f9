//! pgstrata: PostgreSQL migrations with paired rollbacks, idempotent views and schema
//! snapshots, proved in CI.
//!
//! The binary's commands (`cmd`) are thin: each resolves settings, calls into this library
//! and prints the report it gets back. Nothing outside `cmd` prints.
//!
//! - `project`: load and validate migrations/, rollbacks/, views/ (pure)
//! - `plan`: compare the project with the history: status, what up/down run (pure)
//! - `sql`: PostgreSQL's own parser on our files: statements and what they are (pure)
//! - `runner`: apply and roll back under the lock, one transaction each; `views`: rebuild
//! - `history`, `lock`, `execute`, `no_transaction`, `session`, `retry`, `watch`,
//!   `source_error`: the pieces the runner uses
//! - `snapshot`: the schema as deterministic SQL text; `scratch`: a throwaway server
//! - `invalid_index`: what interrupted CONCURRENTLY statements left (`status`, `repair`)
//! - `files`: reading user files (regular files only, with a size cap)

pub mod adopt;
pub mod check;
pub mod checkdb;
pub mod checksum;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod conninfo;
pub mod db;
pub mod error;
pub mod execute;
pub mod files;
pub mod history;
pub mod interrupt;
pub mod invalid_index;
pub mod lock;
pub mod no_transaction;
pub mod plan;
pub mod process;
pub mod project;
pub mod retry;
pub mod runner;
pub mod scratch;
pub mod secrets;
pub mod session;
pub mod snapshot;
pub mod source_error;
pub mod sql;
pub mod views;
pub mod watch;

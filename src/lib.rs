//! pgstrata: PostgreSQL migrations with paired rollbacks, idempotent views and schema
//! snapshots, proved in CI.
//!
//! The binary's commands (`cmd`) are thin: each resolves settings, calls into this library
//! and prints the report it gets back. Nothing outside `cmd` prints.
//!
//! - `project`: load and validate migrations/, rollbacks/, views/ (pure)
//! - `plan`: compare the project with the history: status, what up/down run (pure)
//! - `runner`: apply and roll back under the lock, one transaction each; `views`: rebuild
//! - `history`, `lock`, `execute`, `source_error`: the pieces the runner uses
//! - `snapshot`: the schema as deterministic SQL text; `scratch`: a throwaway server
//! - `files`: reading user files (regular files only, with a size cap)

pub mod adopt;
pub mod check;
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
pub mod lock;
pub mod plan;
pub mod project;
pub mod runner;
pub mod scratch;
pub mod secrets;
pub mod snapshot;
pub mod source_error;
pub mod sqltext;
pub mod views;

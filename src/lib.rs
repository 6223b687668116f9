//! pgstrata: PostgreSQL migrations with paired rollbacks, idempotent views and schema
//! snapshots, proved in CI.
//!
//! The binary's commands are thin: each resolves settings, calls into this library and
//! prints the report it gets back. Nothing in the library prints.

pub mod checksum;
pub mod conninfo;
pub mod db;
pub mod interrupt;
pub mod scratch;
pub mod snapshot;

//! Migrations on a live database. The project on disk (`project`: migrations/, rollbacks/,
//! views/, read and checked before anything runs) is compared with the history (`plan`,
//! pure), and the `runner` applies and rolls back under the migration lock (`lock`), one
//! transaction and one round trip per file (`execute`, `no_transaction` for files that run
//! statement by statement), each file starting from the same session (`session`), under
//! lock and statement time limits, retried after a lost lock race (`retry`) and watched
//! while it runs (`watch`); then `views` are rebuilt. A no-op `up` is answered without the
//! lock (`observed`); `repair` records how an interrupted run ended. `history` owns
//! pgstrata's own tables; `adopt` takes over a refinery database; `baseline` adopts a
//! database no tool managed (its schema becomes the first migration); `invalid_index` finds what an
//! interrupted CONCURRENTLY statement left; `data_loss` rehearses a rollback to find the data
//! it would destroy. Catalog and bookkeeping SQL lives in `queries/`.
//!
//! Nothing here prints: progress goes to the caller through `runner::Event`.

// Takes over a refinery database: a command of the binary's, and refinery is its dependency.
#[cfg(feature = "cli")]
pub mod adopt;
// Made by the command only: it writes a project from a snapshot.
#[cfg(feature = "cli")]
pub mod baseline;
pub mod data_loss;
pub mod execute;
pub mod history;
pub mod invalid_index;
pub mod lock;
pub mod no_transaction;
pub mod observed;
pub mod plan;
pub mod project;
pub mod repair;
pub mod retry;
pub mod runner;
pub mod session;
pub mod views;
pub mod watch;

//! The integration suite: one binary, one scratch PostgreSQL server per run, one fresh
//! database per test (see `harness`).

mod conninfo;
mod harness;
mod scratch;
mod seeds;
mod snapshot;

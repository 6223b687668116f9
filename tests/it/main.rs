//! The integration suite: one binary, one scratch PostgreSQL server per run, one fresh
//! database per test (see `harness`).

mod adopt;
mod check;
mod cli;
mod concurrency;
mod conninfo;
mod drift;
mod harness;
mod parser;
mod runner;
mod scratch;
mod seeds;
mod snapshot;
mod views;

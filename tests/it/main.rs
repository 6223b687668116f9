//! The integration suite: one binary, one scratch PostgreSQL server per run, one fresh
//! database per test (see `harness`).

mod adopt;
mod check;
mod cli;
mod concurrency;
mod conninfo;
mod data_loss;
mod drift;
mod dry_run;
mod environments;
mod harness;
mod inputs;
mod invalid_index;
mod json_errors;
mod lint;
mod lock_gaps;
mod notices;
mod odd_history;
mod package;
mod parser;
mod recipes;
mod runner;
mod safety;
mod scratch;
mod secrets;
mod seeds;
mod session;
mod signals;
mod snapshot;
mod view_graphs;
mod view_review;
mod view_review2;
mod view_review3;
mod views;

//! The `pgstrata` binary: its command line (`args`, clap's definitions, which are also the
//! `--help` text, the completions and the man page) and one module per command (`cmd`).
//! Everything here is behind the `cli` feature; the library never depends on it.

mod args;
pub(crate) mod cmd;

pub(crate) use args::*;

//! `sync verify`: proves a project's sync triggers convergent on a database of its own (a
//! scratch server's, or a temporary one: the caller provides it, empty). Applies the
//! project, fills the spec's tables with generated rows, runs (a) the deterministic
//! interleavings of every risky pair of writes and (b) random concurrent writers, then counts
//! divergent copies (and, for a column kind, values inserted through `new` alone that the
//! row did not keep). Returns a report; never prints.
//!
//! What it proves is bounded by what it runs: the interleavings it knows, the writers' mix,
//! READ COMMITTED sessions (the level the generated triggers are made for), for the time it
//! is given. Zero divergence is evidence, not a proof for every schedule.

mod fill;
mod interleave;
mod ops;
mod target;
mod writers;

pub use interleave::Interleaving;
pub use target::Target;
pub use writers::Traffic;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::conninfo::ConnInfo;
use crate::migrate::project::Project;
use crate::migrate::runner::{OnEvent, Options, Runner};

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub history_schema: String,
    pub limits: crate::config::Limits,
    /// Concurrent random writers.
    pub clients: u32,
    /// How long they write; 0 runs the interleavings only.
    pub seconds: f64,
}

/// What verify did and found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The spec's tables and columns.
    pub target: String,
    /// Rows generated before the races.
    pub rows: u64,
    pub interleavings: Vec<Interleaving>,
    /// Copies that differ once the interleavings ran (before the random writers, which may
    /// overwrite them).
    pub divergent_after_interleavings: i64,
    pub clients: u32,
    pub seconds: f64,
    /// The random writers' transactions.
    pub traffic: Traffic,
    /// Copies that differ at the end.
    pub divergent: i64,
    /// The first few of them, named by their key.
    pub divergent_rows: Vec<String>,
    /// Column kind: values inserted through `new` alone that the row did not keep (the
    /// trigger took `old`, or its default, for the written side).
    pub lost_writes: Vec<String>,
    pub ms: u64,
}

impl Report {
    /// Nothing diverged and no write failed for a reason other than a conflict or refusal.
    pub fn ok(&self) -> bool {
        self.divergent == 0
            && self.divergent_after_interleavings == 0
            && self.lost_writes.is_empty()
            && self.traffic.failed == 0
            && self
                .interleavings
                .iter()
                .all(|i| i.divergent == 0 && !i.failed)
    }

    /// Every transaction run: the random writers', and two per interleaving (A's and B's).
    pub fn transactions(&self) -> u64 {
        self.traffic.transactions + 2 * self.interleavings.len() as u64
    }

    /// Retries of deadlocks and serialization failures, in interleavings and writers.
    pub fn retries(&self) -> u64 {
        self.traffic.retries + self.interleavings.iter().map(|i| i.retries).sum::<u64>()
    }
}

/// Applies `project` on `server` (an empty database of verify's own) and proves `spec` there.
pub fn run(
    server: &ConnInfo,
    project: &Project,
    spec: &crate::sync::spec::Spec,
    options: &VerifyOptions,
) -> Result<Report> {
    let started = Instant::now();
    let mut client = server.connect()?;
    // The migrations up to the spec's own (`V<n>__sync_NAME.sql`, as `sync new` names it):
    // later ones may be the contract step that drops what the spec keeps equal. A spec
    // whose triggers were written by hand (no such migration) is proved on them all.
    let generated = format!("sync_{}", spec.name);
    let to = project
        .migrations
        .iter()
        .find(|m| m.name == generated)
        .map(|m| m.version);
    apply(&mut client, project, options, to)?;
    let target = Target::resolve(&mut client, spec)?;
    let rows = fill::Filler::new(&mut client)
        .fill(&target)
        .context("filling the tables with generated rows")?;
    client
        .batch_execute("ANALYZE")
        .context("analyzing the generated rows")?;
    let writes = ops::Writes::new(&mut client, target)?;
    let interleavings = interleave::run_all(server, &writes)?;
    let (divergent_after_interleavings, _) = writes.divergent(&mut client)?;
    let lost_writes = match writes.target {
        Target::Column { .. } => writes.lost_inserts_through_new(&mut client, 70_000_000)?,
        Target::Copy { .. } => Vec::new(),
    };
    let traffic = if options.seconds > 0.0 && options.clients > 0 {
        writers::run(server, &writes, options.clients, options.seconds)?
    } else {
        Traffic::default()
    };
    let (divergent, divergent_rows) = writes.divergent(&mut client)?;
    Ok(Report {
        target: writes.target.describe(),
        rows,
        interleavings,
        divergent_after_interleavings,
        clients: options.clients,
        seconds: options.seconds,
        traffic,
        divergent,
        divergent_rows,
        lost_writes,
        ms: started.elapsed().as_millis() as u64,
    })
}

/// Applies the migrations up to `to` (every one when `None`), as `up` would.
fn apply(
    client: &mut postgres::Client,
    project: &Project,
    options: &VerifyOptions,
    to: Option<i64>,
) -> Result<()> {
    let run_options = Options {
        history_schema: options.history_schema.clone(),
        lock_wait: Duration::from_secs(10),
        dry_run: false,
        limits: options.limits,
        // A private database: nobody else can block it.
        watch: None,
        allow_data_loss: true,
        allow_out_of_order: false,
    };
    let quiet: OnEvent = Arc::new(|_| {});
    Runner::new(client, project, run_options, quiet)
        .up(to)
        .context("applying the project's migrations")
}

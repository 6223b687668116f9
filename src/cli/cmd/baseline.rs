//! `baseline`: adopt a database pgstrata never managed; its schema becomes the first
//! migration, recorded as applied there.

use anyhow::Result;
use serde_json::json;

use super::output::count;
use super::{OK, connect, json, print_json};
use crate::cli::Format;
use crate::config::{Settings, Versioning};
use crate::migrate::baseline::{self, Request};
use crate::shown::escape;

pub fn run(settings: &Settings, format: Format, version: Option<i64>, force: bool) -> Result<u8> {
    let version = match (version, settings.versioning) {
        (Some(version), _) => version,
        (None, Versioning::Sequential) => 1,
        (None, Versioning::Timestamp) => super::new::timestamp_now()?,
    };
    let mut target = connect(settings)?;
    let request = Request {
        history_schema: settings.history_schema.clone(),
        lock_wait: settings.lock_wait,
        version,
        force,
        options: settings.snapshot_options(),
    };
    let done = baseline::baseline(&mut target.client, &settings.dir, &request)?;
    if json(format) {
        print_json(&json!({"command": "baseline", "ok": true, "baseline": done}));
        return Ok(OK);
    }
    for uncovered in &done.left_out {
        eprintln!("warning: left out of the baseline (--force): {uncovered}");
    }
    let snapshots = match &done.schema {
        Some(schema) => format!("{} and {schema}", done.snapshot),
        None => done.snapshot.clone(),
    };
    outln!(
        "wrote {} ({}), {} and {snapshots}",
        done.migration,
        count(done.objects, "object"),
        done.rollback,
    );
    outln!(
        "recorded V{} as applied on {} without running it",
        done.version,
        escape(&target.info.describe())
    );
    outln!(
        "next: commit the files, then run `pgstrata check` (it builds the schema from \
         nothing with them and proves the rollback exact)"
    );
    Ok(OK)
}

//! `import --from TOOL DIR`: convert another tool's migrations, then load the project as every
//! command would, so that what pgstrata cannot run as it is (a `COMMIT` inside a file, `CREATE
//! INDEX CONCURRENTLY` the tool ran in a transaction) is said now, not at the first `up`.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use super::output::count;
use super::{ERROR, FOUND, OK, json, print_json};
use crate::cli::Format;
use crate::config::Settings;
use crate::error::Refusal;
use crate::import::{self, Tool};
use crate::migrate::project;
use crate::shown::escape;

pub fn run(settings: &Settings, format: Format, tool: Tool, source: &Path) -> Result<u8> {
    let report = import::import(tool, source, &settings.dir)?;
    // The imported files are written; what the loader says about them is a finding (exit 1),
    // and any other failure to load an error (exit 2) that leaves them in place.
    let (problems, failure) = match project::load(&settings.dir) {
        Ok(_) => (Vec::new(), None),
        Err(err) => match err.downcast_ref::<Refusal>() {
            Some(Refusal::InvalidProject(problems)) => (problems.clone(), None),
            _ => (Vec::new(), Some(format!("{err:#}"))),
        },
    };
    let irreversible: Vec<_> = report
        .imported
        .iter()
        .filter(|i| i.irreversible.is_some())
        .collect();
    let no_transaction: Vec<_> = report
        .imported
        .iter()
        .filter(|i| i.no_transaction)
        .collect();
    if json(format) {
        print_json(&json!({
            "command": "import",
            "ok": problems.is_empty() && failure.is_none(),
            "from": tool,
            "imported": report.imported,
            "ignored": report.ignored,
            "problems": problems,
            "error": failure,
        }));
    } else {
        for i in &report.imported {
            outln!(
                "imported {:<40} -> {}{}{}",
                escape(&i.from),
                i.migration,
                if i.no_transaction {
                    " (no-transaction)"
                } else {
                    ""
                },
                if i.irreversible.is_some() {
                    " (irreversible)"
                } else {
                    ""
                },
            );
        }
        for file in &report.ignored {
            eprintln!(
                "note: {} is not a {} migration and was not imported",
                escape(file),
                tool.name()
            );
        }
        outln!(
            "imported {} from {} ({}): {} irreversible (no down), {} run outside a transaction",
            count(report.imported.len(), "migration"),
            tool.name(),
            source.display(),
            irreversible.len(),
            no_transaction.len(),
        );
        if !problems.is_empty() {
            outln!(
                "pgstrata cannot run {} of the imported files as they are; fix them (and commit \
                 the fix with the import):",
                count(problems.len(), "problem")
            );
            for problem in &problems {
                outln!("  {problem}");
            }
        } else if let Some(failure) = &failure {
            eprintln!("error: loading the project after the import: {failure}");
        } else {
            outln!(
                "next: `pgstrata check` proves every migration and rollback on a scratch server; \
                 `pgstrata adopt --from {}` takes over a database {} migrated",
                tool.name(),
                tool.name()
            );
        }
    }
    Ok(match (failure, problems.is_empty()) {
        (Some(_), _) => ERROR,
        (None, false) => FOUND,
        (None, true) => OK,
    })
}

//! `lint`: static rules over migrations and rollbacks; no database.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use super::{FOUND, OK, Output, json, print_json};
use crate::config::Settings;
use crate::lint::{self, Selection};

pub fn run(
    settings: &Settings,
    output: Output,
    from: Option<i64>,
    files: Vec<PathBuf>,
) -> Result<u8> {
    let project = super::load_project(settings)?;
    if let Some(from) = from.filter(|v| project.migration(*v).is_none()) {
        anyhow::bail!(crate::error::Refusal::UnknownVersion(from));
    }
    let findings = lint::lint_project(&project, &Selection { from, files })?;
    if json(output.format) {
        print_json(&json!({
            "command": "lint",
            "ok": findings.is_empty(),
            "findings": findings,
        }));
    } else {
        for finding in &findings {
            outln!(
                "{}:{}:{}: {} {}: {}\n  safe: {}\n{}\n",
                finding.file,
                finding.line,
                finding.column,
                finding.severity,
                finding.rule,
                finding.message,
                finding.safe,
                finding.excerpt
            );
        }
        let errors = findings
            .iter()
            .filter(|f| f.severity == crate::sql::lint::Severity::Error)
            .count();
        if findings.is_empty() {
            outln!("no findings");
        } else {
            outln!(
                "{} ({errors} error{}, {} warning{})",
                super::output::count(findings.len(), "finding"),
                if errors == 1 { "" } else { "s" },
                findings.len() - errors,
                if findings.len() - errors == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
    }
    Ok(if findings.is_empty() { OK } else { FOUND })
}

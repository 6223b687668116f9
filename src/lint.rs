//! `lint` over a project: which files (every migration and rollback, those from a version on,
//! or the files named), in version order, each finding located (`file:line:col`). The rules
//! are in [`crate::sql::lint`]. Pure: no database.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::migrate::project::{Project, SqlFile};
use crate::sql::lint::{FileKind, Linter, Severity};
use crate::sql::text;

/// One finding, located in its file.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub rule: &'static str,
    pub severity: Severity,
    /// Path relative to the project root: `migrations/V3__x.sql`.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// What it locks, rewrites or loses.
    pub message: String,
    /// The safe alternative.
    pub safe: &'static str,
    /// The version of the migration the file belongs to.
    #[serde(skip)]
    pub version: i64,
    /// The statement's line with a caret under its start.
    #[serde(skip)]
    pub excerpt: String,
}

/// Which files to lint.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only migrations from this version on.
    pub from: Option<i64>,
    /// Only these files (paths as given: absolute, relative to the working directory, or
    /// else relative to the project root);
    /// empty for all.
    pub files: Vec<PathBuf>,
}

/// Lints the selected migrations and rollbacks of a parsed project, in version order (each
/// migration, then its rollback). Every file is read, so that what an unselected earlier one
/// did (a validated `CHECK (col IS NOT NULL)`) counts; only the selected ones' findings are
/// returned. A named file that is no migration or rollback of the project is an error.
pub fn lint_project(project: &Project, selection: &Selection) -> Result<Vec<Located>> {
    let wanted = wanted_paths(project, &selection.files)?;
    let mut linter = Linter::new();
    let mut found = Vec::new();
    let from = selection.from.unwrap_or(i64::MIN);
    for migration in &project.migrations {
        for (file, kind) in [
            (&migration.up, FileKind::Migration),
            (&migration.down, FileKind::Rollback),
        ] {
            let mut findings = lint_file(&mut linter, file, kind, migration.version)?;
            if migration.version >= from && wanted.as_ref().is_none_or(|w| w.contains(&file.path)) {
                found.append(&mut findings);
            }
        }
    }
    Ok(found)
}

fn lint_file(
    linter: &mut Linter,
    file: &SqlFile,
    kind: FileKind,
    version: i64,
) -> Result<Vec<Located>> {
    let mut found = Vec::new();
    let findings = crate::sql::with_room(|| linter.lint(&file.sql, kind, file.no_transaction))?
        .map_err(|err| anyhow::anyhow!("{}", err.render(&file.path, &file.sql)))?;
    for finding in findings {
        let (line, column) = finding.position(&file.sql);
        found.push(Located {
            rule: finding.rule.id,
            severity: finding.rule.severity,
            file: file.path.clone(),
            line,
            column,
            message: finding.message,
            safe: finding.rule.safe,
            version,
            excerpt: text::excerpt(&file.sql, finding.offset),
        });
    }
    Ok(found)
}

/// The project paths (`migrations/V1__x.sql`) of the files named, or `None` for all.
fn wanted_paths(project: &Project, files: &[PathBuf]) -> Result<Option<Vec<String>>> {
    if files.is_empty() {
        return Ok(None);
    }
    let root = canonical(&project.root);
    let mut wanted = Vec::new();
    for given in files {
        // As given (from the working directory), or else inside the project (`--dir`).
        let path = if given.exists() {
            canonical(given)
        } else {
            canonical(&project.root.join(given))
        };
        let relative = path
            .strip_prefix(&root)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"));
        let known = relative.filter(|r| {
            project
                .migrations
                .iter()
                .any(|m| &m.up.path == r || &m.down.path == r)
        });
        match known {
            Some(relative) => wanted.push(relative),
            None => bail!(
                "{} is not a migration or rollback of the project in {}; name files under its \
                 migrations/ or rollbacks/",
                given.display(),
                project.root.display()
            ),
        }
    }
    Ok(Some(wanted))
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

//! `import`: converting another tool's migrations (diesel, sqlx, golang-migrate, dbmate,
//! flyway) into a pgstrata project's `migrations/` and `rollbacks/`.
//!
//! Versions are kept (see `versions` for the few that cannot be), names cleaned to
//! `[A-Za-z0-9_]+`, each tool's no-transaction marker becomes `-- pgstrata:no-transaction`
//! and a missing down becomes a rollback saying `-- pgstrata:irreversible <reason>`. Every
//! file's bytes are copied as they are, after the one directive line import may add at its top
//! ([`ADDED_NO_TRANSACTION`], which `adopt` strips again to recompute the tool's checksum).
//! Nothing is ever overwritten: a version the project already has, or a file that exists, is
//! refused before anything is written. This module reads and writes files only; it never
//! touches a database and never prints.

mod layouts;
pub mod versions;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::error::Refusal;
use crate::migrate::project::parse_versioned_name;

/// The tools whose migrations can be imported (and whose history tables adopted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Diesel,
    Sqlx,
    GolangMigrate,
    Dbmate,
    Flyway,
}

impl Tool {
    /// The tool's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Diesel => "diesel",
            Tool::Sqlx => "sqlx",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Flyway => "flyway",
        }
    }
}

/// The line import puts first in a file (after a byte-order mark) when the tool ran it
/// outside a transaction; followed by the file's own line ending.
pub const ADDED_NO_TRANSACTION: &str = "-- pgstrata:no-transaction";

/// One migration read from the other tool's folder.
#[derive(Debug, Clone)]
pub struct Source {
    /// pgstrata's version.
    pub version: i64,
    /// The version as the tool writes it: `2019-02-27-170003`, `1.2.3`, `20240101120000`.
    pub tool_version: String,
    /// Cleaned to `[A-Za-z0-9_]+`.
    pub name: String,
    /// The up file, relative to the imported folder (for a dbmate file: the file).
    pub origin: String,
    pub up: Vec<u8>,
    /// The down file's bytes, or why there is none.
    pub down: Result<Vec<u8>, String>,
    pub up_no_transaction: bool,
    pub down_no_transaction: bool,
}

/// What was imported, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub version: i64,
    pub name: String,
    /// The version as the tool wrote it.
    pub tool_version: String,
    /// The file it came from, relative to the imported folder.
    pub from: String,
    /// The migration file written, relative to the project.
    pub migration: String,
    /// Why its rollback is irreversible (the tool had no down for it).
    pub irreversible: Option<String>,
    /// The tool ran it outside a transaction.
    pub no_transaction: bool,
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub tool: Tool,
    pub imported: Vec<Imported>,
    /// Files in the folder that the tool itself would not read, named so that nothing is
    /// dropped without a word.
    pub ignored: Vec<String>,
}

/// Reads `dir` as `tool` lays out its migrations, and writes them into the project at `root`
/// (creating `migrations/` and `rollbacks/` when needed). Refuses, writing nothing, when a
/// version is already in the project, two migrations map to one version, or a file exists.
pub fn import(tool: Tool, dir: &Path, root: &Path) -> Result<ImportReport> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder: give the folder holding the {} migrations",
            dir.display(),
            tool.name()
        );
    }
    refuse_own_folders(tool, dir, root)?;
    let (sources, ignored) = layouts::read(tool, dir)?;
    if sources.is_empty() {
        bail!(
            "{} holds no {} migrations (expected {})",
            dir.display(),
            tool.name(),
            layouts::expected(tool)
        );
    }
    let files = plan(tool, &sources, root)?;
    write_all(root, &files)?;
    let imported = sources
        .iter()
        .map(|s| Imported {
            version: s.version,
            name: s.name.clone(),
            tool_version: s.tool_version.clone(),
            from: s.origin.clone(),
            migration: file_name("migrations", s),
            irreversible: s.down.as_ref().err().cloned(),
            no_transaction: s.up_no_transaction,
        })
        .collect();
    Ok(ImportReport {
        tool,
        imported,
        ignored,
    })
}

/// The tool's folder cannot be the project's `migrations/` or `rollbacks/` (diesel and sqlx
/// both default to `migrations/`): pgstrata would read the tool's files there as its own.
fn refuse_own_folders(tool: Tool, dir: &Path, root: &Path) -> Result<()> {
    let Ok(source) = dir.canonicalize() else {
        return Ok(());
    };
    for folder in ["migrations", "rollbacks"] {
        let Ok(own) = root.join(folder).canonicalize() else {
            continue;
        };
        if source.starts_with(&own) {
            bail!(
                "{} is the project's {folder}/ folder (or inside it), where pgstrata would read \
                 the {} files as its own; move them elsewhere first, e.g. `git mv {folder} \
                 {}-{folder}`, then import from there",
                dir.display(),
                tool.name(),
                tool.name()
            );
        }
    }
    Ok(())
}

fn file_name(folder: &str, source: &Source) -> String {
    format!("{folder}/V{}__{}.sql", source.version, source.name)
}

/// The files to write (relative path, bytes), after every refusal.
fn plan(tool: Tool, sources: &[Source], root: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let existing = existing_versions(root)?;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for source in sources {
        if let Some(file) = existing.get(&source.version) {
            problems.push(format!(
                "{} would be version {}, which the project already has ({file}); import into a \
                 project without it, or renumber one of them",
                source.origin, source.version
            ));
            continue;
        }
        let up = file_name("migrations", source);
        let down = file_name("rollbacks", source);
        for path in [&up, &down] {
            if root.join(path).exists() {
                problems.push(format!("{path} exists already; import never overwrites"));
            }
        }
        files.push((up, with_directive(&source.up, source.up_no_transaction)));
        let rollback = match &source.down {
            Ok(bytes) => with_directive(bytes, source.down_no_transaction),
            Err(reason) => format!(
                "-- pgstrata:irreversible imported from {}: {reason}\n",
                tool.name()
            )
            .into_bytes(),
        };
        files.push((down, rollback));
    }
    if !problems.is_empty() {
        bail!(Refusal::InvalidProject(problems));
    }
    Ok(files)
}

/// The versions the project has already, each with one of its files.
fn existing_versions(root: &Path) -> Result<BTreeMap<i64, String>> {
    let mut found = BTreeMap::new();
    for folder in ["migrations", "rollbacks"] {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some((version, _)) = parse_versioned_name(&name) {
                found.entry(version).or_insert(format!("{folder}/{name}"));
            }
        }
    }
    Ok(found)
}

/// The file's bytes, with [`ADDED_NO_TRANSACTION`] as its first line (after a byte-order mark,
/// with the file's own line ending) when asked.
pub fn with_directive(bytes: &[u8], no_transaction: bool) -> Vec<u8> {
    if !no_transaction {
        return bytes.to_vec();
    }
    let (bom, body) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(body) => (&bytes[..3], body),
        None => (&bytes[..0], bytes),
    };
    let first_line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let eol: &[u8] = if first_line.ends_with(b"\r") {
        b"\r\n"
    } else {
        b"\n"
    };
    [bom, ADDED_NO_TRANSACTION.as_bytes(), eol, body].concat()
}

/// The file as the tool had it: `text` without the line [`with_directive`] adds.
pub fn without_directive(text: &str) -> String {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let rest = body.strip_prefix(ADDED_NO_TRANSACTION).and_then(|rest| {
        rest.strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))
    });
    match rest {
        Some(rest) => format!("{bom}{rest}"),
        None => text.to_string(),
    }
}

/// Writes every file, each only if it does not exist; on a failure removes the ones written.
fn write_all(root: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    for folder in ["migrations", "rollbacks"] {
        fs::create_dir_all(root.join(folder))
            .with_context(|| format!("creating {}", root.join(folder).display()))?;
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (relative, bytes) in files {
        let path = root.join(relative);
        let result = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| {
                written.push(path.clone());
                file.write_all(bytes)
            });
        if let Err(err) = result {
            for done in &written {
                let _ = fs::remove_file(done);
            }
            return Err(err).with_context(|| {
                format!("writing {relative} (the files written before it were removed)")
            });
        }
    }
    Ok(())
}

/// A name cleaned to `[A-Za-z0-9_]+`: every run of other characters becomes one `_`, and
/// `_` at either end is dropped; `migration` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "migration".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("create_user"), "create_user");
        assert_eq!(clean_name("Add users & posts!"), "Add_users_posts");
        assert_eq!(clean_name("__x__y--z"), "x_y_z");
        assert_eq!(clean_name("élan"), "lan");
        assert_eq!(clean_name("---"), "migration");
    }

    #[test]
    fn the_directive_goes_after_a_bom_and_comes_off_again() {
        let text = "\u{feff}-- no-transaction\r\nCREATE INDEX CONCURRENTLY i ON t (x);\r\n";
        let added = String::from_utf8(with_directive(text.as_bytes(), true)).unwrap();
        assert_eq!(
            added,
            "\u{feff}-- pgstrata:no-transaction\r\n-- no-transaction\r\nCREATE INDEX \
             CONCURRENTLY i ON t (x);\r\n"
        );
        assert_eq!(without_directive(&added), text);
        assert_eq!(without_directive(text), text);
        assert_eq!(with_directive(b"SELECT 1;", false), b"SELECT 1;");
        assert_eq!(with_directive(b"", true), b"-- pgstrata:no-transaction\n");
    }
}

//! The committed files of `schema-snapshots/`: `V{n}__{name}.sql`, the delta of migration n
//! (what it adds, changes and drops: see [`crate::snapshot::Delta`]), and `schema.sql`, the
//! whole schema at the newest migration. Reads them, folds the deltas into a version's
//! expected schema ([`Committed`], also what `drift` and `snapshot --write` compare with),
//! and, for `check`, compares each migration's delta and `schema.sql` with the schemas the
//! migrations produce, or writes them ([`Expected`]).
//!
//! A per-version file without the delta header is a whole schema (the layout before deltas):
//! folding it in replaces the schema, so such a project keeps working, and `check
//! --write-snapshots` rewrites it as deltas.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{Checker, Finding, FindingKind};
use crate::files;
use crate::migrate::project::{Migration, Project};
use crate::snapshot::{self, Comparison, Delta, Schema, SnapshotFile};

/// The whole schema at the newest migration, relative to the project root.
pub const SCHEMA_FILE: &str = "schema-snapshots/schema.sql";

/// The file name of a migration's snapshot (its delta), relative to the project root.
pub fn snapshot_path(migration: &Migration) -> String {
    format!(
        "schema-snapshots/V{}__{}.sql",
        migration.version, migration.name
    )
}

/// Files in schema-snapshots/ whose version is not a migration of the project (schema.sql
/// belongs to them all).
pub fn orphans(project: &Project) -> Result<Vec<String>> {
    let dir: PathBuf = project.root.join("schema-snapshots");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let name = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let relative = format!("schema-snapshots/{name}");
        let known = relative == SCHEMA_FILE
            || project
                .migrations
                .iter()
                .any(|m| snapshot_path(m) == relative);
        if name.ends_with(".sql") && !known {
            orphans.push(relative);
        }
    }
    orphans.sort();
    Ok(orphans)
}

/// One committed per-version file: its text (BOM and CRLF removed) and what it holds.
struct File {
    text: String,
    content: SnapshotFile,
}

/// The committed files of a project, read once.
pub struct Committed {
    /// By version, for the migrations that have a file.
    files: BTreeMap<i64, File>,
    /// schema.sql's text, when there is one.
    schema: Option<String>,
}

/// What a version's committed schema is compared with, and how to name it.
pub struct CommittedSchema {
    /// The file it comes from: `schema-snapshots/schema.sql`, or the version's file.
    pub file: String,
    /// How the file is named in a diff and a message: the version's file "with the deltas
    /// before it" when they count too.
    pub label: String,
    schema: Schema,
    /// Earlier deltas the fold needs that do not exist: what their migrations made is not in
    /// it (unless the deltas after them were written without them too).
    pub missing: Vec<String>,
}

impl CommittedSchema {
    /// Compares with `actual` (a snapshot text) by block, whatever their order: the committed
    /// schema is written in `actual`'s order first.
    pub fn compare(&self, actual: &str, actual_label: &str) -> Comparison {
        // Both sides as parsed (see `Checker::compare_with_file`).
        let actual = Schema::parse(actual);
        let expected = self.schema.text_like(&actual);
        snapshot::compare(
            &expected,
            &actual.text_like(&actual),
            &self.label,
            actual_label,
        )
    }
}

impl Committed {
    /// Reads schema-snapshots/ of `project`: a file that cannot be read or a delta that does
    /// not parse is an error naming it.
    pub fn read(project: &Project) -> Result<Committed> {
        Committed::read_rewriting(project, None)
    }

    /// Like [`Committed::read`], for rewriting the files from version `from` on: those are
    /// only compared as text, so one that does not parse is no error (rewriting it is the
    /// fix). It then counts as a delta that changes nothing.
    fn read_rewriting(project: &Project, from: Option<i64>) -> Result<Committed> {
        let mut files = BTreeMap::new();
        for migration in &project.migrations {
            let relative = snapshot_path(migration);
            let Some(text) = read(project, &relative)? else {
                continue;
            };
            let content = match snapshot::parse_file(&text) {
                Ok(content) => content,
                Err(_) if from.is_some_and(|from| migration.version >= from) => {
                    SnapshotFile::Delta(Delta::default())
                }
                Err(err) => return Err(err.context(relative)),
            };
            files.insert(migration.version, File { text, content });
        }
        let schema = read(project, SCHEMA_FILE)?;
        Ok(Committed { files, schema })
    }

    /// The committed text of a version's file.
    pub fn text(&self, version: i64) -> Option<&str> {
        self.files.get(&version).map(|f| f.text.as_str())
    }

    /// The fold of the files of the versions before `version`.
    pub fn fold_before(&self, version: i64) -> Schema {
        let mut schema = Schema::empty();
        for file in self.files.range(..version).map(|(_, f)| &f.content) {
            schema.apply(file);
        }
        schema
    }

    /// The files in the format before deltas (whole schemas), by version.
    pub fn full_files(&self, project: &Project) -> Vec<String> {
        project
            .migrations
            .iter()
            .filter(|m| {
                self.files
                    .get(&m.version)
                    .is_some_and(|f| matches!(f.content, SnapshotFile::Full(_)))
            })
            .map(snapshot_path)
            .collect()
    }

    /// True for the layout before deltas: whole schemas per version and no schema.sql. Such a
    /// project needs no schema.sql until it is converted.
    pub fn old_layout(&self) -> bool {
        self.schema.is_none()
            && !self.files.is_empty()
            && self
                .files
                .values()
                .all(|f| matches!(f.content, SnapshotFile::Full(_)))
    }

    /// The committed schema at `migration`: schema.sql for the newest migration when it
    /// exists, else the fold of the files up to this version's ([`Committed::fold_through`]).
    pub fn schema_at(&self, project: &Project, migration: &Migration) -> Option<CommittedSchema> {
        let head = project.migrations.last().map(|m| m.version) == Some(migration.version);
        match self.schema.as_deref().filter(|_| head) {
            Some(text) => Some(CommittedSchema {
                file: SCHEMA_FILE.to_string(),
                label: SCHEMA_FILE.to_string(),
                schema: Schema::parse(text),
                missing: Vec::new(),
            }),
            None => self.fold_through(project, migration),
        }
    }

    /// The fold of the files up to `migration`'s; `None` when it has no file.
    pub fn fold_through(
        &self,
        project: &Project,
        migration: &Migration,
    ) -> Option<CommittedSchema> {
        let file = self.files.get(&migration.version)?;
        let relative = snapshot_path(migration);
        let mut schema = self.fold_before(migration.version);
        schema.apply(&file.content);
        let label = match file.content {
            SnapshotFile::Delta(_) if self.files.range(..migration.version).next().is_some() => {
                format!("{relative} with the deltas before it")
            }
            _ => relative.clone(),
        };
        Some(CommittedSchema {
            file: relative,
            label,
            schema,
            missing: self.missing_before(project, migration.version),
        })
    }

    /// The files a fold up to `version` needs that do not exist: those of the migrations
    /// before it, back to the newest whole-schema file (which replaces all before it).
    fn missing_before(&self, project: &Project, version: i64) -> Vec<String> {
        let mut missing = Vec::new();
        for migration in project
            .migrations
            .iter()
            .rev()
            .filter(|m| m.version < version)
        {
            match self.files.get(&migration.version) {
                Some(File {
                    content: SnapshotFile::Full(_),
                    ..
                }) => break,
                Some(_) => {}
                None => missing.push(snapshot_path(migration)),
            }
        }
        missing.reverse();
        missing
    }

    /// schema.sql's text.
    pub fn schema_text(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

/// Reads a project file as text, `None` when it does not exist.
fn read(project: &Project, relative: &str) -> Result<Option<String>> {
    match files::read_regular_text(&project.root.join(relative), files::MAX_SQL_BYTES) {
        Ok(text) => Ok(Some(crate::checksum::normalize(&text))),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => anyhow::bail!("{relative}: {err}"),
    }
}

/// `check`'s view of the committed files while it goes through the migrations.
pub(super) struct Expected {
    committed: Committed,
    /// The schema the next checked migration's delta applies to: the fold of the committed
    /// files before the first checked migration, then the actual schema of the one before.
    base: Schema,
}

impl Expected {
    /// Reads the files; `from` is the first version checked, `write`: they are to be
    /// rewritten.
    pub(super) fn read(project: &Project, from: Option<i64>, write: bool) -> Result<Expected> {
        let from = from.unwrap_or(i64::MIN);
        let committed = Committed::read_rewriting(project, write.then_some(from))?;
        let base = committed.fold_before(from);
        Ok(Expected { committed, base })
    }

    /// The files still in the format before deltas.
    pub(super) fn full_files(&self, project: &Project) -> Vec<String> {
        self.committed.full_files(project)
    }
}

impl Checker<'_> {
    /// Compares the schema after `migration` with its committed delta applied to the schema
    /// before it, or writes the delta. Each delta is judged against the actual schema before
    /// its migration, so one wrong file is one finding, not one per later version too; the
    /// fold of deltas that each pass is the actual schema at every version.
    pub(super) fn compare_with_file(
        &mut self,
        migration: &Migration,
        actual: &str,
    ) -> Result<&'static str> {
        let relative = snapshot_path(migration);
        let v = migration.version;
        let after = Schema::parse(actual);
        let before = std::mem::replace(&mut self.expected.base, after.clone());
        if self.options.write_snapshots {
            let delta = Delta::between(&before, &after).text();
            if self.expected.committed.text(v) == Some(delta.as_str()) {
                return Ok("unchanged");
            }
            self.to_write.push((relative, delta));
            return Ok("written");
        }
        let Some(file) = self.expected.committed.files.get(&v) else {
            self.add(missing(
                Some(v),
                format!(
                    "{relative} is missing (the schema after V{v} has {} objects); create it with \
                     `pgstrata check --write-snapshots` and commit it",
                    after.objects()
                ),
            ));
            return Ok("missing");
        };
        let mut expected = before;
        expected.apply(&file.content);
        let what = match file.content {
            SnapshotFile::Delta(_) => "the schema before it with this delta applied",
            SnapshotFile::Full(_) => "the committed file",
        };
        // Both sides as parsed: a block header repeated inside a function body (or a comment)
        // merges two blocks into one, in the same place on both sides.
        let same = self.expect_same(
            &expected.text_like(&after),
            &after.text_like(&after),
            FindingKind::StaleSnapshot,
            Some(v),
            format!(
                "{relative} is stale: the migrations produce a different schema (the diff goes \
                 from {what} to the actual schema); if the change is intended, rewrite it with \
                 `pgstrata check --write-snapshots`"
            ),
        );
        Ok(if same { "ok" } else { "stale" })
    }

    /// Compares schema.sql with the schema after the newest migration (`head`), or writes
    /// it. A project still in the layout before deltas needs none.
    pub(super) fn compare_head(&mut self, head: &str) {
        let committed = self.expected.committed.schema_text();
        if self.options.write_snapshots {
            if committed != Some(head) {
                self.to_write
                    .push((SCHEMA_FILE.to_string(), head.to_string()));
            }
            return;
        }
        match committed {
            None if self.expected.committed.old_layout() => {}
            None => self.add(missing(
                None,
                format!(
                    "{SCHEMA_FILE} is missing (it holds the whole schema at the newest migration, \
                     what a reviewer reads and `drift` compares a database at the newest \
                     version with); create it with `pgstrata check --write-snapshots` and \
                     commit it"
                ),
            )),
            Some(committed) => {
                let committed = committed.to_string();
                self.expect_same(
                    &committed,
                    head,
                    FindingKind::StaleSnapshot,
                    None,
                    format!(
                        "{SCHEMA_FILE} is stale: it differs from the schema the migrations \
                         produce at the newest version (the diff goes from the committed file \
                         to the actual schema); rewrite it with `pgstrata check \
                         --write-snapshots`"
                    ),
                );
            }
        }
    }
}

fn missing(version: Option<i64>, message: String) -> Finding {
    Finding {
        kind: FindingKind::MissingSnapshot,
        version,
        message,
        changes: Vec::new(),
        diff: String::new(),
        classes: Vec::new(),
    }
}

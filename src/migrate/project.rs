//! Loading and validating a project's `migrations/`, `rollbacks/` and `views/` folders.
//!
//! Pure: reads files, never touches a database. Every problem is collected and reported at
//! once, each naming its file, before anything runs (`Refusal::InvalidProject`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};

mod cache;
mod difference;
mod directives;
mod runnable;
mod source;
mod strays;
mod views;

pub use difference::DifferenceClass;

use directives::{Directives, parse_directives};
use runnable::refuse_unrunnable;
pub(crate) use source::Source;

use crate::checksum;
use crate::error::Refusal;
use crate::files;
use crate::sql::{self, Definition, Statement};

/// A project: migrations in version order, each with its rollback, and views in file order.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub migrations: Vec<Migration>,
    pub views: Vec<View>,
    /// Every file was split and checked by PostgreSQL's parser (see [`load_unparsed`]).
    pub(crate) parsed: bool,
    /// Names, checksums and directives only, from the no-op cache (see [`load_cached`]): no
    /// file's SQL is in memory.
    pub(crate) from_cache: bool,
    /// Files that were ignored but look like SQL (editor and backup copies), one line each,
    /// naming the file: for the caller to show on every command.
    pub warnings: Vec<String>,
}

/// One SQL file, normalised (no BOM, LF line ends), hashed, and split into statements by
/// PostgreSQL's parser. What the no-op cache keeps of it is serialized (not the SQL).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SqlFile {
    /// Path relative to the project root, for messages: `migrations/V3__x.sql`.
    pub path: String,
    #[serde(skip)]
    pub sql: String,
    pub checksum: String,
    /// `-- pgstrata:no-transaction`: run statement by statement, outside a transaction.
    pub no_transaction: bool,
    /// The statements of `sql`, in order.
    #[serde(skip)]
    pub statements: Vec<Statement>,
    /// `-- pgstrata:lock-timeout 30s`: overrides the run's lock_timeout for this file.
    pub lock_timeout: Option<Duration>,
    /// `-- pgstrata:statement-timeout 10min`: overrides the run's statement_timeout.
    pub statement_timeout: Option<Duration>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub up: SqlFile,
    pub down: SqlFile,
    /// `-- pgstrata:irreversible <reason>` in the rollback.
    pub irreversible: Option<String>,
    /// `-- pgstrata:inexact <class> <reason>` in the rollback: a difference of that class
    /// left by the rollback is accepted by `check` for this migration only.
    pub inexact: Vec<Inexact>,
}

/// A class of inexact rollback accepted for one migration, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inexact {
    pub class: DifferenceClass,
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub file: SqlFile,
    /// `-- pgstrata:requires V5`: the view exists only while these versions are applied (and
    /// so do the managed views that read it: see `views::plan`).
    pub requires: Vec<i64>,
    /// What the file defines, once parsed: the one view or materialized view it manages.
    #[serde(skip)]
    pub definition: Option<Definition>,
}

impl SqlFile {
    /// The relations its statements alter or drop (where managed views may stand in its way).
    pub fn altered_relations(&self) -> Vec<crate::sql::RelationName> {
        self.statements
            .iter()
            .flat_map(|statement| statement.class.alters.iter().cloned())
            .collect()
    }
}

impl View {
    /// The view's name as the file writes it (`s.v` or `v`), or the file once unparsed.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn display_name(&self) -> String {
        match &self.definition {
            Some(def) => def.view.to_string(),
            None => self.file.path.clone(),
        }
    }
}

impl Project {
    pub fn migration(&self, version: i64) -> Option<&Migration> {
        // Loaded in version order: a binary search (a no-op `up` looks up every applied
        // version). The scan is for a list someone reordered.
        match self
            .migrations
            .binary_search_by_key(&version, |m| m.version)
        {
            Ok(at) => Some(&self.migrations[at]),
            Err(_) => self.migrations.iter().find(|m| m.version == version),
        }
    }

    /// Whether a view file requires `version` itself (only then can a view need it: a view
    /// needs what the views it reads require, see `views::plan`): its rollback drops views.
    pub fn views_require(&self, version: i64) -> bool {
        self.views
            .iter()
            .any(|view| view.requires.contains(&version))
    }

    /// Whether every file has been parsed: only a parsed project may run.
    pub fn is_parsed(&self) -> bool {
        self.parsed
    }

    /// Parses every file of a project read by [`load_unparsed`]; what the parser refuses,
    /// and statements that cannot run the way pgstrata runs their file, are problems. A
    /// project from the no-op cache holds no SQL: its files are loaded again.
    pub fn parse(mut self) -> Result<Project> {
        if self.from_cache {
            return load(&self.root);
        }
        let mut problems = Vec::new();
        self.parse_files(&mut problems);
        finish(self, problems)
    }

    fn parse_files(&mut self, problems: &mut Vec<String>) {
        let files: Vec<&mut SqlFile> = self
            .migrations
            .iter_mut()
            .flat_map(|m| [&mut m.up, &mut m.down])
            .chain(self.views.iter_mut().map(|v| &mut v.file))
            .collect();
        let parsed = sql::with_room(|| {
            let mut found = Vec::new();
            for file in files {
                match sql::parse(&file.sql) {
                    Ok(statements) => {
                        file.statements = statements;
                        refuse_unrunnable(file, &mut found);
                    }
                    Err(err) => found.push(err.render(&file.path, &file.sql)),
                }
            }
            found
        });
        match parsed {
            Ok(found) => problems.extend(found),
            Err(err) => problems.push(format!("could not start PostgreSQL's parser: {err}")),
        }
        views::define(&mut self.views, problems);
        self.parsed = true;
    }
}

/// What kind of file a directive appears in; each kind allows different directives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Migration,
    Rollback,
    View,
}

/// Loads and validates the project rooted at `root`, every file parsed. Every problem is
/// reported at once.
pub fn load(root: &Path) -> Result<Project> {
    load_from(Source::Disk(root))
}

/// [`load`] of a project on disk or embedded in the program.
pub(crate) fn load_from(source: Source<'_>) -> Result<Project> {
    let (mut project, mut problems) = read(source)?;
    project.parse_files(&mut problems);
    finish(project, problems)
}

/// Loads the project without parsing its files into statements: names, pairs, directives and
/// checksums, which is all a no-op `up` compares with the history, and a syntax check of every
/// file (parsing hundreds of files into trees would be most of its time). Anything that runs
/// a file needs [`Project::parse`] first.
pub fn load_unparsed(root: &Path) -> Result<Project> {
    let (project, mut problems) = read(Source::Disk(root))?;
    // Whatever the parser refuses is still a load error here: checking costs a fraction of
    // parsing, and runs while the connection opens. A no-op needs it too: an older pgstrata
    // recorded files the parser rejects as applied, with their checksums.
    let files = project
        .migrations
        .iter()
        .flat_map(|m| [&m.up, &m.down])
        .chain(project.views.iter().map(|v| &v.file));
    for file in files {
        if let Err(err) = sql::check_syntax(&file.sql) {
            problems.push(err.render(&file.path, &file.sql));
        }
    }
    finish(project, problems)
}

/// [`load_unparsed`] through the no-op cache (see `cache`): when every file of the project
/// looks as it did when the cache was written, its names, checksums and directives come from
/// the cache and no file is opened; [`Project::parse`] then reads the files.
pub fn load_cached(root: &Path) -> Result<Project> {
    let cache = cache::Cache::open(root);
    if let Some(project) = cache.as_ref().and_then(|cache| cache.project(root)) {
        return Ok(project);
    }
    let project = load_unparsed(root)?;
    if let Some(cache) = &cache {
        cache.store(&project);
    }
    Ok(project)
}

fn finish(project: Project, problems: Vec<String>) -> Result<Project> {
    if !problems.is_empty() {
        bail!(Refusal::InvalidProject(problems));
    }
    Ok(project)
}

fn read(source: Source<'_>) -> Result<(Project, Vec<String>)> {
    let root = source.root();
    if !source.has_folder("migrations") {
        bail!(
            "no migrations/ folder in {}; create the first migration with `pgstrata new NAME`, \
             or point --dir at the project",
            root.display()
        );
    }
    let mut problems = Vec::new();
    let ups = read_versioned(source, "migrations", FileKind::Migration, &mut problems)?;
    let downs = read_versioned(source, "rollbacks", FileKind::Rollback, &mut problems)?;
    let migrations = pair(ups, downs, &mut problems);
    let versions: BTreeSet<i64> = migrations.iter().map(|m| m.version).collect();
    let views = read_views(source, &versions, &mut problems)?;
    let mut warnings = Vec::new();
    strays::stray_files(source, &mut problems, &mut warnings)?;
    let project = Project {
        root,
        migrations,
        views,
        parsed: false,
        from_cache: false,
        warnings,
    };
    Ok((project, problems))
}

/// A parsed `migrations/` or `rollbacks/` file before pairing.
struct Versioned {
    name: String,
    file: SqlFile,
    irreversible: Option<String>,
    inexact: Vec<Inexact>,
}

fn read_versioned(
    source: Source<'_>,
    folder: &str,
    kind: FileKind,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<i64, Versioned>> {
    let mut found: BTreeMap<i64, Versioned> = BTreeMap::new();
    for (relative, file_name) in sql_files(source, folder, problems)? {
        let Some((version, name)) = parse_versioned_name(&file_name) else {
            problems.push(format!(
                "{relative}: the name does not parse; expected V{{n}}__{{name}}.sql with n a \
                 positive integer and name made of letters, digits and _"
            ));
            continue;
        };
        // An unreadable file is reported once; its empty stand-in keeps it paired, so that its
        // partner is not also reported as lacking one.
        let text = read_text(source, folder, &file_name, problems)?.unwrap_or_default();
        let directives = parse_directives(&text, &relative, kind, problems);
        let file = sql_file(relative.clone(), &text, &directives);
        if let Some(existing) = found.get(&version) {
            problems.push(format!(
                "{relative}: version {version} is also used by {}",
                existing.file.path
            ));
            continue;
        }
        let entry = Versioned {
            name,
            file,
            irreversible: directives.irreversible,
            inexact: directives.inexact,
        };
        found.insert(version, entry);
    }
    Ok(found)
}

fn pair(
    mut ups: BTreeMap<i64, Versioned>,
    mut downs: BTreeMap<i64, Versioned>,
    problems: &mut Vec<String>,
) -> Vec<Migration> {
    let versions: BTreeSet<i64> = ups.keys().chain(downs.keys()).copied().collect();
    let mut migrations = Vec::new();
    for version in versions {
        match (ups.remove(&version), downs.remove(&version)) {
            (Some(up), Some(down)) if up.name == down.name => migrations.push(Migration {
                version,
                name: up.name,
                up: up.file,
                down: down.file,
                irreversible: down.irreversible,
                inexact: down.inexact,
            }),
            (Some(up), Some(down)) => problems.push(format!(
                "{}: its migration is named differently ({}); a rollback has the same file name \
                 as its migration",
                down.file.path, up.file.path
            )),
            (Some(up), None) => problems.push(format!(
                "{}: has no rollback; create rollbacks/V{version}__{}.sql (if it truly cannot \
                 be undone, make its first line `-- pgstrata:irreversible <reason>`)",
                up.file.path, up.name
            )),
            (None, Some(down)) => problems.push(format!(
                "{}: has no migration migrations/V{version}__{}.sql",
                down.file.path, down.name
            )),
            (None, None) => {}
        }
    }
    migrations
}

fn read_views(
    source: Source<'_>,
    versions: &BTreeSet<i64>,
    problems: &mut Vec<String>,
) -> Result<Vec<View>> {
    if !source.has_folder("views") {
        return Ok(Vec::new());
    }
    let mut views = Vec::new();
    for (relative, file_name) in sql_files(source, "views", problems)? {
        let Some(text) = read_text(source, "views", &file_name, problems)? else {
            continue;
        };
        let directives = parse_directives(&text, &relative, FileKind::View, problems);
        for version in &directives.requires {
            if !versions.contains(version) {
                problems.push(format!(
                    "{relative}: requires V{version}, but there is no migration {version}"
                ));
            }
        }
        views.push(View {
            requires: directives.requires.clone(),
            file: sql_file(relative, &text, &directives),
            definition: None,
        });
    }
    Ok(views)
}

/// The `.sql` files of a folder, sorted by name, as (path relative to root, file name).
/// Other files are ignored; subfolders are an error (their files would silently not run).
fn sql_files(
    source: Source<'_>,
    folder: &str,
    problems: &mut Vec<String>,
) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in source.entries(folder)? {
        let file_name = entry.name;
        let relative = format!("{folder}/{file_name}");
        if entry.is_dir {
            problems.push(format!(
                "{relative}: is a folder; pgstrata reads {folder}/ only, not its subfolders"
            ));
        } else if file_name.ends_with(".sql") && !strays::is_leftover(&file_name) {
            files.push((relative, file_name));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a file as UTF-8 text. What makes a file unusable (not a regular file, larger than
/// [`files::MAX_SQL_BYTES`], not UTF-8, a NUL byte) is a problem naming it, not a failure, so
/// that every problem is reported at once.
fn read_text(
    source: Source<'_>,
    folder: &str,
    file_name: &str,
    problems: &mut Vec<String>,
) -> Result<Option<String>> {
    let relative = format!("{folder}/{file_name}");
    let bytes = match source.read(folder, file_name) {
        Ok(bytes) => bytes,
        Err(err @ files::ReadError::TooLarge { .. }) => {
            problems.push(format!(
                "{relative}: {err}; split it into several migrations, or load bulk data another \
                 way (e.g. COPY from a file the server can read)"
            ));
            return Ok(None);
        }
        Err(err) => {
            problems.push(format!("{relative}: {err}"));
            return Ok(None);
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            problems.push(format!(
                "{relative}: is not UTF-8 text (invalid byte at offset {at}); save it as UTF-8"
            ));
            return Ok(None);
        }
    };
    // PostgreSQL cannot take a NUL in query text (the protocol ends strings with it), and
    // where it sits is usually where a binary or UTF-16 file shows itself.
    if let Some(at) = text.find('\0') {
        // Columns as every other message counts them: a leading BOM is not text.
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let (line, col) = sql::text::line_col(&text[bom..], at - bom);
        problems.push(format!(
            "{relative}:{line}:{col}: holds a NUL byte, which SQL text cannot contain; remove \
             it (a file saved as UTF-16, or not a text file at all, has them)"
        ));
        return Ok(None);
    }
    Ok(Some(text))
}

/// Normalises and hashes a file's text; parsing comes later (see [`Project::parse`]).
fn sql_file(path: String, text: &str, directives: &Directives) -> SqlFile {
    let sql = checksum::normalize(text);
    let checksum = checksum::sha256_hex(&sql);
    SqlFile {
        path,
        sql,
        checksum,
        no_transaction: directives.no_transaction,
        statements: Vec::new(),
        lock_timeout: directives.lock_timeout,
        statement_timeout: directives.statement_timeout,
    }
}

/// `V{n}__{name}.sql` -> (n, name). Leading zeros are allowed (`V001` is version 1).
pub fn parse_versioned_name(file_name: &str) -> Option<(i64, String)> {
    let stem = file_name.strip_suffix(".sql")?.strip_prefix('V')?;
    let (digits, name) = stem.split_once("__")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let version: i64 = digits.parse().ok().filter(|v| *v > 0)?;
    is_name(name).then(|| (version, name.to_string()))
}

/// `[A-Za-z0-9_]+`, the names pgstrata accepts in file names.
pub fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses `V5` or `5` as a version, for command-line arguments.
pub fn parse_version_arg(arg: &str) -> Result<i64, String> {
    let digits = arg.strip_prefix(['V', 'v']).unwrap_or(arg);
    digits
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| format!("`{arg}` is not a version; give a number like 5 or V5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_names() {
        assert_eq!(
            parse_versioned_name("V3__add_x.sql"),
            Some((3, "add_x".to_string()))
        );
        assert_eq!(parse_versioned_name("V001__a.sql"), Some((1, "a".into())));
        for bad in [
            "V0__zero.sql",
            "V1_single.sql",
            "v1__lower.sql",
            "U1__unversioned.sql",
            "V1.1__decimal.sql",
            "V1__bad-dash.sql",
            "V1__.sql",
            "V__x.sql",
            "V99999999999999999999__overflow.sql",
            "V-1__neg.sql",
        ] {
            assert_eq!(parse_versioned_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn version_arguments() {
        assert_eq!(parse_version_arg("V5"), Ok(5));
        assert_eq!(parse_version_arg("12"), Ok(12));
        assert_eq!(parse_version_arg("0"), Ok(0));
        assert!(parse_version_arg("five").is_err());
    }
}

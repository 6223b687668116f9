//! Reading each tool's folder layout into [`Source`]s, as the tool itself reads it:
//!
//! - diesel: `DIR/<version>_<name>/up.sql`, `down.sql`, optional `metadata.toml` whose
//!   `run_in_transaction = false` runs both outside a transaction (diesel reads a
//!   `metadata.toml` without that key as false too).
//! - sqlx: `DIR/<version>_<name>.up.sql` and `.down.sql`, or one `<version>_<name>.sql`
//!   (no down); a file starting with `-- no-transaction` runs outside a transaction.
//! - golang-migrate: `DIR/<version>_<name>.up.sql` and `.down.sql`; no per-file marker (its
//!   `x-multi-statement` is a setting of the whole connection), but a file holding one
//!   statement runs outside a transaction block (the server runs one statement sent alone so),
//!   so a file whose one statement cannot run in a transaction (`CREATE INDEX CONCURRENTLY`)
//!   becomes a no-transaction migration.
//! - dbmate: `DIR/<version>_<name>.sql` with a `-- migrate:up` and a `-- migrate:down`
//!   section, each optionally marked `transaction:false`; the marker lines are not copied.
//! - flyway: `DIR/V<version>__<name>.sql`, optional undo `U<version>__<name>.sql`, and
//!   `executeInTransaction=false` in a `<file>.conf` beside it or as `-- flyway:
//!   executeInTransaction=false` in the file, or a statement that cannot run in a transaction
//!   (flyway detects those and runs the script without one); repeatable (`R__`) and baseline (`B`) migrations
//!   have no pgstrata equivalent and are refused.
//!
//! A down that is missing or holds only blanks becomes irreversible with the reason.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::versions;
use super::{Source, Tool, clean_name};
use crate::error::Refusal;
use crate::files;

/// The migrations of `dir` in version order, and the files the tool would not read.
pub(super) fn read(tool: Tool, dir: &Path) -> Result<(Vec<Source>, Vec<String>)> {
    let mut reader = Reader::default();
    match tool {
        Tool::Diesel => reader.diesel(dir)?,
        Tool::Sqlx | Tool::GolangMigrate => reader.paired(tool, dir)?,
        Tool::Dbmate => reader.dbmate(dir)?,
        Tool::Flyway => reader.flyway(dir)?,
    }
    reader.finish(tool)
}

/// What a tool's folder should hold, for the message when it holds nothing.
pub(super) fn expected(tool: Tool) -> &'static str {
    match tool {
        Tool::Diesel => "folders <version>_<name>/ with up.sql",
        Tool::Sqlx => "<version>_<name>.up.sql and .down.sql, or <version>_<name>.sql",
        Tool::GolangMigrate => "<version>_<name>.up.sql and <version>_<name>.down.sql",
        Tool::Dbmate => "<version>_<name>.sql with a `-- migrate:up` section",
        Tool::Flyway => "V<version>__<name>.sql",
    }
}

#[derive(Default)]
struct Reader {
    sources: Vec<Source>,
    ignored: Vec<String>,
    problems: Vec<String>,
}

/// The entries of a folder, sorted by name, without hidden ones: (name, is a folder).
fn entries(dir: &Path) -> Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Followed through symlinks, as the tools do.
        let is_dir = entry.path().is_dir();
        out.push((name, is_dir));
    }
    out.sort();
    Ok(out)
}

impl Reader {
    fn bytes(&mut self, path: &Path, shown: &str) -> Option<Vec<u8>> {
        match files::read_regular(path, files::MAX_SQL_BYTES) {
            Ok(bytes) => Some(bytes),
            Err(err) => {
                self.problems.push(format!("{shown}: {err}"));
                None
            }
        }
    }

    fn diesel(&mut self, dir: &Path) -> Result<()> {
        for (folder, is_dir) in entries(dir)? {
            if !is_dir {
                self.ignored.push(folder);
                continue;
            }
            let path = dir.join(&folder);
            if !path.join("up.sql").exists() {
                self.problems.push(format!(
                    "{folder}/: has no up.sql (diesel refuses such a folder too)"
                ));
                continue;
            }
            let Some((recorded, number)) = versions::diesel(&folder) else {
                self.problems.push(format!(
                    "{folder}/: the name does not start with a version (digits and dashes, then _)"
                ));
                continue;
            };
            let name = folder.split_once('_').map_or("", |(_, name)| name);
            let no_transaction = match fs::read_to_string(path.join("metadata.toml")) {
                Ok(text) => match text.parse::<toml::Table>() {
                    Ok(table) => match table.get("run_in_transaction") {
                        // diesel reads a metadata.toml without the key as false.
                        None => true,
                        Some(toml::Value::Boolean(run_in_transaction)) => !run_in_transaction,
                        // diesel refuses any other value; so does import, rather than guess.
                        Some(_) => {
                            self.problems.push(format!(
                                "{folder}/metadata.toml: run_in_transaction must be true or \
                                 false, as diesel requires"
                            ));
                            false
                        }
                    },
                    Err(err) => {
                        self.problems
                            .push(format!("{folder}/metadata.toml: not TOML: {err}"));
                        false
                    }
                },
                Err(_) => false,
            };
            let Some(up) = self.bytes(&path.join("up.sql"), &format!("{folder}/up.sql")) else {
                continue;
            };
            let down = self.optional_down(&path.join("down.sql"), &format!("{folder}/down.sql"));
            self.sources.push(Source {
                version: versions::positive(number),
                tool_version: recorded,
                name: clean_name(name),
                origin: format!("{folder}/up.sql"),
                up,
                down,
                up_no_transaction: no_transaction,
                down_no_transaction: no_transaction,
            });
        }
        Ok(())
    }

    /// A down file: its bytes, or why there is none (missing, or blanks only).
    fn optional_down(&mut self, path: &Path, shown: &str) -> Result<Vec<u8>, String> {
        if !files::exists(path) {
            return Err(format!("{shown} does not exist"));
        }
        match self.bytes(path, shown) {
            Some(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                Err(format!("{shown} is empty"))
            }
            Some(bytes) => Ok(bytes),
            None => Err(format!("{shown} cannot be read")),
        }
    }

    /// sqlx and golang-migrate: `<version>_<name>.up.sql` and `.down.sql` (and for sqlx a
    /// single `<version>_<name>.sql`).
    fn paired(&mut self, tool: Tool, dir: &Path) -> Result<()> {
        // version -> (name, up file, down file)
        let mut found: BTreeMap<i64, (String, Option<String>, Option<String>)> = BTreeMap::new();
        for (file, is_dir) in entries(dir)? {
            let parsed = file.split_once('_').and_then(|(version, rest)| {
                let version = versions::digits(version)?;
                let (stem, kind) = if let Some(stem) = rest.strip_suffix(".up.sql") {
                    (stem, "up")
                } else if let Some(stem) = rest.strip_suffix(".down.sql") {
                    (stem, "down")
                } else if tool == Tool::Sqlx {
                    (rest.strip_suffix(".sql")?, "simple")
                } else {
                    return None;
                };
                Some((version, stem.to_string(), kind))
            });
            let Some((version, stem, kind)) = parsed.filter(|_| !is_dir) else {
                self.ignored.push(file);
                continue;
            };
            let entry = found.entry(version).or_insert((stem, None, None));
            let slot = if kind == "down" {
                &mut entry.2
            } else {
                &mut entry.1
            };
            if let Some(other) = slot.replace(file.clone()) {
                self.problems
                    .push(format!("{file}: version {version} is also used by {other}"));
            }
        }
        for (number, (name, up, down)) in found {
            let Some(up) = up else {
                self.problems.push(format!(
                    "{}: has no up migration beside it",
                    down.unwrap_or_default()
                ));
                continue;
            };
            let Some(up_bytes) = self.bytes(&dir.join(&up), &up) else {
                continue;
            };
            let down_bytes = match &down {
                Some(down) => self.optional_down(&dir.join(down), down),
                None => Err(format!("{up} has no .down.sql")),
            };
            // sqlx reads the marker at the very start of the file.
            let marked = |bytes: &[u8]| match tool {
                Tool::Sqlx => bytes.starts_with(b"-- no-transaction"),
                _ => autocommit(bytes) == Some(Autocommit::Alone),
            };
            self.sources.push(Source {
                version: versions::positive(number),
                tool_version: number.to_string(),
                name: clean_name(&name),
                origin: up,
                up_no_transaction: marked(&up_bytes),
                down_no_transaction: down_bytes.as_deref().is_ok_and(marked),
                up: up_bytes,
                down: down_bytes,
            });
        }
        Ok(())
    }

    fn dbmate(&mut self, dir: &Path) -> Result<()> {
        for (file, is_dir) in entries(dir)? {
            let digits_end = file.bytes().take_while(u8::is_ascii_digit).count();
            let version = versions::digits(&file[..digits_end]);
            let (Some(number), false, true) = (version, is_dir, file.ends_with(".sql")) else {
                self.ignored.push(file);
                continue;
            };
            let name = file[digits_end..].trim_end_matches(".sql");
            let Some(bytes) = self.bytes(&dir.join(&file), &file) else {
                continue;
            };
            let Ok(text) = String::from_utf8(bytes) else {
                self.problems.push(format!("{file}: is not UTF-8 text"));
                continue;
            };
            match dbmate_sections(&text) {
                Ok(sections) => self.sources.push(Source {
                    version: versions::positive(number),
                    tool_version: file[..digits_end].to_string(),
                    name: clean_name(name),
                    up: sections.up.as_bytes().to_vec(),
                    down: match sections.down {
                        Some(down) if !down.trim().is_empty() => Ok(down.as_bytes().to_vec()),
                        Some(_) => Err(format!("the `-- migrate:down` section of {file} is empty")),
                        None => Err(format!("{file} has no `-- migrate:down` section")),
                    },
                    up_no_transaction: sections.up_no_transaction,
                    down_no_transaction: sections.down_no_transaction,
                    origin: file,
                }),
                Err(why) => self.problems.push(format!("{file}: {why}")),
            }
        }
        Ok(())
    }

    fn flyway(&mut self, dir: &Path) -> Result<()> {
        let mut undos: BTreeMap<String, String> = BTreeMap::new();
        let mut ups: Vec<(String, String, String)> = Vec::new();
        for (file, is_dir) in entries(dir)? {
            let parsed = file
                .strip_suffix(".sql")
                .and_then(|stem| stem.split_once("__"))
                .filter(|_| !is_dir);
            let Some((prefix, description)) = parsed else {
                let conf = file.ends_with(".sql.conf");
                if !conf {
                    self.ignored.push(file);
                }
                continue;
            };
            match prefix.split_at(prefix.len().min(1)) {
                ("V", version) => ups.push((version.to_string(), description.to_string(), file)),
                ("U", version) => {
                    undos.insert(version.to_string(), file);
                }
                ("R", _) | ("B", _) => self.problems.push(format!(
                    "{file}: flyway's {} migrations have no pgstrata equivalent (a view belongs \
                     in views/, rebuilt after every up and down); move it out of the folder and \
                     import again",
                    if prefix.starts_with('R') {
                        "repeatable"
                    } else {
                        "baseline"
                    }
                )),
                _ => self.ignored.push(file),
            }
        }
        let dotted = ups.iter().any(|(v, _, _)| versions::flyway_dotted(v));
        for (raw, description, file) in ups {
            let number = match versions::flyway(&raw, dotted) {
                Ok(number) => number,
                Err(why) => {
                    self.problems.push(format!("{file}: {why}"));
                    continue;
                }
            };
            let Some(up) = self.bytes(&dir.join(&file), &file) else {
                continue;
            };
            let (down, down_no_transaction) = match undos.remove(&raw) {
                Some(undo) => {
                    let down = self.optional_down(&dir.join(&undo), &undo);
                    let marked = down
                        .as_deref()
                        .is_ok_and(|bytes| flyway_no_transaction(dir, &undo, bytes));
                    (down, marked)
                }
                None => (
                    Err(format!("{file} has no undo migration U{raw}__…")),
                    false,
                ),
            };
            self.sources.push(Source {
                version: versions::positive(number),
                tool_version: raw,
                name: clean_name(&description),
                up_no_transaction: flyway_no_transaction(dir, &file, &up),
                down_no_transaction,
                origin: file,
                up,
                down,
            });
        }
        for undo in undos.into_values() {
            self.problems
                .push(format!("{undo}: an undo migration without its V migration"));
        }
        Ok(())
    }

    /// Refuses duplicate versions (and 0 beside 1); the sources in version order.
    fn finish(mut self, tool: Tool) -> Result<(Vec<Source>, Vec<String>)> {
        self.sources.sort_by_key(|s| s.version);
        for pair in self.sources.windows(2) {
            if pair[0].version == pair[1].version {
                self.problems.push(format!(
                    "{} and {} would both be version {} (versions {} and {}); renumber one \
                     of them first",
                    pair[0].origin,
                    pair[1].origin,
                    pair[0].version,
                    pair[0].tool_version,
                    pair[1].tool_version
                ));
            }
        }
        if tool == Tool::Diesel {
            // diesel runs its folders in the order of their version text; pgstrata in numeric
            // order. They agree unless versions of different lengths interleave.
            let mut by_text: Vec<&Source> = self.sources.iter().collect();
            by_text.sort_by(|a, b| a.tool_version.cmp(&b.tool_version));
            if let Some((a, b)) = by_text
                .iter()
                .zip(self.sources.iter())
                .find(|(a, b)| a.version != b.version)
            {
                self.problems.push(format!(
                    "diesel runs {} before {}, but their versions ({} and {}) are numbered the \
                     other way round; pgstrata would run them in another order",
                    a.origin, b.origin, a.tool_version, b.tool_version
                ));
            }
        }
        if !self.problems.is_empty() {
            bail!(Refusal::InvalidProject(self.problems));
        }
        Ok((self.sources, self.ignored))
    }
}

/// A dbmate file's sections.
#[derive(Debug, PartialEq, Eq)]
struct Sections<'a> {
    up: &'a str,
    down: Option<&'a str>,
    up_no_transaction: bool,
    down_no_transaction: bool,
}

/// Splits a dbmate file at its `-- migrate:up` and `-- migrate:down` lines; each section is
/// the text after its marker line. Only blanks and comments may come before `-- migrate:up`.
fn dbmate_sections(text: &str) -> Result<Sections<'_>, String> {
    let mut up: Option<(usize, bool)> = None;
    let mut down: Option<(usize, usize, bool)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(marker) = dbmate_marker(line) else {
            if up.is_none() && !line.trim().is_empty() && !line.trim_start().starts_with("--") {
                return Err("has statements before `-- migrate:up`, which dbmate refuses".into());
            }
            continue;
        };
        let (section, options) = marker;
        let no_transaction = options
            .split_whitespace()
            .any(|option| option == "transaction:false");
        match (section, up, down) {
            ("up", None, _) => up = Some((offset, no_transaction)),
            ("down", Some(_), None) => down = Some((start, offset, no_transaction)),
            _ => {
                return Err(format!(
                    "has a second or misplaced `-- migrate:{section}` line"
                ));
            }
        }
    }
    let Some((up_start, up_no_transaction)) = up else {
        return Err("has no `-- migrate:up` line".into());
    };
    let up_end = down.map_or(text.len(), |(start, _, _)| start);
    Ok(Sections {
        up: &text[up_start..up_end],
        down: down.map(|(_, start, _)| &text[start..]),
        up_no_transaction,
        down_no_transaction: down.is_some_and(|(_, _, no)| no),
    })
}

/// `-- migrate:up transaction:false` -> ("up", "transaction:false").
fn dbmate_marker(line: &str) -> Option<(&'static str, &str)> {
    let rest = line.trim_end().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    for section in ["up", "down"] {
        if let Some(options) = rest.strip_prefix(section)
            && (options.is_empty() || options.starts_with(char::is_whitespace))
        {
            return Some((section, options));
        }
    }
    None
}

/// Flyway runs a script outside a transaction when its `.conf` file or a comment in it says
/// `executeInTransaction=false`.
fn flyway_no_transaction(dir: &Path, file: &str, bytes: &[u8]) -> bool {
    let said = |text: &str| {
        text.lines().any(|line| {
            let line = line.trim().trim_start_matches("--").trim();
            let line = line.strip_prefix("flyway:").unwrap_or(line);
            line.replace(' ', "") == "executeInTransaction=false"
        })
    };
    let conf = fs::read_to_string(dir.join(format!("{file}.conf"))).unwrap_or_default();
    said(&conf) || said(&String::from_utf8_lossy(bytes)) || autocommit(bytes).is_some()
}

/// A file holding a statement that cannot run in a transaction block.
#[derive(Debug, PartialEq, Eq)]
enum Autocommit {
    /// It is the file's only statement.
    Alone,
    /// Among others.
    Among,
}

/// Whether the file holds a statement that cannot run in a transaction block, read by
/// PostgreSQL's parser (a file it cannot read is left for the loader to report).
fn autocommit(bytes: &[u8]) -> Option<Autocommit> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let statements = crate::sql::with_room(|| crate::sql::parse(text))
        .ok()?
        .ok()?;
    if !statements
        .iter()
        .any(|s| s.class.needs_autocommit.is_some())
    {
        return None;
    }
    Some(match statements.len() {
        1 => Autocommit::Alone,
        _ => Autocommit::Among,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_need_autocommit_are_found_by_the_parser() {
        let one = b"-- build it\nCREATE INDEX CONCURRENTLY i ON t (x);\n";
        assert_eq!(autocommit(one), Some(Autocommit::Alone));
        let two = b"CREATE TABLE t (x int);\nCREATE INDEX CONCURRENTLY i ON t (x);\n";
        assert_eq!(autocommit(two), Some(Autocommit::Among));
        assert_eq!(autocommit(b"CREATE INDEX i ON t (x);"), None);
        assert_eq!(autocommit(b"SELECT 'CREATE INDEX CONCURRENTLY';"), None);
    }

    #[test]
    fn dbmate_sections_are_split_at_their_marker_lines() {
        let text = "-- a comment\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i \
                    ON t (x);\n\n--   migrate:down\nDROP INDEX i;\n";
        let sections = dbmate_sections(text).unwrap();
        assert_eq!(sections.up, "CREATE INDEX CONCURRENTLY i ON t (x);\n\n");
        assert_eq!(sections.down, Some("DROP INDEX i;\n"));
        assert!(sections.up_no_transaction && !sections.down_no_transaction);
        let no_down = dbmate_sections("-- migrate:up\nSELECT 1;\n").unwrap();
        assert_eq!(no_down.down, None);
        assert!(dbmate_sections("SELECT 1;\n-- migrate:up\n").is_err());
        assert!(dbmate_sections("-- migrate:down\nSELECT 1;\n").is_err());
        assert!(dbmate_sections("-- migrate:upgrade\n").is_err());
    }
}

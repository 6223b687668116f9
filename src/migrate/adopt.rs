//! Adopting a database whose migrations refinery applied, so a project can switch to
//! pgstrata without renaming a file (both use `V{n}__{name}.sql`).
//!
//! Every row of refinery's history table must match a migration on disk by version and
//! name, and its checksum must equal refinery's own checksum of that file (computed with the
//! refinery crate: SipHash-1-3 over name, version and the file's exact text, so a file edited
//! since refinery applied it is caught). Only then are the rows recorded in pgstrata's
//! history, in one transaction under the migration lock. refinery's table is left in place.
//! This module uses the refinery crate for its checksum only; migrations never run through
//! refinery's runner.
//!
//! The table may be schema-qualified as refinery takes it (`--table-name schema.table`, which
//! refinery splices into its SQL as written): the name is read the way the server reads it
//! and each part quoted. Files that wrap their whole text in `BEGIN; … COMMIT;` are adopted
//! only when asked to unwrap them (see `unwrap`).

mod tools;
mod unwrap;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;

use crate::checksum;
use crate::db::quote_ident;
use crate::error::Refusal;
use crate::migrate::history::History;
use crate::migrate::lock;
use crate::migrate::project::{Migration, Project};
use crate::shown::escape;
pub use tools::{ToolAdoption, adopt, default_table};
use unwrap::Unwrap;

/// One migration recorded from refinery's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Adopted {
    pub version: i64,
    pub name: String,
    /// When refinery applied it, as refinery recorded it.
    pub applied_on: Option<String>,
    /// Its file wrapped its whole text in `BEGIN; … COMMIT;`, and that pair was commented out
    /// in the file (recorded with the checksum of the file as rewritten).
    pub unwrapped: bool,
}

/// A row of refinery's history table.
struct RefineryRow {
    version: i64,
    name: String,
    applied_on: Option<String>,
    checksum: Option<String>,
}

/// How to adopt: refinery's table, and whether to unwrap files wrapped in `BEGIN … COMMIT`.
#[derive(Debug, Clone)]
pub struct Adoption<'a> {
    pub history_schema: &'a str,
    /// refinery's history table as refinery was given it: `name` or `schema.name`, each part
    /// unquoted (folded to lower case, as the server does) or "quoted".
    pub table: &'a str,
    pub lock_wait: Duration,
    pub unwrap_transactions: bool,
}

/// Records refinery's applied migrations in pgstrata's history. `project` may be unparsed
/// ([`crate::migrate::project::load_unparsed`]): it is parsed here, after the files that
/// refinery ran wrapped in `BEGIN … COMMIT` are unwrapped (when asked to).
pub fn refinery(client: &mut Client, project: Project, how: &Adoption) -> Result<Vec<Adopted>> {
    let table = qualified_table(how.table)?;
    lock::with_lock(
        client,
        how.history_schema,
        how.lock_wait,
        |_, _| {},
        |client| adopt_locked(client, project, how, &table),
    )
}

fn adopt_locked(
    client: &mut Client,
    mut project: Project,
    how: &Adoption,
    quoted_table: &str,
) -> Result<Vec<Adopted>> {
    let (history_schema, table) = (how.history_schema, how.table);
    let history = History::new(history_schema);
    // Even an empty history means pgstrata has managed this database (perhaps rolled
    // everything back), and refinery's table is stale.
    if let Some(rows) = history.read(client)? {
        bail!(Refusal::AlreadyManaged(format!(
            "{history_schema}.history exists (recording {} migrations): pgstrata already manages \
             this database, and refinery's table may be stale; adopting is only for a database \
             pgstrata has not managed yet",
            rows.len()
        )));
    }
    let rows = read_refinery(client, table, quoted_table)?;
    if rows.is_empty() {
        bail!("{table} is empty: refinery applied nothing here, so there is nothing to adopt");
    }
    let rewrites = check_rows(&project, &rows, how.unwrap_transactions)?;
    // The project as it will be once the files are rewritten, checked whole before anything
    // is written or recorded.
    for rewrite in &rewrites {
        let migration = project
            .migrations
            .iter_mut()
            .find(|m| m.version == rewrite.version)
            .expect("verified");
        migration.up.sql = checksum::normalize(&rewrite.unwrapped);
        migration.up.checksum = checksum::sha256_hex(&migration.up.sql);
    }
    let project = project.parse()?;
    let mut tx = client.transaction().context("starting the adoption")?;
    history.ensure(&mut tx)?;
    for row in &rows {
        let migration = project.migration(row.version).expect("verified above");
        history.record_adopted(&mut tx, migration, row.applied_on.as_deref(), "refinery")?;
    }
    // Written before the commit, put back if it fails: the files and the history never
    // disagree about which text was adopted.
    write_files(&project.root, &rewrites, |r| &r.unwrapped)?;
    if let Err(err) = tx.commit() {
        let restored = write_files(&project.root, &rewrites, |r| &r.original);
        return Err(anyhow::Error::new(err).context(match restored {
            Ok(()) => "committing the adoption (the files were put back as they were)".into(),
            Err(undo) => format!(
                "committing the adoption; putting the files back failed too ({undo:#}): restore \
                 them from version control"
            ),
        }));
    }
    Ok(rows
        .into_iter()
        .map(|row| Adopted {
            version: row.version,
            name: row.name,
            applied_on: row.applied_on,
            unwrapped: rewrites.iter().any(|r| r.version == row.version),
        })
        .collect())
}

/// A migration file refinery ran wrapped in `BEGIN … COMMIT`, and its text unwrapped.
struct Rewrite {
    version: i64,
    path: String,
    /// Exactly as on disk.
    original: String,
    unwrapped: String,
}

/// Checks every row against the project (see [`verify`]) and each file for transaction
/// control: the files to unwrap, or every problem found.
fn check_rows(project: &Project, rows: &[RefineryRow], unwrap: bool) -> Result<Vec<Rewrite>> {
    let mut problems = Vec::new();
    let mut rewrites = Vec::new();
    for row in rows {
        let original = match verify(project, row) {
            Ok(text) => text,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let path = project
            .migration(row.version)
            .expect("verified")
            .up
            .path
            .clone();
        match unwrap::unwrap(&original) {
            Unwrap::Unchanged => {}
            Unwrap::Unwrapped(unwrapped) if unwrap => rewrites.push(Rewrite {
                version: row.version,
                path,
                original,
                unwrapped,
            }),
            Unwrap::Unwrapped(_) => problems.push(format!(
                "{path}: wraps its whole text in BEGIN; … COMMIT; refinery ran it inside a \
                 transaction of its own, where that pair did nothing, but pgstrata runs each \
                 migration in one transaction with its history row, which the file's COMMIT \
                 would end early; run adopt-refinery --unwrap-transactions to comment the pair \
                 out (what the file does stays the same), then commit the changed files"
            )),
            Unwrap::Refused(why) => problems.push(format!(
                "{path}:{why}; pgstrata cannot run it, and it cannot be adopted as it is"
            )),
        }
    }
    if !problems.is_empty() {
        bail!(Refusal::InvalidProject(problems));
    }
    Ok(rewrites)
}

/// Writes each rewrite's `text` to its file; on failure, puts back the files already written
/// and says which file failed.
fn write_files(
    root: &std::path::Path,
    rewrites: &[Rewrite],
    text: impl Fn(&Rewrite) -> &String,
) -> Result<()> {
    for (index, rewrite) in rewrites.iter().enumerate() {
        if let Err(err) = std::fs::write(root.join(&rewrite.path), text(rewrite)) {
            for done in &rewrites[..index] {
                let _ = std::fs::write(root.join(&done.path), &done.original);
            }
            return Err(err).with_context(|| format!("rewriting {}", rewrite.path));
        }
    }
    Ok(())
}

/// refinery's table name as SQL: `schema.table` split where the server would split it, each
/// part folded or unquoted as the server reads it, then quoted with [`quote_ident`].
fn qualified_table(name: &str) -> Result<String> {
    let parts = split_qualified(name).ok_or_else(|| {
        anyhow::anyhow!(
            "--table `{}` is not a table name: give `table` or `schema.table` as refinery was \
             given it, with \"double quotes\" around a part that has capitals, dots or spaces",
            escape(name)
        )
    })?;
    Ok(parts
        .iter()
        .map(|part| quote_ident(part))
        .collect::<Vec<_>>()
        .join("."))
}

/// `a.b`, `"My.Schema"."T"`: one or two parts; `None` for anything the server would not read
/// as a table name. Unquoted parts are folded to lower case (ASCII only, as the server folds
/// them); quoted parts keep their case, and `""` in them is a quote.
fn split_qualified(name: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = name.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                let first = part.is_empty();
                let fits =
                    c == '_' || c.is_alphabetic() || (!first && (c.is_numeric() || c == '$'));
                if !fits {
                    return None;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => {}
            Some(_) => return None,
        }
    }
    (parts.len() <= 2).then_some(parts)
}

fn read_refinery(client: &mut Client, table: &str, quoted: &str) -> Result<Vec<RefineryRow>> {
    let sql = include_str!("queries/refinery_history.sql").replace("{table}", quoted);
    let rows = client.query_typed(&sql, &[]).map_err(|err| {
        if err.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) {
            anyhow::anyhow!(
                "there is no table {table} here: refinery never ran on this database (or it \
                 used another table name; pass it with --table)"
            )
        } else {
            anyhow::Error::new(err).context(format!("reading {table}"))
        }
    })?;
    // Every column is cast to the type read here (queries/refinery_history.sql), so only a
    // NULL can fail: refinery never writes one, a hand-edited table may.
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let null = |column: &str| {
                anyhow::anyhow!(
                    "{table} cannot be adopted: row {} has no {column} (NULL), which refinery \
                     never writes; fix or delete that row by hand",
                    index + 1
                )
            };
            Ok(RefineryRow {
                version: row
                    .try_get::<_, Option<i64>>(0)?
                    .ok_or_else(|| null("version"))?,
                name: row
                    .try_get::<_, Option<String>>(1)?
                    .ok_or_else(|| null("name"))?,
                applied_on: row.try_get(2)?,
                checksum: row.try_get(3)?,
            })
        })
        .collect()
}

/// Checks one refinery row against the project: same version, same name, same checksum.
/// Returns the file's text exactly as refinery hashed it.
fn verify(project: &Project, row: &RefineryRow) -> Result<String, String> {
    let v = row.version;
    let Some(migration) = project.migration(v) else {
        return Err(format!(
            "refinery applied V{v}__{}, but migrations/ has no migration {v}",
            escape(&row.name)
        ));
    };
    if migration.name != row.name {
        return Err(format!(
            "{}: refinery applied version {v} as `{}`; the names must match",
            migration.up.path,
            escape(&row.name)
        ));
    }
    let (text, expected) = refinery_checksum(project, migration)?;
    let recorded = row.checksum.as_deref().unwrap_or("");
    if recorded != expected.to_string() {
        return Err(format!(
            "{}: changed since refinery applied it (refinery checksum {recorded}, file \
             {expected}); restore the file as it was when it ran. (A project built with \
             refinery's int8-versions feature has other checksums; it cannot be adopted yet.)",
            migration.up.path,
            recorded = escape(recorded),
        ));
    }
    Ok(text)
}

/// refinery's checksum of a migration file: of its exact text (no BOM or CRLF
/// normalisation: refinery hashes the file as it reads it).
fn refinery_checksum(project: &Project, migration: &Migration) -> Result<(String, u64), String> {
    let path = project.root.join(&migration.up.path);
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("{}: cannot be read again: {err}", migration.up.path))?;
    let stem = format!("V{}__{}", migration.version, migration.name);
    refinery::Migration::unapplied(&stem, &text)
        .map(|m| (text.clone(), m.checksum()))
        .map_err(|err| {
            format!(
                "{}: refinery cannot read its name: {err}",
                migration.up.path
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_read_as_the_server_reads_them() {
        let ok = |name: &str| qualified_table(name).unwrap();
        assert_eq!(ok("refinery_schema_history"), "\"refinery_schema_history\"");
        assert_eq!(ok("App.History"), "\"app\".\"history\"");
        assert_eq!(ok("\"My.Schema\".\"Hist\""), "\"My.Schema\".\"Hist\"");
        assert_eq!(ok("app.\"a\"\"b\""), "\"app\".\"a\"\"b\"");
        assert_eq!(ok("élan.t$1"), "\"élan\".\"t$1\"");
        for bad in [
            "",
            "a.",
            ".a",
            "a..b",
            "a.b.c",
            "1abc",
            "a b",
            "\"unterminated",
            "\"a\"b",
            "t; DROP TABLE x",
            "a.\"\"",
        ] {
            assert!(qualified_table(bad).is_err(), "{bad}");
        }
    }
}

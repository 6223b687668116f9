//! Adopting a database that pgstrata never managed: its schema becomes the project's first
//! migration, recorded as applied there without running.
//!
//! Under the migration lock: refuse a database with pgstrata history and a project whose
//! migrations would not all come after the baseline; take the snapshot (the executable one
//! `snapshot` prints, which loads into an empty database as the same schema); refuse objects
//! the snapshot cannot carry (`uncovered`) unless forced; write the migration (the snapshot),
//! its rollback (`rollback`, from the same text) and its schema snapshot, each created whole
//! and never over an existing file (`write`); check that the project loads with them; then
//! record the migration as applied in one transaction. A failure after the files were written
//! removes them again. Nothing here prints.

mod rollback;
mod uncovered;
mod write;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;

use crate::db::{quote_ident, quote_literal};
use crate::error::Refusal;
use crate::migrate::history::{BASELINE_APPLIED_BY, History};
use crate::migrate::{lock, project};
use crate::shown::escape;
use crate::snapshot::{self, SnapshotOptions, split_blocks};
pub use uncovered::Uncovered;

/// The name of the baseline's files: `V{n}__baseline.sql`.
pub const NAME: &str = "baseline";

/// How to baseline.
#[derive(Debug, Clone)]
pub struct Request {
    pub history_schema: String,
    pub lock_wait: Duration,
    /// The baseline's version.
    pub version: i64,
    /// Write the baseline even though the database holds objects it cannot carry.
    pub force: bool,
    /// What the snapshot covers (the project's `schemas`, never the history schema).
    pub options: SnapshotOptions,
}

/// What a baseline wrote and recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Baseline {
    pub version: i64,
    pub name: String,
    /// Relative to the project root.
    pub migration: String,
    pub rollback: String,
    /// Its delta: the whole schema, every object being new.
    pub snapshot: String,
    /// `schema-snapshots/schema.sql`, the whole schema; not written when migrations/ holds
    /// migrations above the baseline (the schema at the newest one is not the baseline's).
    pub schema: Option<String>,
    /// How many objects (snapshot blocks) the baseline creates.
    pub objects: usize,
    /// Objects it cannot carry, left out because it was forced to.
    pub left_out: Vec<Uncovered>,
}

/// Writes the baseline of the database `client` is connected to into the project at `root`
/// and records it as applied there (see the module documentation).
pub fn baseline(client: &mut Client, root: &Path, request: &Request) -> Result<Baseline> {
    if request.version <= 0 {
        bail!("--version must be 1 or more");
    }
    // A folder without migrations/ is a project yet to be made: the baseline makes it.
    let mut later = false;
    if crate::files::exists(&root.join("migrations")) {
        let project = project::load(root)?;
        refuse_project(&project, request.version)?;
        later = !project.migrations.is_empty();
    } else if let Some(view) = first_view_file(root) {
        refuse_views(1, &view)?;
    }
    lock::with_lock(
        client,
        &request.history_schema,
        request.lock_wait,
        |_, _| {},
        |client| baseline_locked(client, root, request, later),
    )
}

/// `later`: migrations/ holds migrations above the baseline, so the schema at the newest
/// migration (schema.sql) is not the baseline's: `check --write-snapshots` writes it.
fn baseline_locked(
    client: &mut Client,
    root: &Path,
    request: &Request,
    later: bool,
) -> Result<Baseline> {
    let history = History::new(&request.history_schema);
    let left_out = refuse_database(client, &history, request)?;
    let text = snapshot::take(client, &request.options)?.render();
    let roles: Vec<String> = client
        .query(include_str!("queries/baseline_roles.sql"), &[])
        .context("reading the roles the database's privileges name")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let blocks = split_blocks(&text).blocks;
    let objects = blocks
        .iter()
        .filter(|block| block.object != "schema public")
        .count();
    // Every new database has a public schema; one dropped here is dropped by the baseline too.
    let drops_public = request.options.keeps("public")
        && !blocks.iter().any(|block| block.object == "schema public");
    if objects == 0 {
        bail!(
            "the database has no schema to adopt (the snapshot holds only the public schema); \
             start with `pgstrata new NAME` instead"
        );
    }
    let file_name = format!("V{}__{NAME}.sql", request.version);
    let title = format!("V{}__{NAME}", request.version);
    let files = write::Files::new(root, &file_name, !later);
    files.refuse_existing()?;
    let migration = migration_text(&title, &roles, &text, drops_public);
    let rollback = rollback::rollback(&text, &title, drops_public)?;
    // The first delta is the whole schema: every block is new.
    let delta =
        snapshot::Delta::between(&snapshot::Schema::empty(), &snapshot::Schema::parse(&text));
    let written = files.write(&migration, &rollback, &delta.text(), &text)?;
    let recorded = record(client, root, &history, request.version);
    if let Err(err) = recorded {
        return Err(match written.remove() {
            Ok(()) => err.context("recording the baseline (its files were removed again)"),
            Err(undo) => err.context(format!(
                "recording the baseline; removing its files failed too ({undo:#}): delete them"
            )),
        });
    }
    Ok(Baseline {
        version: request.version,
        name: NAME.to_string(),
        migration: format!("migrations/{file_name}"),
        rollback: format!("rollbacks/{file_name}"),
        snapshot: format!("schema-snapshots/{file_name}"),
        schema: (!later).then(|| write::SCHEMA_FILE.to_string()),
        objects,
        left_out,
    })
}

/// Refuses a database pgstrata manages already, settings that would make its snapshot blind,
/// and objects a snapshot cannot carry unless forced; returns those objects when forced.
fn refuse_database(
    client: &mut Client,
    history: &History,
    request: &Request,
) -> Result<Vec<Uncovered>> {
    if let Some(rows) = history.read(client)? {
        bail!(Refusal::AlreadyManaged(format!(
            "{}.history exists (recording {}): pgstrata already manages this database, so \
             there is nothing to adopt; `pgstrata status` shows where it stands",
            escape(history.schema()),
            count(rows.len(), "migration")
        )));
    }
    snapshot::refuse_blind_spots_in(client, &request.options)?;
    let uncovered = uncovered::find(client, &request.options)?;
    if !uncovered.is_empty() && !request.force {
        bail!(
            "the database holds {} that a baseline cannot carry (snapshots do not cover \
             them yet), so a baseline would silently lack them:{}\nremove them, or run \
             `pgstrata baseline --force` to adopt the rest: they stay in this database but \
             the migrations do not create them anywhere else, and `drift` and `check` do not \
             see them",
            count(uncovered.len(), "object"),
            uncovered
                .iter()
                .map(|u| format!("\n  {u}"))
                .collect::<String>()
        );
    }
    Ok(uncovered)
}

/// Refuses a project whose migrations would not all come after the baseline: it must be the
/// first migration, and an applied migration must never come after a pending one.
fn refuse_project(project: &project::Project, version: i64) -> Result<()> {
    if let Some(view) = project.views.first() {
        refuse_views(project.views.len(), &view.file.path)?;
    }
    let Some(first) = project.migrations.first() else {
        return Ok(());
    };
    if first.version <= version {
        bail!(
            "migrations/ already holds {} (from V{}): the baseline must be the first migration; \
             give it a lower version with `--version N` (N below {}), or baseline into a \
             project without migrations",
            count(project.migrations.len(), "migration"),
            first.version,
            first.version
        );
    }
    Ok(())
}

/// Refuses a project with view files: the baseline's migration creates the database's views
/// already, and rebuilding them from files after it (and dropping them with its rollback
/// while their files remain) would not add up.
fn refuse_views(files: usize, first: &str) -> Result<()> {
    bail!(
        "views/ holds {} ({first}): a baseline carries the database's views in its migration, \
         so view files would make them a second time; move views/ aside to baseline, then turn \
         views into view files with later migrations",
        count(files, "file")
    )
}

/// The first `.sql` file in views/ of a folder that has no migrations/ yet.
fn first_view_file(root: &Path) -> Option<String> {
    let entries = std::fs::read_dir(root.join("views")).ok()?;
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sql"))
        .min()
        .map(|name| format!("views/{name}"))
}

/// The baseline migration: the snapshot, under a comment that says what it is, and dropping
/// the public schema when the database has none.
fn migration_text(title: &str, roles: &[String], snapshot: &str, drops_public: bool) -> String {
    let mut text = format!(
        "-- {title}: the schema of the database pgstrata adopted (`pgstrata baseline`), so \
         that\n-- the migrations build it from nothing. It was recorded as applied on that \
         database\n-- without running there. Its text is the database's schema snapshot.\n\n\
         {}{snapshot}",
        roles_text(roles)
    );
    if drops_public {
        text.push_str(
            "\n-- The database has no public schema, which every new database has: drop it.\n\
             -- pgstrata:lint-ignore drop-schema a new database's public schema is empty\n\
             DROP SCHEMA \"public\";\n",
        );
    }
    text
}

/// The roles the snapshot's grants name, made where missing: a role belongs to the server, so
/// a new one (the scratch server `check` starts, a new environment) has none of them.
fn roles_text(roles: &[String]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for role in roles {
        body.push_str(&format!(
            "    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) THEN\n        \
             CREATE ROLE {} NOLOGIN;\n    END IF;\n",
            quote_literal(role),
            quote_ident(role)
        ));
    }
    // A tag the names inside cannot end early.
    let mut tag = "$roles$".to_string();
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!(
        "-- Roles the privileges below name. A role belongs to the server, not to the database: \
         one\n-- a server lacks (a new one, such as the scratch server `pgstrata check` starts) \
         is made\n-- here, NOLOGIN and with no rights but the grants below. The rollback leaves \
         them: other\n-- databases of the server may use them.\nDO {tag}\nBEGIN\n{body}END\n{tag};\n\n"
    )
}

/// Records the baseline as applied, with the checksums of its files as the project now
/// reads them (loading the project also proves the written files valid).
fn record(client: &mut Client, root: &Path, history: &History, version: i64) -> Result<()> {
    let project = project::load(root).context("loading the project with the baseline")?;
    let migration = project
        .migration(version)
        .context("the baseline is missing from the project just written")?;
    let mut tx = client
        .transaction()
        .context("starting to record the baseline")?;
    history.ensure(&mut tx)?;
    history.record_adopted(&mut tx, migration, None, BASELINE_APPLIED_BY)?;
    tx.commit().context("committing the baseline's history row")
}

/// `1 object`, `3 objects`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

//! Managed views (`views/*.sql`): derived objects rebuilt after every `up` and `down`.
//!
//! A view file is (re)applied when its checksum changed, its view is missing, or its
//! `requires` became satisfied; its view is dropped when a required version is rolled back
//! or its file is deleted. All of it happens in ONE transaction, so readers never see a
//! missing view. `CREATE OR REPLACE VIEW` is tried first; when PostgreSQL refuses it (a column
//! removed, renamed or retyped), the view and the managed views that depend on it are dropped
//! and created again in that same transaction. Views depending on it that pgstrata does not
//! manage are never dropped: the rebuild fails and names them.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, GenericClient, Transaction};
use serde::Serialize;

use crate::db::quote_ident;
use crate::migrate::execute::{FileLimits, run_batch};
use crate::migrate::history::History;
use crate::migrate::project::{Project, View};

/// What happened to one view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewChange {
    /// `schema.name`.
    pub view: String,
    pub file: String,
    pub action: ViewAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewAction {
    Created,
    Replaced,
    /// `CREATE OR REPLACE` was refused; dropped and created again.
    Recreated,
    Dropped,
}

/// A view pgstrata created, as recorded in `<schema>.views`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    file: String,
    schema: String,
    name: String,
    checksum: String,
    present: bool,
}

/// One step of a rebuild, decided before anything runs.
#[derive(Debug, Clone)]
enum Step<'p> {
    Apply(&'p View, String),
    Drop {
        file: String,
        schema: String,
        name: String,
    },
}

/// How a rebuild's transaction runs: under the run's time limits, each view file starting
/// from the session's baseline.
pub struct Guard<'a> {
    pub limits: &'a FileLimits,
    /// SQL returning the session to its baseline (see `session`).
    pub reset: &'a str,
}

/// Brings the managed views in line with the project and the applied versions, in one
/// transaction. Without a `guard` (a dry run), only reports what it would do.
pub fn rebuild(
    client: &mut Client,
    history: &History,
    project: &Project,
    applied: &BTreeSet<i64>,
    guard: Option<&Guard>,
) -> Result<Vec<ViewChange>> {
    let Some(guard) = guard else {
        if project.views.is_empty() {
            return Ok(Vec::new());
        }
        let state = read_state(client, history)?;
        let steps = decide(project, applied, &state.recorded, state.current_schema()?);
        return Ok(steps
            .iter()
            .map(|step| planned_change(step, &state.recorded))
            .collect());
    };
    let state = read_state(client, history)?;
    let recorded = &state.recorded;
    let steps = decide(project, applied, recorded, state.current_schema()?);
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = client.transaction().context("starting the view rebuild")?;
    // Each view file starts from the session's baseline, which holds the run's limits.
    let fresh = guard.reset;
    let mut changes = Vec::new();
    for step in &steps {
        match step {
            Step::Apply(view, schema) => {
                changes.extend(apply(&mut tx, history, project, view, schema, fresh)?);
            }
            Step::Drop { file, schema, name } => {
                drop_views(&mut tx, &[(schema.clone(), name.clone())])?;
                forget(&mut tx, history, schema, name)?;
                changes.push(ViewChange {
                    view: format!("{schema}.{name}"),
                    file: file.clone(),
                    action: ViewAction::Dropped,
                });
            }
        }
    }
    tx.batch_execute(guard.reset)
        .context("returning the session to its starting state")?;
    tx.commit().context("committing the view rebuild")?;
    Ok(changes)
}

/// Inside a rollback's transaction, before its SQL runs: drops the managed views that require
/// `version`, and the managed views that depend on those (the rebuild recreates them).
pub fn drop_requiring(
    tx: &mut Transaction,
    history: &History,
    project: &Project,
    version: i64,
) -> Result<Vec<ViewChange>> {
    let requiring: Vec<&View> = project
        .views
        .iter()
        .filter(|v| v.requires.contains(&version))
        .collect();
    if requiring.is_empty() {
        return Ok(Vec::new());
    }
    let recorded = read_recorded(tx, history)?;
    let mut doomed: BTreeMap<(String, String), String> = BTreeMap::new();
    for view in requiring {
        let Some(record) = recorded.iter().find(|r| r.file == file_key(view)) else {
            continue;
        };
        if !record.present {
            continue;
        }
        doomed.insert(
            (record.schema.clone(), record.name.clone()),
            view.file.path.clone(),
        );
        for (schema, name, file) in
            managed_dependents(tx, project, &recorded, &record.schema, &record.name)?
        {
            doomed.insert((schema, name), file);
        }
    }
    let names: Vec<(String, String)> = doomed.keys().cloned().collect();
    drop_views(tx, &names)?;
    let mut changes = Vec::new();
    for ((schema, name), file) in doomed {
        forget(tx, history, &schema, &name)?;
        changes.push(ViewChange {
            view: format!("{schema}.{name}"),
            file,
            action: ViewAction::Dropped,
        });
    }
    Ok(changes)
}

/// The rebuild plan: pure, from the project, the applied versions and the recorded views.
fn decide<'p>(
    project: &'p Project,
    applied: &BTreeSet<i64>,
    recorded: &[Recorded],
    current_schema: &str,
) -> Vec<Step<'p>> {
    let mut steps = Vec::new();
    let mut files = BTreeSet::new();
    for view in &project.views {
        let key = file_key(view);
        files.insert(key.clone());
        let schema = view
            .schema
            .clone()
            .unwrap_or_else(|| current_schema.to_string());
        let record = recorded.iter().find(|r| r.file == key);
        let wanted = view.requires.iter().all(|v| applied.contains(v));
        if !wanted {
            if let Some(r) = record {
                steps.push(Step::Drop {
                    file: view.file.path.clone(),
                    schema: r.schema.clone(),
                    name: r.name.clone(),
                });
            }
            continue;
        }
        let up_to_date = record.is_some_and(|r| {
            r.present
                && r.checksum == view.file.checksum
                && r.schema == schema
                && r.name == view.name
        });
        if !up_to_date {
            steps.push(Step::Apply(view, schema));
        }
    }
    // A deleted view file takes its view with it.
    for r in recorded.iter().filter(|r| !files.contains(&r.file)) {
        steps.push(Step::Drop {
            file: format!("views/{}", r.file),
            schema: r.schema.clone(),
            name: r.name.clone(),
        });
    }
    steps
}

fn planned_change(step: &Step, recorded: &[Recorded]) -> ViewChange {
    match step {
        Step::Apply(view, schema) => {
            let present = recorded
                .iter()
                .any(|r| r.file == file_key(view) && r.present);
            ViewChange {
                view: format!("{schema}.{}", view.name),
                file: view.file.path.clone(),
                action: if present {
                    ViewAction::Replaced
                } else {
                    ViewAction::Created
                },
            }
        }
        Step::Drop { file, schema, name } => ViewChange {
            view: format!("{schema}.{name}"),
            file: file.clone(),
            action: ViewAction::Dropped,
        },
    }
}

/// Runs one view file; falls back to drop-and-create when `CREATE OR REPLACE` is refused.
fn apply(
    tx: &mut Transaction,
    history: &History,
    project: &Project,
    view: &View,
    schema: &str,
    fresh: &str,
) -> Result<Vec<ViewChange>> {
    let existed = present(tx, schema, &view.name)?;
    let mut savepoint = tx.transaction()?;
    let first_try = savepoint
        .batch_execute(&view.file.sql)
        .and_then(|()| savepoint.batch_execute(fresh));
    let action = match first_try {
        Ok(()) => {
            savepoint.commit()?;
            if existed {
                ViewAction::Replaced
            } else {
                ViewAction::Created
            }
        }
        Err(err) if existed && needs_recreate(&err) => {
            savepoint.rollback()?;
            return recreate(tx, history, project, view, schema, fresh);
        }
        Err(err) => return Err(crate::migrate::execute::located(err, &view.file)),
    };
    finish(tx, history, view, schema)?;
    Ok(vec![ViewChange {
        view: format!("{schema}.{}", view.name),
        file: view.file.path.clone(),
        action,
    }])
}

/// Drops the view and its managed dependents, then runs their files again, view first.
fn recreate(
    tx: &mut Transaction,
    history: &History,
    project: &Project,
    view: &View,
    schema: &str,
    fresh: &str,
) -> Result<Vec<ViewChange>> {
    let recorded = read_recorded(tx, history)?;
    let dependents = managed_dependents(tx, project, &recorded, schema, &view.name)?;
    let mut names = vec![(schema.to_string(), view.name.clone())];
    names.extend(dependents.iter().map(|(s, n, _)| (s.clone(), n.clone())));
    drop_views(tx, &names)?;
    let mut again: Vec<(&View, String)> = vec![(view, schema.to_string())];
    // In file order, the order in which they can be created.
    for v in &project.views {
        if let Some((dep_schema, _, _)) = dependents.iter().find(|(_, _, f)| *f == v.file.path) {
            again.push((v, dep_schema.clone()));
        }
    }
    let mut changes = Vec::new();
    for (v, v_schema) in again {
        run_batch(tx, &v.file)?;
        tx.batch_execute(fresh)
            .context("returning the session to its starting state")?;
        finish(tx, history, v, &v_schema)?;
        changes.push(ViewChange {
            view: format!("{v_schema}.{}", v.name),
            file: v.file.path.clone(),
            action: ViewAction::Recreated,
        });
    }
    Ok(changes)
}

/// Checks the file created its view, and records it.
fn finish(tx: &mut Transaction, history: &History, view: &View, schema: &str) -> Result<()> {
    if !present(tx, schema, &view.name)? {
        bail!(
            "{} ran but did not create the view {schema}.{}; a view file must create the view \
             its file is named after (views/{{view}}.sql or views/{{schema}}.{{view}}.sql)",
            view.file.path,
            view.name
        );
    }
    tx.execute_typed(
        &history.sql(include_str!("queries/views_record.sql")),
        &[
            (&file_key(view), Type::TEXT),
            (&schema, Type::TEXT),
            (&view.name, Type::TEXT),
            (&view.file.checksum, Type::TEXT),
        ],
    )
    .with_context(|| format!("recording {}", view.file.path))?;
    Ok(())
}

/// PostgreSQL refuses `CREATE OR REPLACE VIEW` when a column is removed or renamed
/// (42P16), retyped (42804) or given another collation (42P21).
fn needs_recreate(err: &postgres::Error) -> bool {
    [
        SqlState::INVALID_TABLE_DEFINITION,
        SqlState::DATATYPE_MISMATCH,
        SqlState::COLLATION_MISMATCH,
    ]
    .iter()
    .any(|code| err.code() == Some(code))
}

/// The views depending on `schema.name`, each with its managing file. A dependent that no
/// view file manages stops the operation: pgstrata could not recreate it.
fn managed_dependents(
    client: &mut impl GenericClient,
    project: &Project,
    recorded: &[Recorded],
    schema: &str,
    name: &str,
) -> Result<Vec<(String, String, String)>> {
    let rows = client
        .query_typed(
            include_str!("queries/view_dependents.sql"),
            &[(&schema, Type::TEXT), (&name, Type::TEXT)],
        )
        .with_context(|| format!("finding the views that depend on {schema}.{name}"))?;
    let mut managed = Vec::new();
    for row in rows {
        let (dep_schema, dep_name): (String, String) = (row.get(0), row.get(1));
        let file = recorded
            .iter()
            .find(|r| r.schema == dep_schema && r.name == dep_name)
            .and_then(|r| project.views.iter().find(|v| file_key(v) == r.file))
            .map(|v| v.file.path.clone());
        match file {
            Some(file) => managed.push((dep_schema, dep_name, file)),
            None => bail!(
                "the view {dep_schema}.{dep_name} depends on {schema}.{name}, which must be \
                 dropped and created again, but no file in views/ manages {dep_schema}.{dep_name}; \
                 move its definition into views/ (or drop it in a migration) so pgstrata can \
                 recreate it"
            ),
        }
    }
    Ok(managed)
}

fn drop_views(client: &mut impl GenericClient, names: &[(String, String)]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = names
        .iter()
        .map(|(schema, name)| format!("{}.{}", quote_ident(schema), quote_ident(name)))
        .collect();
    client
        .batch_execute(&format!("DROP VIEW IF EXISTS {}", list.join(", ")))
        .with_context(|| format!("dropping {}", list.join(", ")))
}

fn forget(
    client: &mut impl GenericClient,
    history: &History,
    schema: &str,
    name: &str,
) -> Result<()> {
    client
        .execute_typed(
            &history.sql(include_str!("queries/views_forget.sql")),
            &[(&schema, Type::TEXT), (&name, Type::TEXT)],
        )
        .with_context(|| format!("forgetting the view {schema}.{name}"))?;
    Ok(())
}

fn present(client: &mut impl GenericClient, schema: &str, name: &str) -> Result<bool> {
    Ok(client
        .query_typed_one(
            include_str!("queries/view_present.sql"),
            &[(&schema, Type::TEXT), (&name, Type::TEXT)],
        )
        .with_context(|| format!("looking up the view {schema}.{name}"))?
        .get(0))
}

/// The session's current schema and the recorded views, in one query.
pub struct State {
    current_schema: Option<String>,
    recorded: Vec<Recorded>,
}

impl State {
    fn current_schema(&self) -> Result<&str> {
        self.current_schema.as_deref().context(
            "the search_path names no existing schema, so unqualified views have nowhere to go; \
             fix search_path or name view files views/{schema}.{view}.sql",
        )
    }
}

/// Whether a rebuild for the `applied` versions would do nothing, judged from a `State`
/// read earlier (without the lock: see `runner::Observed`).
pub fn is_current(project: &Project, applied: &BTreeSet<i64>, state: &State) -> bool {
    state
        .current_schema()
        .is_ok_and(|schema| decide(project, applied, &state.recorded, schema).is_empty())
}

pub fn read_state(client: &mut impl GenericClient, history: &History) -> Result<State> {
    let rows = match client.query_typed(&history.sql(include_str!("queries/views_state.sql")), &[])
    {
        Ok(rows) => rows,
        Err(err)
            if err.code() == Some(&SqlState::UNDEFINED_TABLE)
                || err.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            // No history yet (a dry run on a fresh database): nothing recorded.
            let current_schema = client
                .query_typed_one("SELECT current_schema()::text", &[])
                .context("reading the current schema")?
                .get(0);
            return Ok(State {
                current_schema,
                recorded: Vec::new(),
            });
        }
        Err(err) => {
            return Err(err).with_context(|| {
                format!(
                    "reading the managed views from {}.views (if another tool made that table, \
                     give pgstrata a schema of its own with --history-schema)",
                    history.schema()
                )
            });
        }
    };
    let mut recorded = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let cell = |column: usize| ViewCell {
            row,
            index,
            column,
            history,
        };
        let Some(file) = cell(1).get::<Option<String>>()? else {
            continue;
        };
        recorded.push(Recorded {
            file,
            schema: cell(2).get()?,
            name: cell(3).get()?,
            checksum: cell(4).get()?,
            present: cell(5).get()?,
        });
    }
    recorded.sort_by(|a, b| a.file.cmp(&b.file));
    let current_schema = match rows.first() {
        Some(row) => ViewCell {
            row,
            index: 0,
            column: 0,
            history,
        }
        .get()?,
        None => None,
    };
    Ok(State {
        current_schema,
        recorded,
    })
}

/// One value of a row of queries/views_state.sql, read without panicking: a NULL or a value of
/// another type (a table changed by hand, or made by another tool) is an error naming the
/// table, the row and the column, never a guess.
struct ViewCell<'r> {
    row: &'r postgres::Row,
    index: usize,
    column: usize,
    history: &'r History,
}

impl<'r> ViewCell<'r> {
    fn get<T: postgres::types::FromSql<'r>>(&self) -> Result<T> {
        const COLUMNS: &[&str] = &[
            "current_schema()",
            "file",
            "schema_name",
            "view_name",
            "checksum",
            "present",
        ];
        self.row.try_get(self.column).map_err(|err| {
            let file = self
                .row
                .try_get::<_, String>(1)
                .map_or(String::new(), |f| format!(" (file {f})"));
            anyhow::anyhow!(
                "{}.views cannot be read: row {}{file}: column {}: {err}; the table was changed \
                 by hand or made by another tool: restore it, or give pgstrata a schema of its \
                 own with --history-schema",
                self.history.schema(),
                self.index + 1,
                COLUMNS[self.column]
            )
        })
    }
}

fn read_recorded(client: &mut impl GenericClient, history: &History) -> Result<Vec<Recorded>> {
    Ok(read_state(client, history)?.recorded)
}

/// The key a view is recorded under: its file name within views/.
fn file_key(view: &View) -> String {
    view.file
        .path
        .strip_prefix("views/")
        .unwrap_or(&view.file.path)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::project::SqlFile;

    fn view(name: &str, requires: &[i64], sql: &str) -> View {
        View {
            schema: None,
            name: name.into(),
            file: SqlFile {
                path: format!("views/{name}.sql"),
                sql: sql.into(),
                checksum: crate::checksum::sha256_hex(sql),
                ..SqlFile::default()
            },
            requires: requires.to_vec(),
        }
    }

    fn recorded(v: &View, present: bool) -> Recorded {
        Recorded {
            file: file_key(v),
            schema: "public".into(),
            name: v.name.clone(),
            checksum: v.file.checksum.clone(),
            present,
        }
    }

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Apply(v, _) => format!("apply {}", v.name),
                Step::Drop { name, .. } => format!("drop {name}"),
            })
            .collect()
    }

    #[test]
    fn decide_applies_changed_missing_and_newly_allowed_views_only() {
        let same = view("same", &[], "v1");
        let changed = view("changed", &[], "v2");
        let missing = view("missing", &[], "v3");
        let newly = view("newly", &[2], "v4");
        let blocked = view("blocked", &[3], "v5");
        let project = Project {
            root: ".".into(),
            parsed: true,
            migrations: vec![],
            views: vec![
                same.clone(),
                changed.clone(),
                missing.clone(),
                newly,
                blocked.clone(),
            ],
            warnings: vec![],
        };
        let mut old = recorded(&changed, true);
        old.checksum = "old".into();
        let records = vec![
            recorded(&same, true),
            old,
            recorded(&missing, false),
            recorded(&blocked, true),
            Recorded {
                file: "deleted.sql".into(),
                schema: "public".into(),
                name: "deleted".into(),
                checksum: "x".into(),
                present: true,
            },
        ];
        let applied: BTreeSet<i64> = [1, 2].into();
        let steps = decide(&project, &applied, &records, "public");
        assert_eq!(
            kinds(&steps),
            vec![
                "apply changed",
                "apply missing",
                "apply newly",
                "drop blocked",
                "drop deleted"
            ]
        );
    }

    #[test]
    fn decide_does_nothing_when_all_is_current() {
        let v = view("v", &[1], "sql");
        let project = Project {
            root: ".".into(),
            parsed: true,
            migrations: vec![],
            views: vec![v.clone()],
            warnings: vec![],
        };
        let steps = decide(&project, &[1].into(), &[recorded(&v, true)], "public");
        assert!(steps.is_empty());
    }
}

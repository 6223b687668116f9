//! Managed views (`views/*.sql`): derived objects, rebuilt after every `up` and `down`.
//!
//! Each view file defines one view or materialized view (checked when the project loads). A
//! view is (re)built when its file changed, its view is missing, or the versions it needs
//! became applied; it is dropped when a version it needs is rolled back (in that rollback's
//! transaction) or its file is deleted (before the migrations run, so a migration can drop
//! what it read). Each rebuild is ONE transaction, so readers never see a view that has a file
//! missing: see `plan` for what is decided and in which order, `apply` for how.

mod apply;
mod failures;
pub mod plan;
mod state;
mod status;

use std::cell::RefCell;
use std::collections::BTreeSet;

use anyhow::{Context, Result};
use postgres::types::Type;
use postgres::{GenericClient, Transaction};
use serde::Serialize;

pub use self::failures::{FailedView, clear_failures, record_failure};
pub use self::state::{State, read_state, read_state_quick};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub use self::status::{ViewStatus, status};

use self::apply::{Carry, Work};
use self::plan::{Graph, ViewName, decide, file_key};
use crate::db::quote_ident;
use crate::migrate::history::History;
use crate::migrate::project::Project;
use crate::notices::Notices;
use crate::sql::RelationName;

/// What happened to one view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewChange {
    /// `schema.name`.
    pub view: String,
    pub file: String,
    pub action: ViewAction,
    /// For `renamed`: the file the view was made from until now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_file: Option<String>,
}

impl ViewChange {
    fn new(name: &ViewName, file: &str, action: ViewAction) -> ViewChange {
        ViewChange {
            view: name.to_string(),
            file: file.to_string(),
            action,
            previous_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewAction {
    Created,
    Replaced,
    /// Dropped and created again: `CREATE OR REPLACE` was refused or does not apply, or a
    /// view it depends on was recreated.
    Recreated,
    Dropped,
    /// The view is unchanged; the file that defines it was renamed.
    Renamed,
}

/// A view pgstrata created, as recorded in `<schema>.views`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The file's name within views/.
    pub file: String,
    pub name: ViewName,
    pub checksum: String,
    pub present: bool,
}

/// How view files run: each starting from the session's baseline (the run's time limits
/// included), the server's notices placed in the file that caused them.
pub struct Guard<'a> {
    /// SQL returning the session to its baseline (see `session`).
    pub reset: &'a str,
    pub notices: &'a Notices,
    /// Where to say which view file failed, when the caller records failures.
    pub failed: Option<&'a RefCell<Option<FailedView>>>,
}

/// Brings the managed views in line with the project and the `applied` versions, in one
/// transaction. Without a `guard` (a dry run), only reports what it would do.
pub fn rebuild(
    client: &mut impl GenericClient,
    history: &History,
    project: &Project,
    applied: &BTreeSet<i64>,
    guard: Option<&Guard>,
) -> Result<Vec<ViewChange>> {
    let state = read_state(client, history)?;
    if project.views.is_empty() && state.recorded.is_empty() {
        return Ok(Vec::new());
    }
    let graph = Graph::resolve(project, state.current_schema()?, &state.search_path)?;
    let plan = decide(&graph, applied, &state.recorded);
    let Some(guard) = guard else {
        return planned(client, &graph, &plan, &state.recorded, applied);
    };
    if plan.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = client.transaction().context("starting the view rebuild")?;
    let mut work = Work::new(&mut tx, history, &graph, &state.recorded, applied, guard);
    let mut todo: BTreeSet<usize> = plan.applies.iter().copied().collect();
    for (name, file) in &plan.drops {
        todo.extend(work.drop_view(name, file)?);
    }
    for (i, previous) in &plan.moves {
        work.record(*i)?;
        let node = &graph.nodes[*i];
        work.changes.push(ViewChange {
            previous_file: Some(format!("views/{previous}")),
            ..ViewChange::new(&node.name, node.file(), ViewAction::Renamed)
        });
    }
    work.apply_all(todo)?;
    let changes = std::mem::take(&mut work.changes);
    tx.batch_execute(guard.reset)
        .context("returning the session to its starting state")?;
    tx.commit().context("committing the view rebuild")?;
    Ok(changes)
}

/// Before an `up` runs its migrations: drops the managed views whose file is gone (or now
/// defines another view), so that a migration can drop what they read. Managed views that
/// depend on them are created again in the same transaction when they can be; one that cannot
/// yet (its file now reads what a pending migration creates) is left to the rebuild after the
/// migrations, and named in the returned note.
pub fn drop_deleted(
    client: &mut impl GenericClient,
    history: &History,
    project: &Project,
    applied: &BTreeSet<i64>,
    guard: &Guard,
) -> Result<(Vec<ViewChange>, Option<String>)> {
    let state = read_state(client, history)?;
    if project.views.is_empty() && state.recorded.is_empty() {
        return Ok((Vec::new(), None));
    }
    // Resolved whatever is recorded: two files defining one view are refused here, before any
    // migration runs.
    let graph = Graph::resolve(project, state.current_schema()?, &state.search_path)?;
    let deleted: Vec<(ViewName, String)> = state
        .recorded
        .iter()
        .filter(|r| graph.index_of(&r.name).is_none())
        .map(|r| (r.name.clone(), format!("views/{}", r.file)))
        .collect();
    if deleted.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut tx = client
        .transaction()
        .context("starting to drop deleted views")?;
    let mut work = Work::new(&mut tx, history, &graph, &state.recorded, applied, guard);
    let mut again = BTreeSet::new();
    for (name, file) in &deleted {
        again.extend(work.drop_view(name, file)?);
    }
    let (mut changes, carry) = work.hand_over(again);
    let (restored, note) = restore_or_leave(
        &mut tx,
        &graph,
        &state.recorded,
        history,
        applied,
        guard,
        carry,
        "a view whose file was deleted was dropped",
    )?;
    changes.extend(restored);
    tx.batch_execute(guard.reset)
        .context("returning the session to its starting state")?;
    tx.commit().context("committing the dropped views")?;
    Ok((changes, note))
}

/// When the managed views that depended on views a rollback drops are created again.
pub enum Restore {
    /// Right after the rollback's SQL, in its transaction: all or nothing, so a rollback never
    /// commits without the views its state wants.
    InTheSameTransaction,
    /// Right after they were dropped, before the rollback runs: a no-transaction rollback
    /// runs after the transaction that dropped them commits. One that cannot be made yet is
    /// left to the rebuild after the run.
    BeforeTheRollback,
}

/// Inside a rollback's transaction (`after` being the versions applied once it is done):
/// drops the managed views that need a version no longer applied (and those depending on
/// them), runs `rollback`, then creates again the dependents that are still wanted, as
/// `restore` says.
pub fn around_rollback(
    tx: &mut Transaction,
    history: &History,
    project: &Project,
    after: &BTreeSet<i64>,
    guard: &Guard,
    restore: Restore,
    rollback: impl FnOnce(&mut Transaction) -> Result<()>,
) -> Result<Vec<ViewChange>> {
    let state = read_state(tx, history)?;
    let graph = Graph::resolve(project, state.current_schema()?, &state.search_path)?;
    let doomed: Vec<(ViewName, String)> = graph
        .nodes
        .iter()
        .filter(|n| !n.wanted(after))
        .filter(|n| state.recorded.iter().any(|r| r.name == n.name))
        .map(|n| (n.name.clone(), n.file().to_string()))
        .collect();
    let mut work = Work::new(tx, history, &graph, &state.recorded, after, guard);
    let mut again = BTreeSet::new();
    for (name, file) in &doomed {
        again.extend(work.drop_view(name, file)?);
    }
    let (mut changes, mut carry) = work.hand_over(again);
    rollback(tx)?;
    match restore {
        Restore::InTheSameTransaction => {
            let mut work = Work::new(tx, history, &graph, &state.recorded, after, guard);
            let again = std::mem::take(&mut carry.again);
            for &i in &again {
                work.take_over(&mut carry, i);
            }
            work.apply_all(again)?;
            changes.extend(std::mem::take(&mut work.changes));
        }
        Restore::BeforeTheRollback => {
            let why = "the views needing the version rolled back were dropped";
            let (restored, _left_to_the_rebuild) = restore_or_leave(
                tx,
                &graph,
                &state.recorded,
                history,
                after,
                guard,
                carry,
                why,
            )?;
            changes.extend(restored);
        }
    }
    Ok(changes)
}

/// A migration or rollback that failed because views depend on what it drops or retypes
/// (SQLSTATE 2BP01 or 0A000) runs again through this, in one transaction: the managed views in
/// its way are dropped, `file` runs, and those wanted at `after` are created again from their
/// files in the same transaction, so readers never see them missing (see `restore_or_leave`
/// for one that cannot be). The views in its way are those reading, directly or not, the
/// relations its statements alter or drop (`targets`); when none does (it drops a function or
/// a type a view uses), every managed view is.
pub fn around_all(
    tx: &mut Transaction,
    history: &History,
    project: &Project,
    after: &BTreeSet<i64>,
    guard: &Guard,
    targets: &[RelationName],
    file: impl FnOnce(&mut Transaction) -> Result<()>,
) -> Result<(Vec<ViewChange>, Option<String>)> {
    let state = read_state(tx, history)?;
    let graph = Graph::resolve(project, state.current_schema()?, &state.search_path)?;
    let mut in_the_way = in_the_way(tx, &graph, targets)?;
    if in_the_way.is_empty() {
        in_the_way = (0..graph.nodes.len()).collect();
    }
    let mut work = Work::new(tx, history, &graph, &state.recorded, after, guard);
    let mut again = BTreeSet::new();
    // Dependents first: what is left of each view's dependents is dropped with it.
    for &i in in_the_way.iter().rev() {
        if !again.contains(&i) {
            again.extend(work.drop_for_restore(i)?);
        }
    }
    let (mut changes, carry) = work.hand_over(again);
    file(tx)?;
    let (restored, note) = restore_or_leave(
        tx,
        &graph,
        &state.recorded,
        history,
        after,
        guard,
        carry,
        "the file drops or changes what managed views read",
    )?;
    changes.extend(restored);
    Ok((changes, note))
}

/// The managed views (nodes) that read, directly or not, one of `targets`, or are one.
fn in_the_way(
    tx: &mut Transaction,
    graph: &Graph,
    targets: &[RelationName],
) -> Result<BTreeSet<usize>> {
    let mut found = BTreeSet::new();
    for target in targets {
        let written = match &target.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&target.name)),
            None => quote_ident(&target.name),
        };
        let Some(row) = tx
            .query_typed_opt(
                include_str!("../queries/relation_named.sql"),
                &[(&written, Type::TEXT)],
            )
            .with_context(|| format!("looking up {target}"))?
        else {
            continue;
        };
        let relation = ViewName {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
        };
        found.extend(graph.index_of(&relation));
        for (dependent, _) in apply::dependents(tx, &relation)? {
            found.extend(graph.index_of(&dependent));
        }
    }
    Ok(found)
}

/// Creates again the views `again` that were dropped, each in a savepoint of `tx`, in
/// creation order. A view whose file did not change since it was built must come back: if it
/// cannot, that is the error (`why` says what took it down), and the caller's transaction
/// commits nothing. A view whose file changed may need what a later migration creates: it is
/// left to the rebuild after the migrations, and named in the returned note.
#[allow(clippy::too_many_arguments)]
fn restore_or_leave(
    tx: &mut Transaction,
    graph: &Graph,
    recorded: &[Recorded],
    history: &History,
    applied: &BTreeSet<i64>,
    guard: &Guard,
    mut carry: Carry,
    why: &str,
) -> Result<(Vec<ViewChange>, Option<String>)> {
    let mut changes = Vec::new();
    let mut left = Vec::new();
    for i in std::mem::take(&mut carry.again) {
        let node = &graph.nodes[i];
        let mut attempt = tx.savepoint("pgstrata_restore")?;
        let mut restore = Work::new(&mut attempt, history, graph, recorded, applied, guard);
        restore.take_over(&mut carry, i);
        match restore.apply_all([i].into()) {
            Ok(()) => {
                changes.extend(std::mem::take(&mut restore.changes));
                attempt.commit()?;
            }
            Err(err) => {
                attempt.rollback()?;
                let unchanged = recorded
                    .iter()
                    .any(|r| r.name == node.name && r.checksum == node.view.file.checksum);
                if unchanged {
                    return Err(err.context(format!(
                        "{why}, and {} cannot be created again from {}, which did not change; \
                         change or delete that file in the same change (a view that needs what \
                         a migration made says so with `-- pgstrata:requires V<n>`, and is then \
                         dropped with that migration's rollback)",
                        node.name,
                        node.file()
                    )));
                }
                let first = format!("{err:#}");
                let first = first.lines().next().unwrap_or_default().to_string();
                left.push(format!("{} ({first})", node.name));
            }
        }
    }
    let note = (!left.is_empty()).then(|| {
        format!(
            "{why}; {} cannot be created yet, and will be by the rebuild after the migrations \
             if they succeed",
            left.join(", ")
        )
    });
    Ok((changes, note))
}

/// What a dry run reports for `plan`. A view that will be dropped and created again for sure
/// (a materialized view, a file without OR REPLACE, a change of kind) is reported as
/// recreated, with the managed views depending on it; a view replaced in place is reported as
/// replaced, though the server may refuse the new definition and have it recreated then.
fn planned(
    client: &mut impl GenericClient,
    graph: &Graph,
    plan: &plan::Plan,
    recorded: &[Recorded],
    applied: &BTreeSet<i64>,
) -> Result<Vec<ViewChange>> {
    let mut report = DryRun {
        graph,
        recorded,
        applied,
        changes: Vec::new(),
        reported: BTreeSet::new(),
    };
    for (name, file) in &plan.drops {
        if report.reported.insert(name.clone()) {
            report
                .changes
                .push(ViewChange::new(name, file, ViewAction::Dropped));
            report.dependents(client, name)?;
        }
    }
    for (i, previous) in &plan.moves {
        let node = &graph.nodes[*i];
        report.changes.push(ViewChange {
            previous_file: Some(format!("views/{previous}")),
            ..ViewChange::new(&node.name, node.file(), ViewAction::Renamed)
        });
    }
    for &i in &plan.applies {
        let node = &graph.nodes[i];
        if !report.reported.insert(node.name.clone()) {
            continue;
        }
        let action = match apply::kind(client, &node.name)?.as_deref() {
            None => ViewAction::Created,
            Some("v") if node.def.or_replace && !node.def.materialized => ViewAction::Replaced,
            Some(_) => ViewAction::Recreated,
        };
        report
            .changes
            .push(ViewChange::new(&node.name, node.file(), action));
        if action == ViewAction::Recreated {
            report.dependents(client, &node.name)?;
        }
    }
    Ok(report.changes)
}

/// A dry run's report, each view once.
struct DryRun<'g> {
    graph: &'g Graph<'g>,
    recorded: &'g [Recorded],
    applied: &'g BTreeSet<i64>,
    changes: Vec<ViewChange>,
    reported: BTreeSet<ViewName>,
}

impl DryRun<'_> {
    /// A view dropped, or dropped to be made again, takes the views depending on it along:
    /// made again when wanted, dropped otherwise.
    fn dependents(&mut self, client: &mut impl GenericClient, name: &ViewName) -> Result<()> {
        for (dependent, _) in apply::dependents(client, name)? {
            if !self.reported.insert(dependent.clone()) {
                continue;
            }
            let (file, action) = match self.graph.index_of(&dependent) {
                Some(d) => {
                    let node = &self.graph.nodes[d];
                    let action = if node.wanted(self.applied) {
                        ViewAction::Recreated
                    } else {
                        ViewAction::Dropped
                    };
                    (node.file().to_string(), action)
                }
                None => (
                    self.recorded
                        .iter()
                        .find(|r| r.name == dependent)
                        .map_or_else(
                            || "not managed".to_string(),
                            |r| format!("views/{}", r.file),
                        ),
                    ViewAction::Dropped,
                ),
            };
            self.changes
                .push(ViewChange::new(&dependent, &file, action));
        }
        Ok(())
    }
}

/// Whether a rebuild for the `applied` versions would do nothing, judged from a `State` read
/// earlier (without the lock: see `observed`). On a project not parsed yet (a no-op `up`), by
/// file and checksum: every file whose own `requires` hold has a current record, no other
/// file has one, and every record has its file. A view needing more than its own `requires`
/// (it reads a view that requires a version) then looks pending, and the full path decides.
pub fn is_current(project: &Project, applied: &BTreeSet<i64>, state: &State) -> bool {
    let Ok(schema) = state.current_schema() else {
        return false;
    };
    if project.is_parsed() {
        return Graph::resolve(project, schema, &state.search_path)
            .is_ok_and(|graph| decide(&graph, applied, &state.recorded).is_empty());
    }
    let files_current = project.views.iter().all(|view| {
        let record = state
            .recorded
            .iter()
            .find(|r| r.file == file_key(&view.file.path));
        let wanted = view.requires.iter().all(|v| applied.contains(v));
        match record {
            Some(r) => wanted && r.present && r.checksum == view.file.checksum,
            None => !wanted,
        }
    });
    files_current
        && state.recorded.iter().all(|r| {
            project
                .views
                .iter()
                .any(|v| file_key(&v.file.path) == r.file)
        })
}

//! The work of a rebuild inside one transaction: creating, replacing, recreating and dropping
//! managed views, and recording what was done in `<schema>.views`.
//!
//! A view file is run as written. An existing view is replaced in place when its file says
//! `CREATE OR REPLACE VIEW` and PostgreSQL accepts the new definition; otherwise (a column
//! removed, renamed or retyped, a materialized view, a file without OR REPLACE, a view that
//! became materialized or the reverse) the view and the managed views depending on it are
//! dropped and created again, each after what it reads. A view depending on it that no file
//! manages stops the rebuild: pgstrata could not create it again.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{GenericClient, Transaction};

use super::plan::{Graph, ViewName, file_key};
use super::{FailedView, Guard, Recorded, ViewAction, ViewChange};
use crate::db::quote_ident;
use crate::migrate::execute::{located, place_batch_notices, run_batch};
use crate::migrate::history::History;

/// One transaction's view work, for the views wanted at `applied` versions.
pub(super) struct Work<'w, 't> {
    pub tx: &'w mut Transaction<'t>,
    pub history: &'w History,
    pub graph: &'w Graph<'w>,
    pub recorded: &'w [Recorded],
    pub applied: &'w BTreeSet<i64>,
    /// How each file runs.
    pub guard: &'w Guard<'w>,
    pub changes: Vec<ViewChange>,
    /// Nodes dropped because a view they depend on had to be: created again, not new.
    recreating: BTreeSet<usize>,
    /// Views dropped so far, not to be dropped (or reported) twice.
    dropped: BTreeSet<ViewName>,
    /// What migrations put on views dropped to be made again (triggers, rules), as the
    /// statements that put it back once they are.
    extras: BTreeMap<ViewName, Vec<String>>,
}

impl<'w, 't> Work<'w, 't> {
    pub fn new(
        tx: &'w mut Transaction<'t>,
        history: &'w History,
        graph: &'w Graph<'w>,
        recorded: &'w [Recorded],
        applied: &'w BTreeSet<i64>,
        guard: &'w Guard<'w>,
    ) -> Self {
        Work {
            tx,
            history,
            graph,
            recorded,
            applied,
            guard,
            changes: Vec::new(),
            recreating: BTreeSet::new(),
            dropped: BTreeSet::new(),
            extras: BTreeMap::new(),
        }
    }

    /// Creates or replaces the nodes in `todo`, and whatever their recreation drops, each
    /// after the views it reads.
    pub fn apply_all(&mut self, mut todo: BTreeSet<usize>) -> Result<()> {
        while let Some(i) = todo.pop_first() {
            let file = &self.graph.nodes[i].view.file;
            let dropped = self.apply(i).inspect_err(|_| {
                if let Some(failed) = self.guard.failed {
                    failed.replace(Some(FailedView {
                        file: file.path.clone(),
                        checksum: file.checksum.clone(),
                    }));
                }
            })?;
            todo.extend(dropped);
        }
        Ok(())
    }

    /// Drops the view `name` (reported as made from `file`) and the managed views depending
    /// on it; returns the dependents that are wanted, to be created again.
    pub fn drop_view(&mut self, name: &ViewName, file: &str) -> Result<BTreeSet<usize>> {
        if self.dropped.contains(name) {
            // Gone already, with a view it depended on.
            return Ok(BTreeSet::new());
        }
        // Only a view is dropped: a table (or anything else) that took a recorded view's name
        // is not pgstrata's; the record is forgotten and the table left alone.
        let existing = kind(self.tx, name)?.filter(|k| k == "v" || k == "m");
        let again = match &existing {
            Some(kind) => {
                let again = self.drop_dependents(name)?;
                drop_relation(self.tx, name, kind)?;
                again
            }
            None => BTreeSet::new(),
        };
        self.forget(None, name)?;
        self.dropped.insert(name.clone());
        if existing.is_some() {
            self.changes
                .push(ViewChange::new(name, file, ViewAction::Dropped));
        }
        Ok(again)
    }

    /// Drops node `i`'s view and the managed views depending on it, to be created again after
    /// a migration: returns the wanted ones (it among them, when it is).
    pub fn drop_for_restore(&mut self, i: usize) -> Result<BTreeSet<usize>> {
        let graph = self.graph;
        let node = &graph.nodes[i];
        let Some(kind) = kind(self.tx, &node.name)? else {
            return Ok(BTreeSet::new());
        };
        let mut again = self.drop_dependents(&node.name)?;
        if node.wanted(self.applied) {
            self.keep_extras(&node.name)?;
        }
        drop_relation(self.tx, &node.name, &kind)?;
        self.forget(None, &node.name)?;
        if node.wanted(self.applied) {
            self.recreating.insert(i);
            again.insert(i);
        } else {
            self.changes.push(ViewChange::new(
                &node.name,
                node.file(),
                ViewAction::Dropped,
            ));
        }
        Ok(again)
    }

    /// Creates or replaces node `i`; returns the dependents its recreation dropped.
    fn apply(&mut self, i: usize) -> Result<BTreeSet<usize>> {
        let graph = self.graph;
        let node = &graph.nodes[i];
        let existing = kind(self.tx, &node.name)?;
        let in_place = match existing.as_deref() {
            None => {
                let action = if self.recreating.remove(&i) {
                    ViewAction::Recreated
                } else {
                    ViewAction::Created
                };
                self.create(i, action)?;
                return Ok(BTreeSet::new());
            }
            Some("v") => !node.def.materialized && node.def.or_replace,
            Some("m") => false,
            Some(other) => bail!(
                "{}: {} exists and is {}, not a view; pgstrata manages only the views its files \
                 define: rename the view, or drop that relation in a migration",
                node.file(),
                node.name,
                relkind_words(other)
            ),
        };
        if in_place {
            let guard = self.guard;
            let mut savepoint = self.tx.transaction()?;
            guard.notices.discard();
            let replaced = savepoint.batch_execute(&node.view.file.sql);
            place_batch_notices(guard.notices, &node.view.file);
            let replaced = replaced.and_then(|()| savepoint.batch_execute(guard.reset));
            match replaced {
                Ok(()) => {
                    savepoint.commit()?;
                    self.finish(i, ViewAction::Replaced)?;
                    return Ok(BTreeSet::new());
                }
                Err(err) if needs_recreate(&err) => savepoint.rollback()?,
                Err(err) => return Err(located(err, &node.view.file)),
            }
        }
        // Recreate: its dependents go first, and come back after it.
        let again = self.drop_dependents(&node.name)?;
        if let Some(kind) = existing {
            self.keep_extras(&node.name)?;
            drop_relation(self.tx, &node.name, &kind)?;
        }
        self.recreating.remove(&i);
        self.create(i, ViewAction::Recreated)?;
        Ok(again)
    }

    /// Runs node `i`'s file and records it.
    fn create(&mut self, i: usize, action: ViewAction) -> Result<()> {
        let graph = self.graph;
        let node = &graph.nodes[i];
        self.guard.notices.discard();
        let ran = run_batch(self.tx, &node.view.file);
        place_batch_notices(self.guard.notices, &node.view.file);
        ran?;
        for statement in self.extras.remove(&node.name).unwrap_or_default() {
            self.tx.batch_execute(&statement).with_context(|| {
                format!(
                    "putting back on {} what a migration had put on it and {} does not make \
                     (`{statement}`); change or drop it in a migration",
                    node.name,
                    node.file()
                )
            })?;
        }
        self.tx
            .batch_execute(self.guard.reset)
            .context("returning the session to its starting state")?;
        self.finish(i, action)
    }

    /// Checks node `i`'s view exists, and records it under its file.
    fn finish(&mut self, i: usize, action: ViewAction) -> Result<()> {
        let graph = self.graph;
        let node = &graph.nodes[i];
        match kind(self.tx, &node.name)?.as_deref() {
            Some("v" | "m") => {}
            _ => bail!(
                "{} ran but {} does not exist afterwards (was it renamed, or dropped?); a view \
                 file must leave its view in place",
                node.file(),
                node.name
            ),
        }
        self.record(i)?;
        self.changes
            .push(ViewChange::new(&node.name, node.file(), action));
        Ok(())
    }

    /// Records node `i` as made from its file, as it is now.
    pub fn record(&mut self, i: usize) -> Result<()> {
        let graph = self.graph;
        let node = &graph.nodes[i];
        let key = file_key(node.file());
        self.forget(Some(&key), &node.name)?;
        self.tx
            .execute_typed(
                &self
                    .history
                    .sql(include_str!("../queries/views_record.sql")),
                &[
                    (&key, Type::TEXT),
                    (&node.name.schema, Type::TEXT),
                    (&node.name.name, Type::TEXT),
                    (&node.view.file.checksum, Type::TEXT),
                ],
            )
            .with_context(|| format!("recording {}", node.file()))?;
        Ok(())
    }

    fn forget(&mut self, file: Option<&str>, name: &ViewName) -> Result<()> {
        self.tx
            .execute_typed(
                &self
                    .history
                    .sql(include_str!("../queries/views_forget.sql")),
                &[
                    (&file, Type::TEXT),
                    (&name.schema, Type::TEXT),
                    (&name.name, Type::TEXT),
                ],
            )
            .with_context(|| format!("forgetting the view {name}"))?;
        Ok(())
    }

    /// Drops the views depending on `name`, deepest first; every one must be managed. Returns
    /// those that are wanted, to be created again after `name`.
    fn drop_dependents(&mut self, name: &ViewName) -> Result<BTreeSet<usize>> {
        let mut found = Vec::new();
        for (dependent, kind) in dependents(self.tx, name)? {
            let node = self.graph.index_of(&dependent);
            let recorded = self.recorded.iter().find(|r| r.name == dependent);
            let file = match (node, recorded) {
                (Some(i), _) => self.graph.nodes[i].file().to_string(),
                (None, Some(r)) => format!("views/{}", r.file),
                (None, None) => bail!(
                    "the view {dependent} depends on {name}, which must be dropped and created \
                     again, but no file in views/ manages {dependent}; move its definition into \
                     views/ (or drop it in a migration) so pgstrata can recreate it"
                ),
            };
            found.push((dependent, kind, node, file));
        }
        let mut again = BTreeSet::new();
        for (dependent, kind, node, file) in found {
            if node.is_some_and(|i| self.graph.nodes[i].wanted(self.applied)) {
                self.keep_extras(&dependent)?;
            }
            drop_relation(self.tx, &dependent, &kind)?;
            self.forget(None, &dependent)?;
            self.dropped.insert(dependent.clone());
            match node {
                Some(i) if self.graph.nodes[i].wanted(self.applied) => {
                    self.recreating.insert(i);
                    again.insert(i);
                }
                _ => self
                    .changes
                    .push(ViewChange::new(&dependent, &file, ViewAction::Dropped)),
            }
        }
        Ok(again)
    }
}

/// What a [`Work`] that dropped views hands to the one that makes them again: which views
/// to make again, which of them are made *again* (for reports), and what migrations had put on
/// them.
#[derive(Debug, Default)]
pub(super) struct Carry {
    pub again: BTreeSet<usize>,
    recreating: BTreeSet<usize>,
    extras: BTreeMap<ViewName, Vec<String>>,
}

impl Work<'_, '_> {
    /// Ends the dropping: the changes so far, and what the making again needs.
    pub fn hand_over(&mut self, again: BTreeSet<usize>) -> (Vec<ViewChange>, Carry) {
        let carry = Carry {
            again,
            recreating: std::mem::take(&mut self.recreating),
            extras: std::mem::take(&mut self.extras),
        };
        (std::mem::take(&mut self.changes), carry)
    }

    /// Takes over, from `carry`, what making node `i` again needs.
    pub fn take_over(&mut self, carry: &mut Carry, i: usize) {
        if carry.recreating.remove(&i) {
            self.recreating.insert(i);
        }
        let name = &self.graph.nodes[i].name;
        if let Some(extras) = carry.extras.remove(name) {
            self.extras.insert(name.clone(), extras);
        }
    }

    /// Keeps what migrations put on `name` (triggers, rules), to put it back once the view is
    /// made again: pgstrata never silently drops it.
    fn keep_extras(&mut self, name: &ViewName) -> Result<()> {
        let statements = self
            .tx
            .query_typed(
                include_str!("../queries/view_extras.sql"),
                &[(&name.schema, Type::TEXT), (&name.name, Type::TEXT)],
            )
            .with_context(|| format!("reading the triggers and rules of {name}"))?
            .iter()
            .map(|row| row.try_get::<_, String>(0))
            .collect::<Result<Vec<_>, _>>()?;
        if !statements.is_empty() {
            self.extras.insert(name.clone(), statements);
        }
        Ok(())
    }
}

/// The relkind of `name`, if it exists.
pub(super) fn kind(client: &mut impl GenericClient, name: &ViewName) -> Result<Option<String>> {
    Ok(client
        .query_typed_opt(
            include_str!("../queries/view_kind.sql"),
            &[(&name.schema, Type::TEXT), (&name.name, Type::TEXT)],
        )
        .with_context(|| format!("looking up {name}"))?
        .map(|row| row.get(0)))
}

fn drop_relation(client: &mut impl GenericClient, name: &ViewName, kind: &str) -> Result<()> {
    let what = if kind == "m" {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    let target = format!("{}.{}", quote_ident(&name.schema), quote_ident(&name.name));
    client
        .batch_execute(&format!("DROP {what} {target}"))
        .with_context(|| format!("dropping {name}"))
}

fn relkind_words(kind: &str) -> &'static str {
    match kind {
        "r" | "p" => "a table",
        "S" => "a sequence",
        "f" => "a foreign table",
        "i" | "I" => "an index",
        "c" => "a composite type",
        _ => "another kind of relation",
    }
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

/// The views depending on `name` (directly or not), as (name, relkind), each before the views
/// it reads: the order they can be dropped in.
pub(super) fn dependents(
    client: &mut impl GenericClient,
    name: &ViewName,
) -> Result<Vec<(ViewName, String)>> {
    let rows = client
        .query_typed(
            include_str!("../queries/view_dependents.sql"),
            &[(&name.schema, Type::TEXT), (&name.name, Type::TEXT)],
        )
        .with_context(|| format!("finding the views that depend on {name}"))?;
    let mut left: Vec<(i64, ViewName, String, Vec<i64>)> = Vec::with_capacity(rows.len());
    for row in &rows {
        let view = ViewName {
            schema: row.try_get(1)?,
            name: row.try_get(2)?,
        };
        left.push((row.try_get(0)?, view, row.try_get(3)?, row.try_get(4)?));
    }
    // Drop first a view that none of those left reads; the server's dependencies have no
    // cycles, so one always exists.
    let mut order = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let read: BTreeSet<i64> = left.iter().flat_map(|(.., reads)| reads.clone()).collect();
        let next = left
            .iter()
            .position(|(oid, ..)| !read.contains(oid))
            .unwrap_or(0);
        let (_, view, kind, _) = left.remove(next);
        order.push((view, kind));
    }
    Ok(order)
}

//! Rendering: the [`Model`] as deterministic SQL text, one block per object.
//!
//! Each object becomes a block that opens with its header line (`-- table public.images`)
//! and holds the statements that create it, then its comments, then its privileges. Blocks
//! are ordered by [`order`](super::order) from their kind, name and the dependencies the
//! catalog recorded. Everything that could vary between two databases with the same schema
//! is sorted here, in Rust, by bytes: never by the server's collation, never by oid.

mod attached;
mod casts;
mod objects;
mod operators;
mod tables;
mod text_search;
mod wide;

use std::collections::HashMap;

use super::model::{Catalog, Key, Model};
use super::sql::literal;
use crate::db::quote_ident;

/// The opening of every snapshot: what loading it needs. No timestamp, host or version.
pub(crate) const PREAMBLE: &str = "\
-- pgstrata schema snapshot: one block per object, each opened by a `-- <kind> <name>` line.
SET check_function_bodies = off;
SET client_min_messages = warning;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
";

/// Object kinds in the order their blocks come, dependencies aside.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Kind {
    Schema,
    Extension,
    Collation,
    Type,
    Domain,
    Function,
    /// Operators, operator families and classes, conversions and text search objects: after
    /// the functions they call, before the indexes and columns that use them.
    Operator,
    OperatorFamily,
    OperatorClass,
    Conversion,
    TsParser,
    TsTemplate,
    TsDictionary,
    TsConfiguration,
    /// After the functions they call.
    Cast,
    /// After the functions (handler, validator) and extensions they use.
    ForeignDataWrapper,
    ForeignServer,
    UserMapping,
    Sequence,
    Table,
    SequenceOwnership,
    Constraint,
    Index,
    Statistics,
    /// Foreign keys come after every table and every key they may reference.
    ForeignKey,
    View,
    MaterializedView,
    Trigger,
    Rule,
    Policy,
    /// After the tables and functions (row filters) they name.
    Publication,
    /// Last: ALTER DEFAULT PRIVILEGES would reach every object created after it, and an
    /// event trigger would fire on every statement after it.
    DefaultPrivileges,
    EventTrigger,
}

/// One object's text and where it sorts.
pub(crate) struct Block {
    kind: Kind,
    /// Schema, name, and member (table of a constraint, arguments of a function).
    sort: [String; 3],
    label: String,
    body: String,
    /// Comments and privileges: (group, column name, statement), sorted before output. By
    /// name, not position: a partition's columns may sit in another physical order than
    /// after a reload, which recreates them in the parent's.
    extras: Vec<(u8, String, String)>,
}

/// What a catalog row means for the block that owns it: how a comment or a grant names it.
struct Owner {
    block: usize,
    comment_on: Option<String>,
    grant_on: Option<String>,
    /// The quoted relation name that COMMENT ON COLUMN and column grants use.
    columns_of: Option<String>,
}

/// The blocks under construction and the catalog rows each one owns.
#[derive(Default)]
pub(crate) struct Blocks {
    list: Vec<Block>,
    owners: HashMap<Key, Owner>,
    /// Explicit "after this catalog row" edges, for what pg_depend does not say in our terms.
    after: Vec<(Key, usize)>,
}

impl Blocks {
    /// Adds a block; `sort` is (schema, name, member).
    pub(crate) fn add(
        &mut self,
        kind: Kind,
        sort: [&str; 3],
        label: String,
        body: String,
    ) -> usize {
        self.list.push(Block {
            kind,
            sort: sort.map(str::to_string),
            label,
            body,
            extras: Vec::new(),
        });
        self.list.len() - 1
    }

    /// Records that `key` belongs to `block`, and how comments and grants name it.
    pub(crate) fn own(
        &mut self,
        block: usize,
        key: Key,
        comment_on: Option<String>,
        grant_on: Option<String>,
        columns_of: Option<String>,
    ) {
        let owner = Owner {
            block,
            comment_on,
            grant_on,
            columns_of,
        };
        self.owners.insert(key, owner);
    }

    /// Records that `key` belongs to `block` with no comment or grant of its own (array
    /// types, column defaults, rewrite rules): only its dependencies matter.
    pub(crate) fn own_quietly(&mut self, block: usize, key: Key) {
        self.own(block, key, None, None, None);
    }

    /// `block` must come after the block owning `key`.
    pub(crate) fn after(&mut self, key: Key, block: usize) {
        self.after.push((key, block));
    }

    /// Whether some block owns `key` (a table or view that the snapshot keeps).
    pub(crate) fn has(&self, key: Key) -> bool {
        self.owners.contains_key(&key)
    }
}

/// The snapshot text of a model.
pub(crate) fn render(model: &Model) -> String {
    let mut blocks = Blocks::default();
    objects::schemas_and_extensions(model, &mut blocks);
    objects::collations(model, &mut blocks);
    objects::types(model, &mut blocks);
    objects::functions(model, &mut blocks);
    objects::aggregates(model, &mut blocks);
    casts::casts(model, &mut blocks);
    operators::operators(model, &mut blocks);
    operators::families_and_classes(model, &mut blocks);
    operators::conversions(model, &mut blocks);
    text_search::text_search(model, &mut blocks);
    wide::foreign_data(model, &mut blocks);
    tables::tables(model, &mut blocks);
    // After tables: an OWNED BY block is written only when its table is in the snapshot.
    objects::sequences(model, &mut blocks);
    objects::views(model, &mut blocks);
    attached::constraints(model, &mut blocks);
    attached::indexes(model, &mut blocks);
    attached::statistics(model, &mut blocks);
    attached::triggers_rules_and_policies(model, &mut blocks);
    wide::publications(model, &mut blocks);
    wide::default_privileges(model, &mut blocks);
    wide::event_triggers(model, &mut blocks);
    attach_comments(model, &mut blocks);
    attach_privileges(model, &mut blocks);
    wide::attach_security_labels(model, &mut blocks);
    let edges = edges(model, &blocks);
    let keys: Vec<(Kind, &[String; 3])> = blocks.list.iter().map(|b| (b.kind, &b.sort)).collect();
    let mut text = String::from(PREAMBLE);
    for index in super::order::order(&keys, &edges) {
        let block = &mut blocks.list[index];
        block.extras.sort();
        text.push_str(&format!("\n-- {}\n{}", block.label, block.body));
        for (_, _, statement) in &block.extras {
            text.push_str(statement);
        }
    }
    text
}

fn attach_comments(model: &Model, blocks: &mut Blocks) {
    for comment in &model.comments {
        let Some(owner) = blocks.owners.get(&comment.object) else {
            continue;
        };
        let target = match (&comment.column, &owner.columns_of) {
            (Some(column), Some(relation)) if comment.position > 0 => {
                format!("COLUMN {relation}.{}", quote_ident(column))
            }
            _ if comment.position == 0 => match &owner.comment_on {
                Some(target) => target.clone(),
                None => continue,
            },
            _ => continue,
        };
        let statement = format!("COMMENT ON {target} IS {};\n", literal(&comment.text));
        let group = if comment.position == 0 { 0 } else { 1 };
        let column = comment.column.clone().unwrap_or_default();
        blocks.list[owner.block]
            .extras
            .push((group, column, statement));
    }
}

fn attach_privileges(model: &Model, blocks: &mut Blocks) {
    for privilege in &model.privileges {
        // An extension's object: in the extension's block, named as the query gives it.
        let (block, target) = match &privilege.member_of {
            Some((extension, member)) => {
                match blocks.owners.get(&(Catalog::Extension, *extension)) {
                    Some(owner) => (owner.block, member),
                    None => continue,
                }
            }
            None => match blocks.owners.get(&privilege.object) {
                Some(Owner {
                    block,
                    grant_on: Some(target),
                    ..
                }) => (*block, target),
                _ => continue,
            },
        };
        let what = match (&privilege.column, privilege.position) {
            (Some(column), position) if position > 0 => {
                format!("{} ({})", privilege.privilege, quote_ident(column))
            }
            _ => privilege.privilege.clone(),
        };
        // The owner's own rights, relative to its defaults (all of them): the role that
        // loads a snapshot owns what it creates, whoever owned the original.
        let grantee = match privilege.grantee.as_str() {
            _ if privilege.to_owner => "CURRENT_USER".to_string(),
            "" => "PUBLIC".to_string(),
            role => quote_ident(role),
        };
        let (group, statement) = if privilege.grant {
            let option = if privilege.grantable {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            (
                3,
                format!("GRANT {what} ON {target} TO {grantee}{option};\n"),
            )
        } else {
            (2, format!("REVOKE {what} ON {target} FROM {grantee};\n"))
        };
        let column = privilege.column.clone().unwrap_or_default();
        blocks.list[block].extras.push((group, column, statement));
    }
}

/// Edges `(before, after)` between blocks, from pg_depend and the explicit ones.
fn edges(model: &Model, blocks: &Blocks) -> Vec<(usize, usize)> {
    let block_of = |key: &Key| blocks.owners.get(key).map(|owner| owner.block);
    let mut edges = Vec::new();
    for (object, referenced) in &model.dependencies {
        let (Some(after), Some(before)) = (block_of(object), block_of(referenced)) else {
            continue;
        };
        // A sequence's OWNED BY points at its table, whose default points back at the
        // sequence; the ownership block carries that edge instead.
        let ownership = blocks.list[after].kind == Kind::Sequence
            && blocks.list[before].kind == Kind::Table
            && object.0 == Catalog::Class;
        if !ownership {
            edges.push((before, after));
        }
    }
    for (key, after) in &blocks.after {
        if let Some(before) = block_of(key) {
            edges.push((before, *after));
        }
    }
    edges
}

#[cfg(test)]
mod tests;

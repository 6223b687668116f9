//! Blocks for what hangs off a table or view: constraints, indexes, extended statistics,
//! triggers, rules and policies.
//! Each is written only when its table or view is in the snapshot.

use std::collections::{HashMap, HashSet};

use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{Catalog, Index, Model, Switchable, Table, TriggerState};
use crate::snapshot::sql::{display, display_qualified, options, qualified};

/// `ALTER TABLE` target for a table: ONLY, except on a partitioned table, where the server
/// refuses ONLY for keys once partitions exist and the constraint must reach them anyway.
fn alter_table(table: &Table) -> String {
    let name = qualified(&table.schema, &table.name);
    if table.partition_key.is_some() {
        name
    } else {
        format!("ONLY {name}")
    }
}

pub(super) fn constraints(model: &Model, blocks: &mut Blocks) {
    let tables: HashMap<u32, &Table> = model.tables.iter().map(|t| (t.oid, t)).collect();
    let parents: HashSet<u32> = model
        .tables
        .iter()
        .flat_map(|t| t.inherits.iter().map(|p| p.oid))
        .collect();
    for constraint in &model.constraints {
        let Some(table) = tables.get(&constraint.relation_oid) else {
            continue;
        };
        // A check constraint that children inherit (not NO INHERIT): the server refuses
        // ONLY once children exist, and the children must get it anyway (as inherited).
        let inherited = constraint.kind == "c" && !constraint.definition.contains(" NO INHERIT");
        let target = match inherited && parents.contains(&table.oid) {
            true => qualified(&table.schema, &table.name),
            false => alter_table(table),
        };
        let mut body = format!(
            "ALTER TABLE {target} ADD CONSTRAINT {} {};\n",
            quote_ident(&constraint.name),
            constraint.definition
        );
        if let Some(index) = &constraint.index {
            // pg_get_constraintdef leaves out the index's storage parameters.
            let options = options(&index.options, "");
            if !options.is_empty() {
                let index_name = qualified(&table.schema, &index.name);
                body.push_str(&format!(
                    "ALTER INDEX {index_name} SET ({});\n",
                    options.join(", ")
                ));
            }
            body.push_str(&index_settings(
                &target,
                &index.name,
                index.clustered,
                index.replica_identity,
            ));
        }
        let kind = if constraint.kind == "f" {
            Kind::ForeignKey
        } else {
            Kind::Constraint
        };
        let label = format!(
            "constraint {} {}",
            display_qualified(&table.schema, &table.name),
            display(&constraint.name)
        );
        let sort = [&*table.schema, &table.name, &constraint.name];
        let block = blocks.add(kind, sort, label, body);
        let comment_on = format!(
            "CONSTRAINT {} ON {}",
            quote_ident(&constraint.name),
            qualified(&table.schema, &table.name)
        );
        let key = (Catalog::Constraint, constraint.oid);
        blocks.own(block, key, Some(comment_on), None, None);
        if let Some(index) = &constraint.index {
            blocks.own_quietly(block, (Catalog::Class, index.oid));
        }
    }
}

/// CLUSTER ON and REPLICA IDENTITY USING INDEX, which live on the table but name the index.
fn index_settings(target: &str, index: &str, clustered: bool, replica_identity: bool) -> String {
    let mut out = String::new();
    if clustered {
        out.push_str(&format!(
            "ALTER TABLE {target} CLUSTER ON {};\n",
            quote_ident(index)
        ));
    }
    if replica_identity {
        out.push_str(&format!(
            "ALTER TABLE {target} REPLICA IDENTITY USING INDEX {};\n",
            quote_ident(index)
        ));
    }
    out
}

pub(super) fn indexes(model: &Model, blocks: &mut Blocks) {
    for index in &model.indexes {
        if !blocks.has((Catalog::Class, index.relation_oid)) {
            continue;
        }
        // On a partitioned table the server says ON ONLY, which creates an invalid index
        // with none on the partitions; without ONLY the partitions get theirs.
        let definition = if index.on_partitioned {
            index.definition.replacen(" ON ONLY ", " ON ", 1)
        } else {
            index.definition.clone()
        };
        let target = format!("ONLY {}", qualified(&index.table_schema, &index.table_name));
        let mut body = format!("{definition};\n");
        body.push_str(&invalid_note(index));
        let name = qualified(&index.schema, &index.name);
        for (column, target) in &index.statistics {
            body.push_str(&format!(
                "ALTER INDEX {name} ALTER COLUMN {column} SET STATISTICS {target};\n"
            ));
        }
        body.push_str(&index_settings(
            &target,
            &index.name,
            index.clustered,
            index.replica_identity,
        ));
        let label = format!("index {}", display_qualified(&index.schema, &index.name));
        let block = blocks.add(Kind::Index, [&index.schema, &index.name, ""], label, body);
        let comment_on = format!("INDEX {}", qualified(&index.schema, &index.name));
        blocks.own(
            block,
            (Catalog::Class, index.oid),
            Some(comment_on),
            None,
            None,
        );
    }
}

/// The comment lines that say an index is INVALID, right after its definition; nothing for a
/// valid index (so the snapshots taken before indexes had a state read the same).
///
/// Why a comment: a snapshot must stay SQL that builds the schema, and no statement builds an
/// invalid index (short of one that fails), so the state cannot be a statement. The comment
/// still makes the block of an invalid index differ from that of a valid index with the same
/// definition, which is what `drift` and `check` compare (`~ index app.x`), and it tells the
/// reader of that diff what the state means and what fixes it. Loading a snapshot builds the
/// index valid: the snapshot shows what is there, the comment what is wrong with it.
fn invalid_note(index: &Index) -> String {
    if index.valid {
        return String::new();
    }
    let name = qualified(&index.schema, &index.name);
    if index.on_partitioned {
        // Created ON ONLY the partitioned table, not yet attached to an index of each partition.
        return format!(
            "-- INVALID: not every partition has an index attached to this one; attach one for \
             each (ALTER INDEX {name} ATTACH PARTITION …;) or drop it (DROP INDEX {name};)\n"
        );
    }
    if !index.live {
        return format!(
            "-- INVALID, being dropped: queries do not use it and writes do not maintain it, as \
             an interrupted DROP INDEX CONCURRENTLY leaves it\n\
             -- to fix: DROP INDEX CONCURRENTLY {name};\n"
        );
    }
    let state = if index.ready {
        "ready: writes maintain it (a unique one rejects duplicates) but queries do not use it"
    } else {
        "not ready: queries do not use it and writes do not maintain it"
    };
    format!(
        "-- INVALID, {state}, as an interrupted CREATE INDEX, REINDEX or DROP INDEX \
         CONCURRENTLY leaves it\n\
         -- to fix: DROP INDEX CONCURRENTLY {name}; then build it again if it is still needed \
         (`pgstrata status` shows how)\n"
    )
}

pub(super) fn statistics(model: &Model, blocks: &mut Blocks) {
    for stats in &model.statistics {
        if !blocks.has((Catalog::Class, stats.relation_oid)) {
            continue;
        }
        let name = qualified(&stats.schema, &stats.name);
        let mut body = format!("{};\n", stats.definition);
        if stats.target >= 0 {
            body.push_str(&format!(
                "ALTER STATISTICS {name} SET STATISTICS {};\n",
                stats.target
            ));
        }
        let label = format!(
            "statistics {}",
            display_qualified(&stats.schema, &stats.name)
        );
        let block = blocks.add(
            Kind::Statistics,
            [&stats.schema, &stats.name, ""],
            label,
            body,
        );
        blocks.own(
            block,
            (Catalog::StatisticExt, stats.oid),
            Some(format!("STATISTICS {name}")),
            None,
            None,
        );
    }
}

pub(super) fn triggers_rules_and_policies(model: &Model, blocks: &mut Blocks) {
    switchables(
        &model.triggers,
        &model.trigger_states,
        Kind::Trigger,
        blocks,
    );
    switchables(&model.rules, &[], Kind::Rule, blocks);
    policies(model, blocks);
}

/// Triggers or rules: the definition, then the `ALTER TABLE` that sets a state other than
/// enabled; for a trigger on a partitioned table, then the `ALTER TABLE` of each partition
/// whose copy of the trigger is switched apart from its parent's (`states`), shallowest
/// first, because each such statement also switches the partition's own partitions.
fn switchables(items: &[Switchable], states: &[TriggerState], kind: Kind, blocks: &mut Blocks) {
    let (word, keyword, catalog) = match kind {
        Kind::Rule => ("rule", "RULE", Catalog::Rewrite),
        _ => ("trigger", "TRIGGER", Catalog::Trigger),
    };
    for item in items {
        if !blocks.has((Catalog::Class, item.relation_oid)) {
            continue;
        }
        let relation = qualified(&item.schema, &item.table_name);
        let name = quote_ident(&item.name);
        let definition = item.definition.trim_end_matches(';');
        let mut body = format!("{definition};\n");
        if let Some(state) = switch(&item.enabled, false) {
            body.push_str(&format!(
                "ALTER TABLE {relation} {state} {keyword} {name};\n"
            ));
        }
        let mut partitions: Vec<&TriggerState> = states
            .iter()
            .filter(|s| s.root_oid == item.oid && blocks.has((Catalog::Class, s.relation_oid)))
            .collect();
        partitions.sort_by(|a, b| {
            (a.depth, &a.schema, &a.table_name).cmp(&(b.depth, &b.schema, &b.table_name))
        });
        for partition in partitions {
            let table = qualified(&partition.schema, &partition.table_name);
            let state = switch(&partition.enabled, true).unwrap_or_default();
            body.push_str(&format!(
                "ALTER TABLE {table} {state} {keyword} {};\n",
                quote_ident(&partition.name)
            ));
        }
        let label = format!(
            "{word} {} {}",
            display_qualified(&item.schema, &item.table_name),
            display(&item.name)
        );
        let sort = [&*item.schema, &item.table_name, &item.name];
        let block = blocks.add(kind, sort, label, body);
        blocks.own(
            block,
            (catalog, item.oid),
            Some(format!("{keyword} {name} ON {relation}")),
            None,
            None,
        );
    }
}

/// The `ALTER TABLE` words for a tgenabled/ev_enabled state; for enabled (`O`), only when
/// `explicit` (a partition set back on under a disabled parent).
fn switch(enabled: &str, explicit: bool) -> Option<&'static str> {
    match enabled {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ if explicit => Some("ENABLE"),
        _ => None,
    }
}

fn policies(model: &Model, blocks: &mut Blocks) {
    for policy in &model.policies {
        if !blocks.has((Catalog::Class, policy.relation_oid)) {
            continue;
        }
        let relation = qualified(&policy.schema, &policy.table_name);
        let name = quote_ident(&policy.name);
        let mut roles: Vec<String> = policy
            .roles
            .iter()
            .map(|role| match role.as_str() {
                "" => "PUBLIC".to_string(),
                role => quote_ident(role),
            })
            .collect();
        roles.sort();
        let command = match policy.command.as_str() {
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            _ => "ALL",
        };
        let mode = if policy.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        };
        let mut body = format!(
            "CREATE POLICY {name} ON {relation} AS {mode} FOR {command} TO {}",
            roles.join(", ")
        );
        if let Some(using) = &policy.using_expr {
            body.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &policy.check_expr {
            body.push_str(&format!(" WITH CHECK ({check})"));
        }
        body.push_str(";\n");
        let label = format!(
            "policy {} {}",
            display_qualified(&policy.schema, &policy.table_name),
            display(&policy.name)
        );
        let sort = [&*policy.schema, &policy.table_name, &policy.name];
        let block = blocks.add(Kind::Policy, sort, label, body);
        let comment_on = format!("POLICY {name} ON {relation}");
        blocks.own(
            block,
            (Catalog::Policy, policy.oid),
            Some(comment_on),
            None,
            None,
        );
    }
}

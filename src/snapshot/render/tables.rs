//! Table blocks: CREATE TABLE with its columns (or PARTITION OF with what differs from the
//! parent; or, for a child table, its own columns and INHERITS, then what differs from what
//! it inherits; or OF type with what the columns add to the type's; or, for a foreign table,
//! any of these with its server and options), then the table-level settings that CREATE
//! TABLE cannot say (per-column statistics, storage and compression, a foreign table's column
//! options, replica identity, row-level security).

use std::collections::HashMap;

use super::objects::{collate, list, sequence_options};
use super::wide::generic_options;
use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{Catalog, Column, Model, Parent, Table};
use crate::snapshot::sql::{display_qualified, options, qualified};

pub(super) fn tables(model: &Model, blocks: &mut Blocks) {
    let by_oid: HashMap<u32, &Table> = model.tables.iter().map(|t| (t.oid, t)).collect();
    for table in &model.tables {
        let name = qualified(&table.schema, &table.name);
        let parent = table
            .partition_of
            .as_ref()
            .and_then(|p| by_oid.get(&p.parent_oid).copied());
        let columns = match table.inherits.is_empty() {
            true => in_parent_order(table, parent),
            false => inherited_order(table, &by_oid),
        };
        let mut body = create_table(table, &columns, parent, &by_oid);
        body.push_str(&settings(table, &columns, &name));
        // COMMENT ON TABLE refuses a foreign table; GRANT ... ON TABLE takes it.
        let word = if table.foreign.is_some() {
            "foreign table"
        } else {
            "table"
        };
        let label = format!("{word} {}", display_qualified(&table.schema, &table.name));
        let block = blocks.add(Kind::Table, [&table.schema, &table.name, ""], label, body);
        let comment_on = format!("{} {name}", word.to_uppercase());
        let key = (Catalog::Class, table.oid);
        let grant_on = format!("TABLE {name}");
        blocks.own(block, key, Some(comment_on), Some(grant_on), Some(name));
        blocks.own_quietly(block, (Catalog::Type, table.type_oid));
        blocks.own_quietly(block, (Catalog::Type, table.array_oid));
        for column in &table.columns {
            if let Some(default) = column.default_oid {
                blocks.own_quietly(block, (Catalog::AttrDef, default));
            }
        }
    }
}

/// A partition's columns in its parent's order (PARTITION OF recreates them so, whatever
/// order a partition attached later had); any other table's in its own.
fn in_parent_order<'a>(table: &'a Table, parent: Option<&Table>) -> Vec<&'a Column> {
    let mut columns: Vec<&Column> = table.columns.iter().collect();
    if let Some(parent) = parent {
        let rank: HashMap<&str, usize> = parent
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        columns.sort_by_key(|c| (rank.get(c.name.as_str()).copied(), c.position));
    }
    columns
}

/// A child table's columns in the order CREATE TABLE ... INHERITS gives them, whatever
/// order they had (ALTER TABLE ... INHERIT keeps the child's): the parents' columns first,
/// parent by parent in INHERITS order, each parent's in its own such order; then the
/// child's own columns.
fn inherited_order<'a>(table: &'a Table, by_oid: &HashMap<u32, &Table>) -> Vec<&'a Column> {
    let mut names: Vec<String> = Vec::new();
    for parent in &table.inherits {
        let Some(parent) = by_oid.get(&parent.oid) else {
            continue;
        };
        for column in inherited_order(parent, by_oid) {
            if !names.contains(&column.name) {
                names.push(column.name.clone());
            }
        }
    }
    let mut columns: Vec<&Column> = table.columns.iter().collect();
    columns.sort_by_key(|c| {
        let rank = names.iter().position(|n| *n == c.name);
        (rank.is_none(), rank, c.position)
    });
    columns
}

fn create_table(
    table: &Table,
    columns: &[&Column],
    parent: Option<&Table>,
    by_oid: &HashMap<u32, &Table>,
) -> String {
    let name = qualified(&table.schema, &table.name);
    let unlogged = if table.unlogged { "UNLOGGED " } else { "" };
    let foreign = if table.foreign.is_some() {
        "FOREIGN "
    } else {
        ""
    };
    let mut out = format!("CREATE {unlogged}{foreign}TABLE {name}");
    let mut after = String::new();
    match &table.partition_of {
        Some(partition) => {
            let (options, dropped) = partition_columns(columns, parent);
            // The column list of PARTITION OF may not be empty: no parentheses then.
            let options = match options.is_empty() {
                true => String::new(),
                false => format!(" ({})", list(&options)),
            };
            out.push_str(&format!(
                " PARTITION OF {}{options} {}",
                qualified(&partition.parent_schema, &partition.parent_name),
                partition.bound
            ));
            for column in dropped {
                after.push_str(&format!(
                    "ALTER TABLE ONLY {name} ALTER COLUMN {} DROP DEFAULT;\n",
                    quote_ident(column)
                ));
            }
        }
        None if table.of_type.is_some() => {
            // The columns are the type's: only what a column adds to it (the list may not
            // be empty).
            let (options, _) = partition_columns(columns, None);
            let options = match options.is_empty() {
                true => String::new(),
                false => format!(" ({})", list(&options)),
            };
            let of = table.of_type.as_deref().unwrap_or_default();
            out.push_str(&format!(" OF {of}{options}"));
        }
        None if !table.inherits.is_empty() => {
            // Only the child's own columns: INHERITS adds the rest (and merges a column
            // both define).
            let own: Vec<String> = columns
                .iter()
                .filter(|c| c.local)
                .map(|c| column(c))
                .collect();
            let parents: Vec<String> = table.inherits.iter().map(parent_name).collect();
            out.push_str(&format!(
                " ({}) INHERITS ({})",
                list(&own),
                parents.join(", ")
            ));
            after.push_str(&inherited_columns(table, columns, by_oid));
        }
        None => {
            let columns: Vec<String> = columns.iter().map(|c| column(c)).collect();
            out.push_str(&format!(" ({})", list(&columns)));
        }
    }
    if let Some(key) = &table.partition_key {
        out.push_str(&format!(" PARTITION BY {key}"));
    }
    if let Some(foreign) = &table.foreign {
        out.push_str(&format!(
            " SERVER {}{}",
            quote_ident(&foreign.server),
            generic_options(&foreign.options)
        ));
    }
    if let Some(method) = &table.access_method {
        out.push_str(&format!(" USING {}", quote_ident(method)));
    }
    let mut storage = options(&table.options, "");
    storage.extend(options(&table.toast_options, "toast."));
    if !storage.is_empty() {
        out.push_str(&format!(" WITH ({})", storage.join(", ")));
    }
    out.push_str(";\n");
    out.push_str(&after);
    out
}

/// One column as CREATE TABLE spells it.
fn column(column: &Column) -> String {
    let mut out = format!(
        "{} {}{}",
        quote_ident(&column.name),
        column.data_type,
        collate(&column.collation)
    );
    match (&column.default, &column.identity) {
        (Some(expression), _) if column.generated => {
            out.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
        }
        (Some(expression), _) => out.push_str(&format!(" DEFAULT {expression}")),
        (None, Some(identity)) => {
            let kind = if identity.always {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            };
            let mut options = vec![format!(
                "SEQUENCE NAME {}",
                qualified(&identity.sequence_schema, &identity.sequence_name)
            )];
            options.extend(sequence_options(&identity.options));
            out.push_str(&format!(
                " GENERATED {kind} AS IDENTITY ({})",
                options.join(" ")
            ));
        }
        (None, None) => {}
    }
    if column.not_null {
        out.push_str(" NOT NULL");
    }
    out
}

fn parent_name(parent: &Parent) -> String {
    qualified(&parent.schema, &parent.name)
}

/// What a child table's columns have other than what INHERITS gives them: a default other
/// than the parents' (a column the child also defines keeps its own default, or none, but
/// CREATE TABLE would give it the parents'), NOT NULL where no parent has it.
fn inherited_columns(table: &Table, columns: &[&Column], by_oid: &HashMap<u32, &Table>) -> String {
    let name = qualified(&table.schema, &table.name);
    let parents: Vec<&Column> = table
        .inherits
        .iter()
        .filter_map(|p| by_oid.get(&p.oid))
        .flat_map(|p| p.columns.iter())
        .collect();
    let mut out = String::new();
    for column in columns {
        let same: Vec<&&Column> = parents.iter().filter(|c| c.name == column.name).collect();
        if same.is_empty() || column.generated {
            continue;
        }
        // Parents that disagree on a default make CREATE TABLE fail unless the child sets
        // one, so the first parent with one stands for all.
        let inherited = same.iter().find_map(|c| c.default.as_ref());
        let alter = format!(
            "ALTER TABLE ONLY {name} ALTER COLUMN {}",
            quote_ident(&column.name)
        );
        match (&column.default, inherited) {
            (Some(own), _) if !column.local && Some(own) != inherited => {
                out.push_str(&format!("{alter} SET DEFAULT {own};\n"));
            }
            (None, Some(_)) => out.push_str(&format!("{alter} DROP DEFAULT;\n")),
            _ => {}
        }
        if !column.local && column.not_null && !same.iter().any(|c| c.not_null) {
            out.push_str(&format!("{alter} SET NOT NULL;\n"));
        }
    }
    out
}

/// What a partition's columns say beyond what PARTITION OF copies from the parent (its
/// defaults and NOT NULL): `col WITH OPTIONS ...` items, and the columns whose inherited
/// default the partition dropped. With no parent, what a typed table's columns add to its
/// type's attributes.
fn partition_columns<'a>(
    columns: &[&'a Column],
    parent: Option<&Table>,
) -> (Vec<String>, Vec<&'a str>) {
    let inherited: HashMap<&str, &Column> = parent
        .map(|p| p.columns.iter().map(|c| (c.name.as_str(), c)).collect())
        .unwrap_or_default();
    let mut options = Vec::new();
    let mut dropped = Vec::new();
    for column in columns {
        let from_parent = inherited.get(column.name.as_str());
        let parent_default = from_parent.and_then(|c| c.default.as_ref());
        let parent_not_null = from_parent.is_some_and(|c| c.not_null);
        let mut extra = String::new();
        if !column.generated && column.default.as_ref() != parent_default {
            match &column.default {
                Some(expression) => extra.push_str(&format!(" DEFAULT {expression}")),
                None => dropped.push(column.name.as_str()),
            }
        }
        if column.not_null && !parent_not_null {
            extra.push_str(" NOT NULL");
        }
        if !extra.is_empty() {
            options.push(format!("{} WITH OPTIONS{extra}", quote_ident(&column.name)));
        }
    }
    (options, dropped)
}

/// Settings that need their own statements after CREATE TABLE.
fn settings(table: &Table, columns: &[&Column], name: &str) -> String {
    let mut out = String::new();
    for column in columns {
        let alter = format!(
            "ALTER TABLE ONLY {name} ALTER COLUMN {}",
            quote_ident(&column.name)
        );
        if column.statistics >= 0 {
            out.push_str(&format!("{alter} SET STATISTICS {};\n", column.statistics));
        }
        if let Some(storage) = &column.storage {
            out.push_str(&format!("{alter} SET STORAGE {storage};\n"));
        }
        if let Some(compression) = &column.compression {
            out.push_str(&format!("{alter} SET COMPRESSION {compression};\n"));
        }
        if !column.options.is_empty() {
            let options = options(&column.options, "").join(", ");
            out.push_str(&format!("{alter} SET ({options});\n"));
        }
        let fdw_options = generic_options(&column.fdw_options);
        if !fdw_options.is_empty() {
            out.push_str(&format!(
                "ALTER FOREIGN TABLE ONLY {name} ALTER COLUMN {}{fdw_options};\n",
                quote_ident(&column.name)
            ));
        }
    }
    // A foreign table has NOTHING, and no way to change it.
    let replica_identity = match table.foreign {
        Some(_) => "",
        None => table.replica_identity.as_str(),
    };
    match replica_identity {
        "f" => out.push_str(&format!("ALTER TABLE ONLY {name} REPLICA IDENTITY FULL;\n")),
        "n" => out.push_str(&format!(
            "ALTER TABLE ONLY {name} REPLICA IDENTITY NOTHING;\n"
        )),
        _ => {}
    }
    if table.row_security {
        out.push_str(&format!(
            "ALTER TABLE ONLY {name} ENABLE ROW LEVEL SECURITY;\n"
        ));
    }
    if table.force_row_security {
        out.push_str(&format!(
            "ALTER TABLE ONLY {name} FORCE ROW LEVEL SECURITY;\n"
        ));
    }
    out
}

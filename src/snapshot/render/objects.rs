//! Blocks for the stand-alone kinds: schemas, extensions, types, domains, functions,
//! sequences and views.

use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{
    Aggregate, Catalog, Model, Range, SequenceOptions, TypeDef, TypeKind,
};
use crate::snapshot::sql::{display, display_qualified, literal, options, qualified};

pub(super) fn schemas_and_extensions(model: &Model, blocks: &mut Blocks) {
    for schema in &model.schemas {
        let name = quote_ident(&schema.name);
        let block = blocks.add(
            Kind::Schema,
            [&schema.name, "", ""],
            format!("schema {}", display(&schema.name)),
            format!("CREATE SCHEMA IF NOT EXISTS {name};\n"),
        );
        let target = format!("SCHEMA {name}");
        let key = (Catalog::Namespace, schema.oid);
        blocks.own(block, key, Some(target.clone()), Some(target), None);
    }
    for extension in &model.extensions {
        let name = quote_ident(&extension.name);
        let block = blocks.add(
            Kind::Extension,
            [&extension.name, "", ""],
            format!("extension {}", display(&extension.name)),
            format!(
                "CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {} VERSION {};\n",
                quote_ident(&extension.schema),
                literal(&extension.version)
            ),
        );
        let key = (Catalog::Extension, extension.oid);
        blocks.own(block, key, Some(format!("EXTENSION {name}")), None, None);
    }
}

pub(super) fn types(model: &Model, blocks: &mut Blocks) {
    for def in &model.types {
        let name = qualified(&def.schema, &def.name);
        let (kind, word, body) = type_body(def, &name);
        let block = blocks.add(
            kind,
            [&def.schema, &def.name, ""],
            format!("{word} {}", display_qualified(&def.schema, &def.name)),
            body,
        );
        let target = format!("{} {name}", word.to_uppercase());
        blocks.own(
            block,
            (Catalog::Type, def.oid),
            Some(target.clone()),
            Some(target),
            None,
        );
        blocks.own_quietly(block, (Catalog::Type, def.array_oid));
        match &def.kind {
            TypeKind::Composite { class_oid, .. } => {
                let key = (Catalog::Class, *class_oid);
                blocks.own(block, key, None, None, Some(name.clone()));
            }
            TypeKind::Domain { constraints, .. } => {
                for constraint in constraints {
                    let target = format!(
                        "CONSTRAINT {} ON DOMAIN {name}",
                        quote_ident(&constraint.name)
                    );
                    let key = (Catalog::Constraint, constraint.oid);
                    blocks.own(block, key, Some(target), None, None);
                }
            }
            TypeKind::Range(Range {
                multirange: Some((oid, array_oid, _, _)),
                ..
            }) => {
                blocks.own_quietly(block, (Catalog::Type, *oid));
                blocks.own_quietly(block, (Catalog::Type, *array_oid));
            }
            TypeKind::Enum { .. } | TypeKind::Range(_) => {}
        }
    }
}

/// The block kind, header word and statements of an enum, composite type or domain.
fn type_body(def: &TypeDef, name: &str) -> (Kind, &'static str, String) {
    match &def.kind {
        TypeKind::Enum { labels } => {
            let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
            let body = format!("CREATE TYPE {name} AS ENUM ({});\n", list(&labels));
            (Kind::Type, "type", body)
        }
        TypeKind::Composite { attributes, .. } => {
            let attributes: Vec<String> = attributes
                .iter()
                .map(|a| {
                    let collation = collate(&a.collation);
                    format!("{} {}{collation}", quote_ident(&a.name), a.data_type)
                })
                .collect();
            let body = format!("CREATE TYPE {name} AS ({});\n", list(&attributes));
            (Kind::Type, "type", body)
        }
        TypeKind::Domain { .. } => (Kind::Domain, "domain", domain(def, name)),
        TypeKind::Range(range_type) => (Kind::Type, "type", range(range_type, name)),
    }
}

/// CREATE TYPE ... AS RANGE, with the multirange's name spelled out so that it does not
/// depend on the server's naming rule.
fn range(range: &Range, name: &str) -> String {
    let mut options = vec![format!("SUBTYPE = {}", range.subtype)];
    if let Some((schema, opclass)) = &range.opclass {
        options.push(format!("SUBTYPE_OPCLASS = {}", qualified(schema, opclass)));
    }
    if let Some((schema, collation)) = &range.collation {
        options.push(format!("COLLATION = {}", qualified(schema, collation)));
    }
    if let Some(function) = &range.canonical {
        options.push(format!("CANONICAL = {function}"));
    }
    if let Some(function) = &range.subdiff {
        options.push(format!("SUBTYPE_DIFF = {function}"));
    }
    if let Some((_, _, schema, multirange)) = &range.multirange {
        options.push(format!(
            "MULTIRANGE_TYPE_NAME = {}",
            qualified(schema, multirange)
        ));
    }
    format!("CREATE TYPE {name} AS RANGE ({});\n", list(&options))
}

pub(super) fn collations(model: &Model, blocks: &mut Blocks) {
    for collation in &model.collations {
        let name = qualified(&collation.schema, &collation.name);
        let mut options = Vec::new();
        if collation.provider == "i" {
            options.push("provider = icu".to_string());
            let locale = collation.locale.as_deref().unwrap_or_default();
            options.push(format!("locale = {}", literal(locale)));
        } else {
            options.push("provider = libc".to_string());
            let lc_collate = collation.lc_collate.as_deref().unwrap_or_default();
            let lc_ctype = collation.lc_ctype.as_deref().unwrap_or_default();
            options.push(format!("lc_collate = {}", literal(lc_collate)));
            options.push(format!("lc_ctype = {}", literal(lc_ctype)));
        }
        options.push(format!("deterministic = {}", collation.deterministic));
        let body = format!("CREATE COLLATION {name} ({});\n", options.join(", "));
        let label = format!(
            "collation {}",
            display_qualified(&collation.schema, &collation.name)
        );
        let sort = [&*collation.schema, &collation.name, ""];
        let block = blocks.add(Kind::Collation, sort, label, body);
        let key = (Catalog::Collation, collation.oid);
        blocks.own(block, key, Some(format!("COLLATION {name}")), None, None);
    }
}

fn domain(def: &TypeDef, name: &str) -> String {
    let TypeKind::Domain {
        base_type,
        collation,
        not_null,
        default,
        constraints,
    } = &def.kind
    else {
        unreachable!("only called for domains");
    };
    let mut body = format!("CREATE DOMAIN {name} AS {base_type}{}", collate(collation));
    if let Some(default) = default {
        body.push_str(&format!(" DEFAULT {default}"));
    }
    if *not_null {
        body.push_str(" NOT NULL");
    }
    body.push_str(";\n");
    let mut constraints: Vec<_> = constraints.iter().collect();
    constraints.sort_by(|a, b| a.name.cmp(&b.name));
    for constraint in constraints {
        body.push_str(&format!(
            "ALTER DOMAIN {name} ADD CONSTRAINT {} {};\n",
            quote_ident(&constraint.name),
            constraint.definition
        ));
    }
    body
}

/// ` COLLATE "schema"."name"` when a collation other than the type's default is set.
pub(super) fn collate(collation: &Option<(String, String)>) -> String {
    match collation {
        Some((schema, name)) => format!(" COLLATE {}", qualified(schema, name)),
        None => String::new(),
    }
}

/// Items one per line inside parentheses, so that a diff shows the one that changed.
pub(super) fn list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("\n    {}\n", items.join(",\n    "))
}

pub(super) fn functions(model: &Model, blocks: &mut Blocks) {
    for function in &model.functions {
        let word = if function.is_procedure {
            "procedure"
        } else {
            "function"
        };
        let signature = format!(
            "{}({})",
            qualified(&function.schema, &function.name),
            function.arguments
        );
        let label = format!(
            "{word} {}({})",
            display_qualified(&function.schema, &function.name),
            function.arguments
        );
        let body = format!("{};\n", sorted_settings(function.definition.trim_end()));
        let sort = [&*function.schema, &function.name, &function.arguments];
        let block = blocks.add(Kind::Function, sort, label, body);
        let target = format!("{} {signature}", word.to_uppercase());
        let key = (Catalog::Proc, function.oid);
        blocks.own(block, key, Some(target.clone()), Some(target), None);
    }
}

/// A function definition with its ` SET name TO value` lines sorted. The server keeps a
/// function's settings in the order they were set, which is history, not schema. They sit
/// in the header, the lines after the first that start with a space, before the body.
fn sorted_settings(definition: &str) -> String {
    let mut lines: Vec<&str> = definition.split('\n').collect();
    let header_end = lines
        .iter()
        .skip(1)
        .position(|line| !line.starts_with(' '))
        .map_or(lines.len(), |i| i + 1);
    let header = &mut lines[..header_end];
    if let Some(first) = header.iter().position(|l| l.starts_with(" SET ")) {
        let count = header[first..]
            .iter()
            .take_while(|l| l.starts_with(" SET "))
            .count();
        header[first..first + count].sort_unstable();
    }
    lines.join("\n")
}

/// Aggregates rank with functions: their transition functions come first by dependency.
pub(super) fn aggregates(model: &Model, blocks: &mut Blocks) {
    for aggregate in &model.aggregates {
        let name = qualified(&aggregate.schema, &aggregate.name);
        let body = format!(
            "CREATE AGGREGATE {name}({}) ({});\n",
            aggregate.signature,
            list(&aggregate_options(aggregate))
        );
        let label = format!(
            "aggregate {}({})",
            display_qualified(&aggregate.schema, &aggregate.name),
            aggregate.arguments
        );
        let sort = [&*aggregate.schema, &aggregate.name, &aggregate.arguments];
        let block = blocks.add(Kind::Function, sort, label, body);
        let comment_on = format!("AGGREGATE {name}({})", aggregate.identity);
        let grant_on = format!("FUNCTION {name}({})", aggregate.arguments);
        let key = (Catalog::Proc, aggregate.oid);
        blocks.own(block, key, Some(comment_on), Some(grant_on), None);
    }
}

/// CREATE AGGREGATE's options; a modify option only where it is not the kind's default.
fn aggregate_options(a: &Aggregate) -> Vec<String> {
    let default_modify = if a.kind == "n" { "r" } else { "w" };
    let modify = |code: &str| match code {
        "r" => "READ_ONLY",
        "s" => "SHAREABLE",
        _ => "READ_WRITE",
    };
    let mut options = vec![
        format!("SFUNC = {}", a.sfunc),
        format!("STYPE = {}", a.stype),
    ];
    let mut add = |name: &str, value: &Option<String>| {
        if let Some(value) = value {
            options.push(format!("{name} = {value}"));
        }
    };
    add("FINALFUNC", &a.finalfunc);
    add("COMBINEFUNC", &a.combinefunc);
    add("SERIALFUNC", &a.serialfunc);
    add("DESERIALFUNC", &a.deserialfunc);
    add("INITCOND", &a.initcond.as_deref().map(literal));
    add("MSFUNC", &a.msfunc);
    add("MINVFUNC", &a.minvfunc);
    add("MSTYPE", &a.mstype);
    add("MFINALFUNC", &a.mfinalfunc);
    add("MINITCOND", &a.minitcond.as_deref().map(literal));
    // A qualified operator is only valid inside OPERATOR(...).
    add(
        "SORTOP",
        &a.sortop.as_ref().map(|op| format!("OPERATOR({op})")),
    );
    let flags = [
        (a.sspace > 0, format!("SSPACE = {}", a.sspace)),
        (a.msspace > 0, format!("MSSPACE = {}", a.msspace)),
        (a.finalfunc_extra, "FINALFUNC_EXTRA".to_string()),
        (a.mfinalfunc_extra, "MFINALFUNC_EXTRA".to_string()),
        (
            a.finalfunc_modify != default_modify,
            format!("FINALFUNC_MODIFY = {}", modify(&a.finalfunc_modify)),
        ),
        (
            a.mfinalfunc_modify != default_modify,
            format!("MFINALFUNC_MODIFY = {}", modify(&a.mfinalfunc_modify)),
        ),
        (a.parallel == "s", "PARALLEL = SAFE".to_string()),
        (a.parallel == "r", "PARALLEL = RESTRICTED".to_string()),
        (a.kind == "h", "HYPOTHETICAL".to_string()),
    ];
    options.extend(
        flags
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, text)| text),
    );
    options
}

/// The options every sequence and identity column spells out, so that none depends on a
/// server default.
pub(super) fn sequence_options(options: &SequenceOptions) -> Vec<String> {
    vec![
        format!("START WITH {}", options.start),
        format!("INCREMENT BY {}", options.increment),
        format!("MINVALUE {}", options.min_value),
        format!("MAXVALUE {}", options.max_value),
        format!("CACHE {}", options.cache),
        if options.cycle { "CYCLE" } else { "NO CYCLE" }.to_string(),
    ]
}

/// Sequences, and for each owned one a separate OWNED BY block after its table: the table's
/// default needs the sequence first, the ownership needs the table.
pub(super) fn sequences(model: &Model, blocks: &mut Blocks) {
    for sequence in &model.sequences {
        let name = qualified(&sequence.schema, &sequence.name);
        let unlogged = if sequence.unlogged { "UNLOGGED " } else { "" };
        let mut lines = vec![format!("AS {}", sequence.data_type)];
        lines.extend(sequence_options(&sequence.options));
        let body = format!(
            "CREATE {unlogged}SEQUENCE {name}\n    {};\n",
            lines.join("\n    ")
        );
        let display_name = display_qualified(&sequence.schema, &sequence.name);
        let sort = [&*sequence.schema, &sequence.name, ""];
        let block = blocks.add(
            Kind::Sequence,
            sort,
            format!("sequence {display_name}"),
            body,
        );
        let target = format!("SEQUENCE {name}");
        let key = (Catalog::Class, sequence.oid);
        blocks.own(block, key, Some(target.clone()), Some(target), None);
        let Some((table_oid, schema, table, column)) = &sequence.owner else {
            continue;
        };
        if !blocks.has((Catalog::Class, *table_oid)) {
            continue;
        }
        let body = format!(
            "ALTER SEQUENCE {name} OWNED BY {}.{};\n",
            qualified(schema, table),
            quote_ident(column)
        );
        let label = format!("sequence ownership {display_name}");
        let ownership = blocks.add(Kind::SequenceOwnership, sort, label, body);
        blocks.after((Catalog::Class, *table_oid), ownership);
        blocks.after(key, ownership);
    }
}

pub(super) fn views(model: &Model, blocks: &mut Blocks) {
    for view in &model.views {
        let name = qualified(&view.schema, &view.name);
        let definition = view.definition.trim().trim_end_matches(';');
        let options = options(&view.options, "");
        let with = if options.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", options.join(", "))
        };
        let (kind, word, body) = if view.materialized {
            let using = match &view.access_method {
                Some(method) => format!(" USING {}", quote_ident(method)),
                None => String::new(),
            };
            let body = format!(
                "CREATE MATERIALIZED VIEW {name}{using}{with} AS\n{definition}\nWITH NO DATA;\n"
            );
            (Kind::MaterializedView, "materialized view", body)
        } else {
            let mut body = format!("CREATE VIEW {name}{with} AS\n{definition};\n");
            // What an INSERT through the view puts in a column it does not name.
            let mut defaults: Vec<_> = view.defaults.iter().collect();
            defaults.sort();
            for (column, expression, _) in defaults {
                body.push_str(&format!(
                    "ALTER VIEW {name} ALTER COLUMN {} SET DEFAULT {expression};\n",
                    quote_ident(column)
                ));
            }
            (Kind::View, "view", body)
        };
        let label = format!("{word} {}", display_qualified(&view.schema, &view.name));
        let block = blocks.add(kind, [&view.schema, &view.name, ""], label, body);
        let comment_on = format!("{} {name}", word.to_uppercase());
        let grant_on = format!("TABLE {name}");
        let key = (Catalog::Class, view.oid);
        blocks.own(
            block,
            key,
            Some(comment_on),
            Some(grant_on),
            Some(name.clone()),
        );
        blocks.own_quietly(block, (Catalog::Type, view.type_oid));
        blocks.own_quietly(block, (Catalog::Type, view.array_oid));
        if let Some(rule) = view.rule_oid {
            blocks.own_quietly(block, (Catalog::Rewrite, rule));
        }
        for (_, _, oid) in &view.defaults {
            blocks.own_quietly(block, (Catalog::AttrDef, *oid));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sorted_settings;

    #[test]
    fn function_settings_are_sorted_and_the_body_is_left_alone() {
        let definition = "CREATE OR REPLACE FUNCTION app.f()\n RETURNS void\n LANGUAGE plpgsql\n \
                          SET work_mem TO '64kB'\n SET search_path TO 'app'\nAS $function$\n \
                          SET b TO 1\n SET a TO 2\n$function$";
        let sorted = sorted_settings(definition);
        assert!(sorted.contains(" SET search_path TO 'app'\n SET work_mem TO '64kB'\nAS "));
        assert!(
            sorted.ends_with("\n SET b TO 1\n SET a TO 2\n$function$"),
            "{sorted}"
        );
        let plain = "CREATE OR REPLACE FUNCTION app.g()\n RETURNS void\nAS $$ $$";
        assert_eq!(sorted_settings(plain), plain);
    }
}

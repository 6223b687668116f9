//! Blocks for operators (`CREATE OPERATOR`), operator families (`CREATE OPERATOR FAMILY`,
//! then `ALTER OPERATOR FAMILY ... ADD` for its loose members), operator classes (`CREATE
//! OPERATOR CLASS ... AS` with their own members) and conversions (`CREATE [DEFAULT]
//! CONVERSION`). Each member row is owned by the block that writes it, so that the catalog's
//! dependencies (a member on its operator or function) order the blocks.

use super::objects::list;
use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{Catalog, Model, Operator, OperatorMember};
use crate::snapshot::sql::{display, display_qualified, literal, qualified};

/// `"schema".<<<`: an operator's symbol is never quoted, its schema always is.
fn operator_name(schema: &str, symbol: &str) -> String {
    format!("{}.{symbol}", quote_ident(schema))
}

/// `(integer, integer)` or `(NONE, integer)`, as DROP and COMMENT ON OPERATOR take them.
fn operands(operator: &Operator) -> String {
    let left = operator.left_type.as_deref().unwrap_or("NONE");
    format!("({left}, {})", operator.right_type)
}

pub(super) fn operators(model: &Model, blocks: &mut Blocks) {
    for operator in &model.operators.operators {
        let name = operator_name(&operator.schema, &operator.name);
        let mut options = vec![format!("FUNCTION = {}", operator.function)];
        if let Some(left) = &operator.left_type {
            options.push(format!("LEFTARG = {left}"));
        }
        options.push(format!("RIGHTARG = {}", operator.right_type));
        // OPERATOR(...) because a qualified operator is only valid inside it.
        for (word, other) in [
            ("COMMUTATOR", &operator.commutator),
            ("NEGATOR", &operator.negator),
        ] {
            if let Some((schema, symbol)) = other {
                let other = operator_name(schema, symbol);
                options.push(format!("{word} = OPERATOR({other})"));
            }
        }
        for (word, function) in [("RESTRICT", &operator.restrict), ("JOIN", &operator.join)] {
            if let Some(function) = function {
                options.push(format!("{word} = {function}"));
            }
        }
        if operator.hashes {
            options.push("HASHES".to_string());
        }
        if operator.merges {
            options.push("MERGES".to_string());
        }
        let operands = operands(operator);
        let body = format!("CREATE OPERATOR {name} ({});\n", list(&options));
        let label = format!(
            "operator {}.{}{operands}",
            display(&operator.schema),
            operator.name
        );
        let sort = [&*operator.schema, &operator.name, &operands];
        let block = blocks.add(Kind::Operator, sort, label, body);
        let key = (Catalog::Operator, operator.oid);
        let comment_on = format!("OPERATOR {name} {operands}");
        blocks.own(block, key, Some(comment_on), None, None);
    }
}

/// The members of one family or class, as `CREATE OPERATOR CLASS ... AS` and `ALTER
/// OPERATOR FAMILY ... ADD` list them: operators by strategy, then functions by number.
fn member_lines(members: &[&OperatorMember]) -> Vec<String> {
    let mut members = members.to_vec();
    members.sort_by(|a, b| {
        (&a.kind, a.number, &a.left_type, &a.right_type, &a.member).cmp(&(
            &b.kind,
            b.number,
            &b.left_type,
            &b.right_type,
            &b.member,
        ))
    });
    // "FUNCTION" sorts before "OPERATOR": operators first, as pg_dump lists them.
    members.sort_by_key(|m| m.kind != "OPERATOR");
    members
        .iter()
        .map(|m| match (m.kind.as_str(), &m.sort_family) {
            ("OPERATOR", Some((schema, family))) => format!(
                "OPERATOR {} {} FOR ORDER BY {}",
                m.number,
                m.member,
                qualified(schema, family)
            ),
            ("OPERATOR", None) => format!("OPERATOR {} {}", m.number, m.member),
            _ => format!(
                "FUNCTION {} ({}, {}) {}",
                m.number, m.left_type, m.right_type, m.member
            ),
        })
        .collect()
}

/// The members held by the `owner_catalog` row `oid`.
fn members_of<'a>(model: &'a Model, owner_catalog: &str, oid: u32) -> Vec<&'a OperatorMember> {
    model
        .operators
        .members
        .iter()
        .filter(|m| m.owner_catalog == owner_catalog && m.owner_oid == oid)
        .collect()
}

/// Each member row belongs to the block that writes it: its dependencies order that block.
fn own_members(blocks: &mut Blocks, block: usize, members: &[&OperatorMember]) {
    for member in members {
        let catalog = Catalog::from_name(&member.catalog);
        blocks.own_quietly(block, (catalog, member.oid));
    }
}

pub(super) fn families_and_classes(model: &Model, blocks: &mut Blocks) {
    for family in &model.operators.families {
        let name = qualified(&family.schema, &family.name);
        let using = format!("USING {}", quote_ident(&family.method));
        let label = format!(
            "operator family {} USING {}",
            display_qualified(&family.schema, &family.name),
            display(&family.method)
        );
        let sort = [&*family.schema, &family.name, &family.method];
        let members = members_of(model, "pg_opfamily", family.oid);
        let mut body = format!("CREATE OPERATOR FAMILY {name} {using};\n");
        if !members.is_empty() {
            body.push_str(&format!(
                "ALTER OPERATOR FAMILY {name} {using} ADD\n    {};\n",
                member_lines(&members).join(",\n    ")
            ));
        }
        let block = blocks.add(Kind::OperatorFamily, sort, label, body);
        own_members(blocks, block, &members);
        let key = (Catalog::OpFamily, family.oid);
        let comment_on = format!("OPERATOR FAMILY {name} {using}");
        blocks.own(block, key, Some(comment_on), None, None);
    }
    for class in &model.operators.classes {
        let name = qualified(&class.schema, &class.name);
        let using = format!("USING {}", quote_ident(&class.method));
        let label = format!(
            "operator class {} USING {}",
            display_qualified(&class.schema, &class.name),
            display(&class.method)
        );
        let sort = [&*class.schema, &class.name, &class.method];
        let members = members_of(model, "pg_opclass", class.oid);
        let mut items = Vec::new();
        // A class with no member of its own still needs an item: STORAGE of the input type
        // says nothing more (pg_dump does the same).
        match &class.storage {
            Some(storage) => items.push(format!("STORAGE {storage}")),
            None if members.is_empty() => items.push(format!("STORAGE {}", class.input_type)),
            None => {}
        }
        items.extend(member_lines(&members));
        let default = if class.is_default { "DEFAULT " } else { "" };
        let body = format!(
            "CREATE OPERATOR CLASS {name} {default}FOR TYPE {} {using} FAMILY {} AS\n    {};\n",
            class.input_type,
            qualified(&class.family.0, &class.family.1),
            items.join(",\n    ")
        );
        let block = blocks.add(Kind::OperatorClass, sort, label, body);
        own_members(blocks, block, &members);
        let key = (Catalog::OpClass, class.oid);
        let comment_on = format!("OPERATOR CLASS {name} {using}");
        blocks.own(block, key, Some(comment_on), None, None);
    }
}

pub(super) fn conversions(model: &Model, blocks: &mut Blocks) {
    for conversion in &model.conversions {
        let name = qualified(&conversion.schema, &conversion.name);
        let default = if conversion.is_default {
            "DEFAULT "
        } else {
            ""
        };
        let body = format!(
            "CREATE {default}CONVERSION {name} FOR {} TO {} FROM {};\n",
            literal(&conversion.source),
            literal(&conversion.target),
            conversion.function
        );
        let label = format!(
            "conversion {}",
            display_qualified(&conversion.schema, &conversion.name)
        );
        let sort = [&*conversion.schema, &conversion.name, ""];
        let block = blocks.add(Kind::Conversion, sort, label, body);
        let key = (Catalog::Conversion, conversion.oid);
        blocks.own(block, key, Some(format!("CONVERSION {name}")), None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model::OperatorClass;

    fn member(kind: &str, number: i32, text: &str, owner: (&str, u32)) -> OperatorMember {
        OperatorMember {
            catalog: if kind == "OPERATOR" {
                "pg_amop"
            } else {
                "pg_amproc"
            }
            .into(),
            oid: 100 + number as u32,
            owner_catalog: owner.0.into(),
            owner_oid: owner.1,
            kind: kind.into(),
            number,
            left_type: "integer".into(),
            right_type: "bigint".into(),
            member: text.into(),
            sort_family: None,
        }
    }

    fn class(oid: u32, name: &str) -> OperatorClass {
        OperatorClass {
            oid,
            schema: "app".into(),
            name: name.into(),
            method: "hash".into(),
            input_type: "app.mood".into(),
            is_default: true,
            family: ("app".into(), name.into()),
            storage: None,
        }
    }

    #[test]
    fn members_come_operators_first_by_number_whatever_the_catalog_order() {
        let owner = ("pg_opfamily", 1);
        let mut last = member("OPERATOR", 5, "app.>(integer,bigint)", owner);
        last.sort_family = Some(("pg_catalog".into(), "float_ops".into()));
        let members = [
            member("FUNCTION", 2, "app.f2(integer,bigint)", owner),
            last,
            member("FUNCTION", 1, "app.f1(integer,bigint)", owner),
            member("OPERATOR", 1, "app.<(integer,bigint)", owner),
        ];
        let members: Vec<&OperatorMember> = members.iter().collect();
        assert_eq!(
            member_lines(&members),
            [
                "OPERATOR 1 app.<(integer,bigint)",
                "OPERATOR 5 app.>(integer,bigint) FOR ORDER BY \"pg_catalog\".\"float_ops\"",
                "FUNCTION 1 (integer, bigint) app.f1(integer,bigint)",
                "FUNCTION 2 (integer, bigint) app.f2(integer,bigint)",
            ]
        );
    }

    #[test]
    fn a_class_without_members_of_its_own_still_loads() {
        // The server moved every member to the family: the class needs an item.
        let mut model = Model::default();
        model.operators.classes.push(class(1, "empty_ops"));
        let mut with_storage = class(2, "boxed_ops");
        with_storage.storage = Some("box".into());
        model.operators.classes.push(with_storage);
        model
            .operators
            .members
            .push(member("FUNCTION", 1, "app.h(integer)", ("pg_opclass", 2)));
        let mut blocks = Blocks::default();
        families_and_classes(&model, &mut blocks);
        let bodies: Vec<&str> = blocks.list.iter().map(|b| b.body.as_str()).collect();
        assert_eq!(
            bodies,
            [
                "CREATE OPERATOR CLASS \"app\".\"empty_ops\" DEFAULT FOR TYPE app.mood USING \"hash\" \
                 FAMILY \"app\".\"empty_ops\" AS\n    STORAGE app.mood;\n",
                "CREATE OPERATOR CLASS \"app\".\"boxed_ops\" DEFAULT FOR TYPE app.mood USING \"hash\" \
                 FAMILY \"app\".\"boxed_ops\" AS\n    STORAGE box,\n    \
                 FUNCTION 1 (integer, bigint) app.h(integer);\n",
            ]
        );
        assert!(
            blocks.has((Catalog::AmProc, 101)),
            "the member row is owned"
        );
    }
}

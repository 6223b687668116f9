//! Rendering from a hand-built model: order, headers, and independence from the order in
//! which the catalog returned rows. (What the server's definitions look like is tested
//! against a real server in tests/it/snapshot.)

use super::*;
use crate::snapshot::model::*;
use crate::snapshot::split_blocks;

fn column(position: i16, name: &str, data_type: &str) -> Column {
    Column {
        position,
        name: name.into(),
        data_type: data_type.into(),
        collation: None,
        not_null: false,
        default: None,
        default_oid: None,
        generated: false,
        identity: None,
        storage: None,
        compression: None,
        statistics: -1,
        options: vec![],
    }
}

fn table(oid: u32, name: &str, columns: Vec<Column>) -> Table {
    Table {
        oid,
        type_oid: oid + 1,
        array_oid: oid + 2,
        schema: "app".into(),
        name: name.into(),
        unlogged: false,
        partition_key: None,
        partition_of: None,
        options: vec![],
        toast_options: vec![],
        access_method: None,
        row_security: false,
        force_row_security: false,
        replica_identity: "d".into(),
        columns,
    }
}

fn view(oid: u32, name: &str, definition: &str) -> View {
    View {
        oid,
        type_oid: oid + 1,
        array_oid: oid + 2,
        rule_oid: Some(oid + 3),
        schema: "app".into(),
        name: name.into(),
        materialized: false,
        definition: definition.into(),
        options: vec![],
        access_method: None,
    }
}

/// A model whose kinds and dependencies exercise the ordering rules.
fn model() -> Model {
    let mut id = column(1, "id", "bigint");
    id.default = Some("nextval('app.items_id_seq'::regclass)".into());
    id.default_oid = Some(900_010);
    id.not_null = true;
    let mut label = column(3, "Label", "text");
    label.collation = Some(("pg_catalog".into(), "C".into()));
    Model {
        schemas: vec![Schema {
            oid: 900_001,
            name: "app".into(),
        }],
        sequences: vec![Sequence {
            oid: 900_002,
            schema: "app".into(),
            name: "items_id_seq".into(),
            unlogged: false,
            data_type: "bigint".into(),
            options: SequenceOptions {
                start: 1,
                increment: 1,
                min_value: 1,
                max_value: i64::MAX,
                cache: 1,
                cycle: false,
            },
            owner: Some((900_100, "app".into(), "items".into(), "id".into())),
        }],
        tables: vec![
            table(900_100, "items", vec![id, label]),
            table(900_200, "a_first", vec![column(1, "x", "integer")]),
        ],
        views: vec![
            // "a_view" reads "b_view", so it must come after it despite its name.
            view(900_300, "a_view", " SELECT b_view.x\n   FROM app.b_view;"),
            view(900_400, "b_view", " SELECT a_first.x\n   FROM app.a_first;"),
        ],
        comments: vec![Comment {
            object: (Catalog::Class, 900_100),
            position: 3,
            column: Some("Label".into()),
            text: "it's shown".into(),
        }],
        privileges: vec![Privilege {
            object: (Catalog::Class, 900_100),
            position: 0,
            column: None,
            grant: true,
            grantee: "reader".into(),
            privilege: "SELECT".into(),
            grantable: false,
        }],
        dependencies: vec![
            ((Catalog::Rewrite, 900_303), (Catalog::Class, 900_400)),
            ((Catalog::Rewrite, 900_403), (Catalog::Class, 900_200)),
            ((Catalog::AttrDef, 900_010), (Catalog::Class, 900_002)),
            // OWNED BY: the sequence depends on the table; must not move the sequence.
            ((Catalog::Class, 900_002), (Catalog::Class, 900_100)),
        ],
        ..Model::default()
    }
}

#[test]
fn blocks_come_by_kind_then_name_with_dependencies_first() {
    let text = render(&model());
    let objects: Vec<&str> = split_blocks(&text)
        .blocks
        .iter()
        .map(|b| b.object)
        .collect();
    assert_eq!(
        objects,
        [
            "schema app",
            "sequence app.items_id_seq",
            "table app.a_first",
            "table app.items",
            "sequence ownership app.items_id_seq",
            "view app.b_view",
            "view app.a_view",
        ]
    );
    assert!(text.starts_with(PREAMBLE));
}

#[test]
fn the_text_does_not_depend_on_the_order_rows_arrived_in() {
    let mut shuffled = model();
    shuffled.tables.reverse();
    shuffled.views.reverse();
    shuffled.dependencies.reverse();
    assert_eq!(render(&model()), render(&shuffled));
}

#[test]
fn no_oid_reaches_the_text() {
    let text = render(&model());
    assert!(!text.contains("900"), "{text}");
}

#[test]
fn columns_comments_and_grants_are_spelled_out() {
    let text = render(&model());
    let expected = "\n-- table app.items\n\
        CREATE TABLE \"app\".\"items\" (\n    \
        \"id\" bigint DEFAULT nextval('app.items_id_seq'::regclass) NOT NULL,\n    \
        \"Label\" text COLLATE \"pg_catalog\".\"C\"\n);\n\
        COMMENT ON COLUMN \"app\".\"items\".\"Label\" IS 'it''s shown';\n\
        GRANT SELECT ON TABLE \"app\".\"items\" TO \"reader\";\n";
    assert!(text.contains(expected), "{text}");
    assert!(text.contains(
        "\n-- view app.a_view\nCREATE VIEW \"app\".\"a_view\" AS\nSELECT b_view.x\n   FROM app.b_view;\n"
    ));
    assert!(
        text.contains(
            "ALTER SEQUENCE \"app\".\"items_id_seq\" OWNED BY \"app\".\"items\".\"id\";\n"
        )
    );
}

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
        local: true,
        fdw_options: vec![],
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
        inherits: vec![],
        of_type: None,
        foreign: None,
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
        defaults: vec![],
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
            to_owner: false,
            member_of: None,
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

fn index(valid: bool, ready: bool, live: bool) -> Index {
    Index {
        oid: 900_500,
        relation_oid: 900_100,
        schema: "app".into(),
        name: "items_label".into(),
        definition: "CREATE UNIQUE INDEX items_label ON app.items USING btree (\"Label\")".into(),
        on_partitioned: false,
        clustered: false,
        replica_identity: false,
        table_schema: "app".into(),
        table_name: "items".into(),
        valid,
        ready,
        live,
        statistics: vec![],
    }
}

/// The block of `index app.items_label` as rendered with `index` in the model.
fn index_block(index: Index) -> String {
    let mut model = model();
    model.indexes.push(index);
    let text = render(&model);
    let blocks = split_blocks(&text);
    let block = blocks
        .blocks
        .iter()
        .find(|b| b.object == "index app.items_label")
        .unwrap_or_else(|| panic!("no index block in:\n{text}"));
    block.text.to_string()
}

#[test]
fn an_invalid_index_says_so_in_its_block_and_a_valid_one_reads_as_before() {
    let definition = "CREATE UNIQUE INDEX items_label ON app.items USING btree (\"Label\");\n";
    assert_eq!(
        index_block(index(true, true, true)),
        format!("-- index app.items_label\n{definition}\n")
    );
    let not_ready = index_block(index(false, false, true));
    assert!(
        not_ready.starts_with(&format!(
            "-- index app.items_label\n{definition}-- INVALID, not ready: queries do not use it"
        )),
        "{not_ready}"
    );
    assert!(
        not_ready.contains("-- to fix: DROP INDEX CONCURRENTLY \"app\".\"items_label\"; then"),
        "{not_ready}"
    );
    let ready = index_block(index(false, true, true));
    assert!(
        ready.contains("-- INVALID, ready: writes maintain it"),
        "{ready}"
    );
    let dropping = index_block(index(false, false, false));
    assert!(dropping.contains("-- INVALID, being dropped"), "{dropping}");
    let mut partitioned = index(false, true, true);
    partitioned.on_partitioned = true;
    let partitioned = index_block(partitioned);
    assert!(
        partitioned.contains("-- INVALID: not every partition has an index attached"),
        "{partitioned}"
    );
    // Every state reads differently, and every line of the note is a comment: the text stays
    // SQL that builds the (valid) index.
    let states = [&not_ready, &ready, &dropping, &partitioned];
    for (i, a) in states.iter().enumerate() {
        for b in &states[i + 1..] {
            assert_ne!(a, b);
        }
        for line in a.lines().skip(2) {
            assert!(
                line.is_empty() || line.starts_with("-- "),
                "{line:?} in {a}"
            );
        }
    }
}

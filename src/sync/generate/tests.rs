use super::*;
use crate::sync::resolve::{ResolvedCopy, SyncedColumn};
use crate::sync::spec::{CopySpec, Direction, Spec, SpecKind, TableName};

fn copy(direction: Direction, batch: Option<u32>) -> Resolved {
    let spec = CopySpec {
        parent: TableName::parse("public.images").unwrap(),
        child: TableName::parse("public.album_images").unwrap(),
        foreign_key: None,
        columns: vec!["alt_text".into(), "Mixed $$ Case".into()],
        direction,
    };
    Resolved {
        spec: Spec {
            name: "details".into(),
            kind: SpecKind::Copy(spec.clone()),
            backfill_batch: batch,
        },
        kind: ResolvedKind::Copy(ResolvedCopy {
            spec,
            foreign_key: "album_images_image_id_fkey".into(),
            key_pairs: vec![("image_id".into(), "id".into())],
            type_schemas: Vec::new(),
            columns: vec![
                SyncedColumn {
                    name: "alt_text".into(),
                    parent_type: "text".into(),
                    child_has: true,
                },
                SyncedColumn {
                    name: "Mixed $$ Case".into(),
                    parent_type: "text".into(),
                    child_has: false,
                },
            ],
        }),
    }
}

#[test]
fn names_are_quoted_and_dollar_quotes_avoid_them() {
    let g = generate(&copy(Direction::Both, None)).unwrap();
    assert!(g.migration.contains("\"Mixed $$ Case\""));
    assert!(g.migration.contains("AS $body$"));
    assert!(!g.no_transaction);
    // The rollback drops only the column the migration added.
    assert!(g.rollback.contains("DROP COLUMN \"Mixed $$ Case\""));
    assert!(!g.rollback.contains("DROP COLUMN \"alt_text\""));
}

#[test]
fn a_batched_backfill_makes_a_rerunnable_no_transaction_migration() {
    let g = generate(&copy(Direction::ParentToChild, Some(500))).unwrap();
    assert!(g.no_transaction);
    assert!(g.migration.starts_with("-- pgstrata:no-transaction\n"));
    assert!(g.migration.contains("ADD COLUMN IF NOT EXISTS"));
    assert!(g.migration.contains("CREATE OR REPLACE TRIGGER"));
    assert!(g.migration.contains("LIMIT 500"));
    assert!(g.migration.contains("refuse_child_edit"));
}

#[test]
fn a_spec_name_too_long_for_postgresql_is_refused() {
    let mut resolved = copy(Direction::Both, None);
    resolved.spec.name = "x".repeat(50);
    let err = generate(&resolved).unwrap_err();
    assert!(format!("{err:#}").contains("too long"), "{err:#}");
}

//! What kind of difference lies between two snapshots: for `check` to say which class an
//! inexact rollback is, and for a project to accept one class for one migration
//! (`-- pgstrata:inexact column-order <reason>` in its rollback).
//!
//! Pure text: each changed block is compared line by line. A table block's column lines are
//! compared as a set (their order is the column order), its defaults apart from the rest of
//! each column, and `COMMENT ON`, `GRANT` and `REVOKE` lines apart from everything else.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::diff::{Change, ChangeKind, split_blocks};
pub use crate::migrate::project::DifferenceClass;

/// One changed object and the classes of its difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    #[serde(flatten)]
    pub change: Change,
    pub classes: BTreeSet<DifferenceClass>,
}

/// Each of `changes` (the objects [`compare`](super::compare) found differing between `expected` and `actual`)
/// with the classes of its difference.
pub fn classify(expected: &str, actual: &str, changes: &[Change]) -> Vec<Classified> {
    let old = blocks_by_object(expected);
    let new = blocks_by_object(actual);
    changes
        .iter()
        .cloned()
        .map(|change| {
            let classes = match change.change {
                ChangeKind::Added | ChangeKind::Removed => {
                    BTreeSet::from([DifferenceClass::ObjectMissingOrExtra])
                }
                ChangeKind::Changed => match (old.get(&change.object), new.get(&change.object)) {
                    (Some(a), Some(b)) if is_view(&change.object) => classify_view(a, b),
                    (Some(a), Some(b)) => classify_block(a, b),
                    _ => BTreeSet::from([DifferenceClass::Definition]),
                },
            };
            Classified { change, classes }
        })
        .collect()
}

fn blocks_by_object(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for block in split_blocks(text).blocks {
        // A repeated header (hand-edited text) keeps its first block: such a change is then
        // judged a definition change, never wrongly accepted.
        out.entry(block.object.to_string())
            .or_insert_with(|| block.text.trim_end().to_string());
    }
    out
}

/// A block's lines sorted into columns, defaults, comment and privilege lines, and the rest.
#[derive(Default)]
struct Parts<'a> {
    /// Column lines without their default, in order.
    columns: Vec<String>,
    /// Each column's default (by the column line without it).
    defaults: BTreeSet<(String, String)>,
    comments_privileges: BTreeSet<&'a str>,
    rest: BTreeSet<&'a str>,
}

fn parts(block: &str) -> Parts<'_> {
    let mut parts = Parts::default();
    let mut in_columns = false;
    for line in block.lines() {
        if in_columns && line.starts_with("    ") {
            let column = line.trim().trim_end_matches(',');
            let (bare, default) = split_default(column);
            parts.defaults.insert((bare.clone(), default));
            parts.columns.push(bare);
            continue;
        }
        in_columns = line.starts_with("CREATE ") && line.ends_with(" (");
        if ["COMMENT ON ", "GRANT ", "REVOKE "]
            .iter()
            .any(|start| line.starts_with(start))
        {
            parts.comments_privileges.insert(line);
        } else {
            parts.rest.insert(line);
        }
    }
    parts
}

/// A column line without its `DEFAULT …` (kept apart), its NOT NULL kept.
fn split_default(column: &str) -> (String, String) {
    let Some(at) = column.find(" DEFAULT ") else {
        return (column.to_string(), String::new());
    };
    let not_null = column.ends_with(" NOT NULL");
    let end = if not_null {
        column.len() - " NOT NULL".len()
    } else {
        column.len()
    };
    let bare = format!(
        "{}{}",
        &column[..at],
        if not_null { " NOT NULL" } else { "" }
    );
    (bare, column[at..end.max(at)].to_string())
}

fn is_view(object: &str) -> bool {
    object.starts_with("view ") || object.starts_with("materialized view ")
}

/// A text's lines without a trailing comma, sorted.
fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches(',')).collect();
    lines.sort();
    lines
}

/// A view that reads `*` lists the table's columns in the table's order when it is created:
/// the same lines in another order (commas aside) are a column-order difference.
fn classify_view(old: &str, new: &str) -> BTreeSet<DifferenceClass> {
    let (a, b) = (parts(old), parts(new));
    let mut classes = BTreeSet::new();
    if sorted_lines(old) == sorted_lines(new) {
        classes.insert(DifferenceClass::ColumnOrder);
    } else if a.rest == b.rest && a.comments_privileges != b.comments_privileges {
        classes.insert(DifferenceClass::DefaultCommentPrivilege);
    } else {
        classes.insert(DifferenceClass::Definition);
    }
    classes
}

fn classify_block(old: &str, new: &str) -> BTreeSet<DifferenceClass> {
    let (a, b) = (parts(old), parts(new));
    let sorted = |columns: &[String]| {
        let mut sorted = columns.to_vec();
        sorted.sort();
        sorted
    };
    let mut classes = BTreeSet::new();
    if a.rest != b.rest || sorted(&a.columns) != sorted(&b.columns) {
        classes.insert(DifferenceClass::Definition);
        return classes;
    }
    if a.columns != b.columns {
        classes.insert(DifferenceClass::ColumnOrder);
    }
    if a.defaults != b.defaults || a.comments_privileges != b.comments_privileges {
        classes.insert(DifferenceClass::DefaultCommentPrivilege);
    }
    if classes.is_empty() {
        // Only whitespace or line order outside the columns: not one of the named classes.
        classes.insert(DifferenceClass::Definition);
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "-- table public.t\nCREATE TABLE \"public\".\"t\" (\n    \"id\" integer \
                          NOT NULL,\n    \"name\" text DEFAULT 'x'::text NOT NULL,\n    \
                          \"note\" text\n);\nCOMMENT ON TABLE \"public\".\"t\" IS 'a';\n\n\
                          -- index public.i\nCREATE INDEX i ON public.t USING btree (id);\n";

    fn classified(before: &str, after: &str) -> Vec<Classified> {
        let changes = crate::snapshot::compare(before, after, "", "").changes;
        classify(before, after, &changes)
    }

    fn classes_of(after: &str) -> Vec<(String, Vec<&'static str>)> {
        classified(BEFORE, after)
            .into_iter()
            .map(|c| {
                (
                    c.change.to_string(),
                    c.classes.iter().map(|c| c.name()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_column_added_again_at_the_end_is_column_order_only() {
        let after = BEFORE.replace(
            "    \"name\" text DEFAULT 'x'::text NOT NULL,\n    \"note\" text\n",
            "    \"note\" text,\n    \"name\" text DEFAULT 'x'::text NOT NULL\n",
        );
        assert_eq!(
            classes_of(&after),
            [("~ table public.t".to_string(), vec!["column-order"])]
        );
    }

    #[test]
    fn defaults_comments_and_privileges_are_one_class() {
        let no_default = BEFORE.replace(" DEFAULT 'x'::text", "");
        assert_eq!(
            classes_of(&no_default)[0].1,
            vec!["default-comment-privilege"]
        );
        let comment = BEFORE.replace("IS 'a'", "IS 'b'");
        assert_eq!(classes_of(&comment)[0].1, vec!["default-comment-privilege"]);
        let grant = BEFORE.replace(
            "IS 'a';\n",
            "IS 'a';\nGRANT SELECT ON TABLE \"public\".\"t\" TO \"reader\";\n",
        );
        assert_eq!(classes_of(&grant)[0].1, vec!["default-comment-privilege"]);
        let both = no_default.replace(
            "    \"name\" text NOT NULL,\n    \"note\" text\n",
            "    \"note\" text,\n    \"name\" text NOT NULL\n",
        );
        assert_eq!(
            classes_of(&both)[0].1,
            vec!["column-order", "default-comment-privilege"]
        );
    }

    #[test]
    fn a_missing_object_and_a_changed_type_are_classes_of_their_own() {
        let no_index = BEFORE.split("\n-- index").next().unwrap().to_string() + "\n";
        assert_eq!(
            classes_of(&no_index),
            [(
                "- index public.i".to_string(),
                vec!["object-missing-or-extra"]
            )]
        );
        let view = "-- view public.v\nCREATE OR REPLACE VIEW public.v AS\n SELECT t.id,\n    \
                    t.name,\n    t.note\n   FROM t;\n";
        let reordered = view.replace("t.name,\n    t.note", "t.note,\n    t.name");
        let classes = |a: &str, b: &str| -> Vec<&str> {
            classified(a, b)[0]
                .classes
                .iter()
                .map(|c| c.name())
                .collect()
        };
        assert_eq!(classes(view, &reordered), vec!["column-order"]);
        assert_eq!(
            classes(view, &view.replace("t.note", "t.note2")),
            vec!["definition"]
        );
        let retyped = BEFORE.replace("\"id\" integer", "\"id\" bigint");
        assert_eq!(classes_of(&retyped)[0].1, vec!["definition"]);
        let reordered_and_retyped = retyped.replace(
            "    \"name\" text DEFAULT 'x'::text NOT NULL,\n    \"note\" text\n",
            "    \"note\" text,\n    \"name\" text DEFAULT 'x'::text NOT NULL\n",
        );
        assert_eq!(classes_of(&reordered_and_retyped)[0].1, vec!["definition"]);
    }
}

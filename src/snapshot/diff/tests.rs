use super::*;

const PREAMBLE: &str = "-- pgstrata schema snapshot\nSET check_function_bodies = off;\n";

fn snapshot(blocks: &[(&str, &str)]) -> String {
    let mut text = PREAMBLE.to_string();
    for (header, body) in blocks {
        text.push_str(&format!("\n-- {header}\n{body}"));
    }
    text
}

fn summary(comparison: &Comparison) -> Vec<String> {
    comparison.changes.iter().map(|c| c.to_string()).collect()
}

#[test]
fn split_blocks_cuts_at_headers_and_loses_nothing() {
    let text = snapshot(&[
        ("schema app", "CREATE SCHEMA IF NOT EXISTS \"app\";\n"),
        (
            "table app.t",
            "CREATE TABLE \"app\".\"t\" ();\nCOMMENT ON TABLE x IS 'y';\n",
        ),
        (
            "sequence ownership app.s",
            "ALTER SEQUENCE \"app\".\"s\" OWNED BY x.y;\n",
        ),
    ]);
    let split = split_blocks(&text);
    assert_eq!(
        split.preamble,
        format!("{PREAMBLE}\n"),
        "the separating empty line stays before"
    );
    let objects: Vec<&str> = split.blocks.iter().map(|b| b.object).collect();
    assert_eq!(
        objects,
        ["schema app", "table app.t", "sequence ownership app.s"]
    );
    assert!(
        split.blocks[1]
            .text
            .starts_with("-- table app.t\nCREATE TABLE")
    );
    let joined: String =
        split.preamble.to_string() + &split.blocks.iter().map(|b| b.text).collect::<String>();
    assert_eq!(joined, text);
}

#[test]
fn a_comment_inside_a_function_body_is_not_a_header() {
    let body = "CREATE FUNCTION \"app\".\"f\"() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n\n\
                -- table app.other is read here\nPERFORM 1;\nEND $$;\n";
    let text = snapshot(&[
        ("function app.f()", body),
        ("table app.t", "CREATE TABLE t ();\n"),
    ]);
    let objects: Vec<&str> = split_blocks(&text)
        .blocks
        .iter()
        .map(|b| b.object)
        .collect();
    assert_eq!(objects, ["function app.f()", "table app.t"]);
}

#[test]
fn unknown_kinds_and_bare_kinds_are_not_headers() {
    let text = "-- pgstrata schema snapshot\n\n-- tablespace x\nCREATE TABLESPACE x;\n\n\
                -- table\nCREATE TABLE t ();\n";
    let split = split_blocks(text);
    assert!(split.blocks.is_empty());
    assert_eq!(split.preamble, text);
}

#[test]
fn identical_texts_are_the_same() {
    let text = snapshot(&[("table app.t", "CREATE TABLE t ();\n")]);
    let comparison = compare(&text, &text, "a", "b");
    assert!(comparison.is_same());
    assert_eq!(comparison.unified, "");
    assert!(comparison.changes.is_empty());
}

#[test]
fn a_changed_block_is_named_and_shown_in_the_unified_diff() {
    let old = snapshot(&[
        (
            "function app.f(integer)",
            "CREATE FUNCTION f(integer) STABLE;\n",
        ),
        ("table app.t", "CREATE TABLE t ();\n"),
    ]);
    let new = snapshot(&[
        (
            "function app.f(integer)",
            "CREATE FUNCTION f(integer) VOLATILE;\n",
        ),
        ("table app.t", "CREATE TABLE t ();\n"),
    ]);
    let comparison = compare(&old, &new, "schema-snapshots/V1__a.sql", "database");
    assert!(!comparison.is_same());
    assert_eq!(summary(&comparison), ["~ function app.f(integer)"]);
    assert!(
        comparison
            .unified
            .starts_with("--- schema-snapshots/V1__a.sql\n+++ database\n@@ ")
    );
    assert!(
        comparison
            .unified
            .contains("\n-CREATE FUNCTION f(integer) STABLE;\n")
    );
    assert!(
        comparison
            .unified
            .contains("\n+CREATE FUNCTION f(integer) VOLATILE;\n")
    );
}

#[test]
fn added_and_removed_blocks_are_reported_in_text_order() {
    let old = snapshot(&[
        ("index app.a", "CREATE INDEX a ON t (x);\n"),
        ("table app.t", "CREATE TABLE t (x int);\n"),
        ("policy app.t p", "CREATE POLICY p ON t;\n"),
    ]);
    let new = snapshot(&[
        ("index app.b", "CREATE INDEX b ON t (x);\n"),
        ("table app.t", "CREATE TABLE t (x bigint);\n"),
        ("index app.c", "CREATE INDEX c ON t (x);\n"),
    ]);
    let comparison = compare(&old, &new, "a", "b");
    assert_eq!(
        summary(&comparison),
        [
            "- index app.a",
            "~ table app.t",
            "- policy app.t p",
            "+ index app.b",
            "+ index app.c"
        ]
    );
}

#[test]
fn crlf_line_ends_and_a_byte_order_mark_are_not_differences() {
    let lf = snapshot(&[("table app.t", "CREATE TABLE t ();\n")]);
    let windows = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    assert!(compare(&windows, &lf, "file", "database").is_same());
    let changed = lf.replace("t ()", "t (x int)").replace('\n', "\r\n");
    let comparison = compare(&changed, &lf, "file", "database");
    assert_eq!(summary(&comparison), ["~ table app.t"]);
    assert!(!comparison.unified.contains('\r'));
}

#[test]
fn a_changed_preamble_is_reported() {
    let old = snapshot(&[("table app.t", "CREATE TABLE t ();\n")]);
    let new = old.replacen(
        "check_function_bodies = off",
        "check_function_bodies = on",
        1,
    );
    assert_eq!(
        summary(&compare(&old, &new, "a", "b")),
        ["~ snapshot header"]
    );
}

#[test]
fn a_whitespace_change_between_blocks_is_not_lost() {
    let old = snapshot(&[
        ("table app.t", "CREATE TABLE t ();\n"),
        ("view app.v", "CREATE VIEW v;\n"),
    ]);
    let new = old.replace("CREATE TABLE t ();\n", "CREATE TABLE t ();\n\n");
    let comparison = compare(&old, &new, "a", "b");
    assert!(!comparison.is_same());
    assert_eq!(summary(&comparison), ["~ table app.t"]);
}

#[test]
fn changes_serialise_with_lower_case_kinds() {
    let change = Change {
        change: ChangeKind::Added,
        object: "index public.x".into(),
    };
    assert_eq!(
        serde_json::to_string(&change).unwrap(),
        r#"{"change":"added","object":"index public.x"}"#
    );
    assert_eq!(change.to_string(), "+ index public.x");
}

#[test]
fn colorize_colours_by_line_role() {
    let old = snapshot(&[("table app.t", "CREATE TABLE t ();\n")]);
    let new = snapshot(&[("table app.u", "CREATE TABLE u ();\n")]);
    let unified = compare(&old, &new, "old", "new").unified;
    let coloured = colorize(&unified);
    assert!(coloured.starts_with("\x1b[1m--- old\x1b[0m\n\x1b[1m+++ new\x1b[0m\n\x1b[36m@@"));
    // A removed header line starts with "---" but is a removal, not a file header.
    assert!(coloured.contains("\x1b[31m--- table app.t\x1b[0m\n"));
    assert!(coloured.contains("\x1b[32m+-- table app.u\x1b[0m\n"));
    assert!(
        coloured.contains("\n SET check_function_bodies = off;\n"),
        "context stays plain"
    );
    let stripped = coloured
        .replace("\x1b[1m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[32m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, unified);
    assert_eq!(colorize(""), "");
}

/// Regression: the last block lost its trailing blank line when the block after it was
/// removed, and was reported as changed.
#[test]
fn removing_the_last_block_changes_nothing_else() {
    let before = snapshot(&[
        ("trigger app.a t1", "CREATE TRIGGER t1 ON app.a;\n"),
        ("trigger app.b t2", "CREATE TRIGGER t2 ON app.b;\n"),
    ]);
    let after = snapshot(&[("trigger app.a t1", "CREATE TRIGGER t1 ON app.a;\n")]);
    assert_eq!(
        summary(&compare(&before, &after, "a", "b")),
        ["- trigger app.b t2"]
    );
}

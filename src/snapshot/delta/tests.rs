use super::*;

/// A snapshot text as `render` writes it: the preamble, then each block after an empty line.
fn snapshot(blocks: &[(&str, &str)]) -> String {
    let mut text = PREAMBLE.to_string();
    for (header, body) in blocks {
        text.push_str(&format!("\n-- {header}\n{body}"));
    }
    text
}

const SCHEMA: (&str, &str) = ("schema app", "CREATE SCHEMA IF NOT EXISTS \"app\";\n");
const T: (&str, &str) = (
    "table app.t",
    "CREATE TABLE \"app\".\"t\" (\n    \"id\" integer\n);\n",
);
const T2: (&str, &str) = (
    "table app.t",
    "CREATE TABLE \"app\".\"t\" (\n    \"id\" integer,\n    \"note\" text\n);\n",
);
const U: (&str, &str) = ("table app.u", "CREATE TABLE \"app\".\"u\" ();\n");
const I: (&str, &str) = (
    "index app.t_id",
    "CREATE INDEX t_id ON app.t USING btree (id);\n",
);
const V: (&str, &str) = (
    "view app.v",
    "CREATE OR REPLACE VIEW \"app\".\"v\" AS\n SELECT 1;\n",
);

/// A block as a schema keeps it: key, and its text from the header line on.
fn block((header, body): (&str, &str)) -> (String, String) {
    (header.to_string(), format!("-- {header}\n{body}"))
}

fn delta(before: &str, after: &str) -> Delta {
    Delta::between(&Schema::parse(before), &Schema::parse(after))
}

fn fold(texts: &[&str]) -> Schema {
    let mut schema = Schema::empty();
    for text in texts {
        schema.apply(&parse_file(text).unwrap());
    }
    schema
}

#[test]
fn a_schema_gives_back_its_text() {
    for text in [
        snapshot(&[]),
        snapshot(&[SCHEMA]),
        snapshot(&[SCHEMA, T, U, I, V]),
    ] {
        assert_eq!(Schema::parse(&text).text(), text);
    }
    assert_eq!(Schema::empty().text(), snapshot(&[]));
}

#[test]
fn a_delta_holds_only_added_and_changed_blocks_and_marks_removed_ones() {
    let before = snapshot(&[SCHEMA, T, U, I]);
    let after = snapshot(&[SCHEMA, T2, V]);
    let d = delta(&before, &after);
    let text = d.text();
    assert_eq!(
        text,
        format!(
            "{DELTA_HEADER}\n-- dropped: table app.u\n-- dropped: index app.t_id\n\n-- {}\n{}\n-- {}\n{}",
            T2.0, T2.1, V.0, V.1
        )
    );
    assert!(!text.contains("CREATE SCHEMA"), "unchanged blocks stay out");
    assert_eq!(parse_file(&text).unwrap(), SnapshotFile::Delta(d));
}

#[test]
fn folding_the_deltas_gives_each_version_whole() {
    let versions = [
        snapshot(&[SCHEMA, T]),
        snapshot(&[SCHEMA, T, I]),
        snapshot(&[SCHEMA, T2, I, V]),
        snapshot(&[SCHEMA, T2, U, V]),
        snapshot(&[]),
    ];
    let mut before = Schema::empty();
    let mut files = Vec::new();
    for version in &versions {
        let after = Schema::parse(version);
        files.push(Delta::between(&before, &after).text());
        before = after;
    }
    for (n, version) in versions.iter().enumerate() {
        let texts: Vec<&str> = files[..=n].iter().map(String::as_str).collect();
        let folded = fold(&texts);
        let actual = Schema::parse(version);
        assert_eq!(folded.text_like(&actual), *version, "V{}", n + 1);
    }
    // The first delta is the whole schema; the fourth holds U and drops I, nothing else.
    assert!(files[0].contains("-- schema app") && files[0].contains("-- table app.t"));
    assert_eq!(
        parse_file(&files[3]).unwrap(),
        SnapshotFile::Delta(Delta {
            dropped: vec!["index app.t_id".into()],
            blocks: vec![block(U)],
        })
    );
}

#[test]
fn a_migration_that_changes_no_object_has_an_empty_delta() {
    let text = snapshot(&[SCHEMA, T]);
    let d = delta(&text, &text);
    assert!(d.is_empty());
    assert_eq!(d.text(), format!("{DELTA_HEADER}\n"));
    assert_eq!(fold(&[&text, &d.text()]).text(), text);
}

#[test]
fn a_full_snapshot_in_the_old_format_replaces_the_fold() {
    let old = snapshot(&[SCHEMA, U]);
    let file = parse_file(&old).unwrap();
    assert!(matches!(file, SnapshotFile::Full(_)));
    let folded = fold(&[&snapshot(&[SCHEMA, T, I]), &old]);
    assert_eq!(folded.text(), old, "nothing of the earlier blocks is left");
    // And a delta on top of it.
    let next = delta(&old, &snapshot(&[SCHEMA, T, U])).text();
    assert_eq!(
        fold(&[&old, &next]).text_like(&Schema::parse(&snapshot(&[SCHEMA, T, U]))),
        snapshot(&[SCHEMA, T, U])
    );
}

#[test]
fn text_like_follows_the_actual_order_and_places_extra_blocks_after_their_neighbour() {
    let expected = Schema::parse(&snapshot(&[SCHEMA, U, T, I]));
    let actual = Schema::parse(&snapshot(&[SCHEMA, T, U]));
    assert_eq!(
        expected.text_like(&actual),
        snapshot(&[SCHEMA, T, I, U]),
        "I only in expected: after T, the block before it there"
    );
}

#[test]
fn an_added_block_lands_next_to_its_neighbour_from_the_delta() {
    let base = fold(&[&snapshot(&[SCHEMA, T, V])]);
    let mut schema = base.clone();
    schema.apply(&SnapshotFile::Delta(Delta {
        dropped: vec![],
        blocks: vec![block(I)],
    }));
    assert_eq!(
        schema.text(),
        snapshot(&[SCHEMA, T, I, V]),
        "an index goes before the views"
    );
    let mut schema = base;
    schema.apply(&SnapshotFile::Delta(Delta {
        dropped: vec![],
        blocks: vec![block(T2), block(U)],
    }));
    assert_eq!(schema.text(), snapshot(&[SCHEMA, T2, U, V]));
}

#[test]
fn a_broken_delta_is_refused_with_its_line() {
    let err = parse_file(&format!("{DELTA_HEADER}\n-- dropped: thing x\n"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("line 2: `-- dropped: thing x`"), "{err}");
    let err = parse_file(&format!("{DELTA_HEADER}\nDROP TABLE x;\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`DROP TABLE x;` is neither"), "{err}");
    let err = parse_file(&format!(
        "{DELTA_HEADER}\n-- dropped: table app.u\n\n-- {}\n{}",
        U.0, U.1
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("`table app.u` is both dropped"), "{err}");
}

#[test]
fn the_kind_rank_reads_the_longest_kind() {
    let rank = |kind: &str| HEADER_KINDS.iter().position(|k| *k == kind).unwrap();
    assert_eq!(
        kind_rank("sequence ownership app.s"),
        rank("sequence ownership")
    );
    assert_eq!(
        kind_rank("materialized view app.m"),
        rank("materialized view")
    );
    assert_eq!(kind_rank("view app.v"), rank("view"));
    assert_eq!(kind_rank("nonsense"), HEADER_KINDS.len());
}

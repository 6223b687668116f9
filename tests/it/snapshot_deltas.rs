//! Delta snapshots (issue 14 part 2): `schema-snapshots/V{n}__{name}.sql` holds what
//! migration n adds, changes (whole blocks) and drops (`-- dropped:` lines), and
//! `schema-snapshots/schema.sql` the whole schema at the newest migration. `check` folds the
//! deltas and finds each wrong file once; `drift` compares a database at the newest version
//! with schema.sql and one behind it with the fold; a project with whole per-version files
//! (the format before) keeps working and is told how to convert.

use std::fs;

use crate::harness::{self, TempDir, TestDb, pgstrata, pgstrata_for, run};

const HEADER: &str = "-- pgstrata schema delta:";

/// V1 makes two tables, V2 adds a column and an index to one, V3 drops the other.
fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__tables.sql",
            "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int);\n",
        ),
        ("rollbacks/V1__tables.sql", "DROP TABLE b;\nDROP TABLE a;\n"),
        (
            "migrations/V2__note.sql",
            "ALTER TABLE a ADD COLUMN note text;\n\
             -- pgstrata:lint-ignore index-not-concurrently a test table\n\
             CREATE INDEX a_note ON a (note);\n",
        ),
        (
            "rollbacks/V2__note.sql",
            "DROP INDEX a_note;\nALTER TABLE a DROP COLUMN note;\n",
        ),
        (
            "migrations/V3__drop_b.sql",
            "-- pgstrata:lint-ignore drop-table a test table\nDROP TABLE b;\n",
        ),
        ("rollbacks/V3__drop_b.sql", "CREATE TABLE b (id int);\n"),
    ])
}

fn check(project: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .arg("check")
        .args(args))
}

fn read(project: &TempDir, relative: &str) -> String {
    fs::read_to_string(project.path.join(relative)).unwrap()
}

fn write_snapshots(project: &TempDir) {
    let (code, out, err) = check(project, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn write_snapshots_writes_deltas_and_schema_sql_and_check_then_passes() {
    let p = project();
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 snapshots written"), "{out}");
    let v1 = read(&p, "schema-snapshots/V1__tables.sql");
    let v2 = read(&p, "schema-snapshots/V2__note.sql");
    let v3 = read(&p, "schema-snapshots/V3__drop_b.sql");
    for delta in [&v1, &v2, &v3] {
        assert!(delta.starts_with(HEADER), "{delta}");
        assert!(!delta.contains("SET check_function_bodies"), "{delta}");
    }
    assert!(
        v1.contains("-- table public.a") && v1.contains("-- table public.b"),
        "{v1}"
    );
    // V2 changed a and added its index: a is there whole, b is not.
    assert!(v2.contains("-- table public.a\nCREATE TABLE"), "{v2}");
    assert!(v2.contains("\"note\" text"), "{v2}");
    assert!(v2.contains("-- index public.a_note"), "{v2}");
    assert!(!v2.contains("public.b"), "{v2}");
    // V3 only dropped b.
    assert_eq!(
        v3,
        format!(
            "{}\n-- dropped: table public.b\n",
            v3.lines().next().unwrap()
        )
    );

    let schema = read(&p, "schema-snapshots/schema.sql");
    let db = TestDb::new();
    harness::up(&db, &p.path, None);
    let (_, printed, _) = run(pgstrata_for(&db, &p.path).arg("snapshot"));
    assert_eq!(
        schema, printed,
        "schema.sql is what `snapshot` prints at the head"
    );

    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("every snapshot current"), "{out}");
    assert!(!err.contains("schema.sql belongs to no migration"), "{err}");
    assert!(
        !err.contains("whole schema each"),
        "no old-format note: {err}"
    );
    // Unchanged files are not written again.
    let (code, out, _) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0);
    assert!(out.contains("0 snapshots written"), "{out}");
}

#[test]
fn check_finds_a_stale_delta_once_with_the_whole_schema_diff() {
    let p = project();
    write_snapshots(&p);
    let v2 = read(&p, "schema-snapshots/V2__note.sql");
    let index = v2
        .find("\n-- index public.a_note")
        .expect("the index block");
    p.write("schema-snapshots/V2__note.sql", &v2[..index + 1]);
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: schema-snapshots/V2__note.sql is stale"),
        "{out}"
    );
    assert!(out.contains("  + index public.a_note"), "{out}");
    // Today's diff: the whole expected schema against the actual one, with context.
    assert!(out.contains("--- expected\n+++ actual\n@@"), "{out}");
    assert!(out.contains("+-- index public.a_note"), "{out}");
    assert!(
        out.contains(" -- constraint public.a a_pkey"),
        "context from the whole schema (V1's block): {out}"
    );
    // V3's delta is judged against the schema V2 really left: the one wrong file is one finding.
    assert!(!out.contains("V3__drop_b.sql is stale"), "{out}");
    assert!(!out.contains("schema.sql is stale"), "{out}");
    assert_eq!(out.matches("finding:").count(), 1, "{out}");
}

#[test]
fn check_finds_a_removed_object_the_delta_does_not_drop_and_one_it_drops_wrongly() {
    let p = project();
    write_snapshots(&p);
    let v3 = read(&p, "schema-snapshots/V3__drop_b.sql");
    p.write(
        "schema-snapshots/V3__drop_b.sql",
        &v3.replace("-- dropped: table public.b\n", ""),
    );
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: schema-snapshots/V3__drop_b.sql is stale"),
        "{out}"
    );
    assert!(out.contains("  - table public.b"), "{out}");

    p.write(
        "schema-snapshots/V3__drop_b.sql",
        &format!("{v3}-- dropped: index public.a_note\n"),
    );
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  + index public.a_note"), "{out}");

    // A marker that names no object is an error naming the file and line.
    p.write(
        "schema-snapshots/V3__drop_b.sql",
        &format!("{v3}-- dropped: b\n"),
    );
    let (code, _, err) = check(&p, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("schema-snapshots/V3__drop_b.sql: line 3: `-- dropped: b` does not name"),
        "{err}"
    );
    // Rewriting is the fix, so --write-snapshots is not stopped by it.
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(read(&p, "schema-snapshots/V3__drop_b.sql"), v3);
    assert_eq!(check(&p, &[]).0, 0);
}

#[test]
fn check_finds_a_stale_or_missing_schema_sql() {
    let p = project();
    write_snapshots(&p);
    let schema = read(&p, "schema-snapshots/schema.sql");
    p.write(
        "schema-snapshots/schema.sql",
        &schema.replace("\"note\" text", "\"note\" varchar"),
    );
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: schema-snapshots/schema.sql is stale"),
        "{out}"
    );
    assert!(out.contains("  ~ table public.a"), "{out}");
    assert!(out.contains("-    \"note\" varchar"), "{out}");
    assert_eq!(
        out.matches("finding:").count(),
        1,
        "the deltas are fine: {out}"
    );

    fs::remove_file(p.path.join("schema-snapshots/schema.sql")).unwrap();
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("finding: schema-snapshots/schema.sql is missing"),
        "{out}"
    );
    let (code, _, _) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0);
    assert_eq!(read(&p, "schema-snapshots/schema.sql"), schema);
}

#[test]
fn check_from_folds_the_deltas_before_the_first_checked_migration() {
    let p = project();
    write_snapshots(&p);
    assert_eq!(check(&p, &["--from", "V3"]).0, 0);
    // A wrong V2 delta makes the schema expected before V3 wrong: V3 is stale.
    let v2 = read(&p, "schema-snapshots/V2__note.sql");
    let index = v2
        .find("\n-- index public.a_note")
        .expect("the index block");
    p.write("schema-snapshots/V2__note.sql", &v2[..index + 1]);
    let (code, out, err) = check(&p, &["--from", "V3"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: schema-snapshots/V3__drop_b.sql is stale"),
        "{out}"
    );
    assert!(out.contains("  + index public.a_note"), "{out}");
    // Writing from V3 on leaves V2 alone and makes V3's delta carry the difference.
    assert_eq!(check(&p, &["--from", "V3", "--write-snapshots"]).0, 0);
    assert_eq!(read(&p, "schema-snapshots/V2__note.sql"), v2[..index + 1]);
    assert!(read(&p, "schema-snapshots/V3__drop_b.sql").contains("-- index public.a_note"));
    assert_eq!(check(&p, &["--from", "V3"]).0, 0);
}

#[test]
fn drift_compares_the_head_with_schema_sql_and_an_older_version_with_the_folded_deltas() {
    let p = project();
    write_snapshots(&p);
    let db = TestDb::new();
    harness::up(&db, &p.path, Some(2));
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "no drift: the database matches schema-snapshots/V2__note.sql with the deltas before \
             it (V2)"
        ),
        "{out}"
    );
    db.connect()
        .batch_execute("CREATE INDEX hotfix ON b (id)")
        .unwrap();
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("+ index public.hotfix"), "{out}");
    assert!(
        out.contains(
            "--- schema-snapshots/V2__note.sql with the deltas before it\n+++ live database"
        ),
        "{out}"
    );
    let (_, out, _) = run(pgstrata_for(&db, &p.path).args(["--format", "json", "drift"]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        value["snapshot"], "schema-snapshots/V2__note.sql",
        "the file, not the label"
    );
    assert_eq!(value["drift"], true);
    db.connect().batch_execute("DROP INDEX hotfix").unwrap();

    harness::up(&db, &p.path, None);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no drift: the database matches schema-snapshots/schema.sql (V3)"),
        "{out}"
    );
    // Below the head, a missing delta makes the fold lack its migration's objects: drift
    // shows them, and says why.
    let v1 = read(&p, "schema-snapshots/V1__tables.sql");
    fs::remove_file(p.path.join("schema-snapshots/V1__tables.sql")).unwrap();
    harness::down(&db, &p.path, 2);
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("+ table public.b"), "{out}");
    assert!(
        err.contains(
            "note: the schema at V2 is the fold of the deltas up to it, and this one is missing: \
             schema-snapshots/V1__tables.sql"
        ),
        "{err}"
    );
    p.write("schema-snapshots/V1__tables.sql", &v1);
    harness::up(&db, &p.path, None);
    // At the head it is schema.sql that counts: an edit there is drift.
    let schema = read(&p, "schema-snapshots/schema.sql");
    p.write(
        "schema-snapshots/schema.sql",
        &schema.replace("\"note\" text", "\"note\" varchar"),
    );
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("~ table public.a"), "{out}");
    assert!(
        out.contains(
            "drift: 1 object differs from schema-snapshots/schema.sql (the database is at V3)"
        ),
        "{out}"
    );
}

#[test]
fn snapshot_write_writes_the_delta_and_at_the_head_schema_sql() {
    let p = project();
    let db = TestDb::new();
    harness::up(&db, &p.path, Some(1));
    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("schema-snapshots/V1__tables.sql written (what V1 changed)"),
        "{out}"
    );
    assert!(!out.contains("schema.sql"), "V1 is not the head: {out}");
    harness::up(&db, &p.path, Some(2));
    assert_eq!(
        run(pgstrata_for(&db, &p.path).args(["snapshot", "--write"])).0,
        0
    );
    harness::up(&db, &p.path, None);
    let (code, out, _) = run(pgstrata_for(&db, &p.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("schema-snapshots/schema.sql written (the whole schema at V3"),
        "{out}"
    );
    // What snapshot --write wrote version by version is what check writes.
    let by_snapshot: Vec<String> = ["V1__tables", "V2__note", "V3__drop_b", "schema"]
        .iter()
        .map(|f| read(&p, &format!("schema-snapshots/{f}.sql")))
        .collect();
    assert_eq!(check(&p, &[]).0, 0);
    let (_, out, _) = check(&p, &["--write-snapshots"]);
    assert!(out.contains("0 snapshots written"), "{out}");
    assert!(by_snapshot[2].contains("-- dropped: table public.b"));
}

/// The layout before deltas: a whole schema per version and no schema.sql.
#[test]
fn a_project_with_whole_schema_files_keeps_working_and_is_told_how_to_convert() {
    let p = project();
    let db = TestDb::new();
    for (v, file) in [(1, "V1__tables"), (2, "V2__note"), (3, "V3__drop_b")] {
        harness::up(&db, &p.path, Some(v));
        let (_, whole, _) = run(pgstrata_for(&db, &p.path).arg("snapshot"));
        p.write(&format!("schema-snapshots/{file}.sql"), &whole);
    }
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "note: 3 snapshot files still hold a whole schema each (the format before deltas); \
             `pgstrata check --write-snapshots` rewrites them as deltas"
        ),
        "{err}"
    );
    assert!(!out.contains("schema.sql is missing"), "{out}");
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no drift: the database matches schema-snapshots/V3__drop_b.sql (V3)"),
        "{out}"
    );
    // A stale whole file is still found.
    let whole_v2 = read(&p, "schema-snapshots/V2__note.sql");
    p.write(
        "schema-snapshots/V2__note.sql",
        &whole_v2.replace("\"note\" text", "\"note\" varchar"),
    );
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("V2__note.sql is stale"), "{out}");
    assert!(!out.contains("V3__drop_b.sql is stale"), "{out}");

    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 snapshots written"), "{out}");
    assert!(read(&p, "schema-snapshots/V3__drop_b.sql").starts_with(HEADER));
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("whole schema each"), "{err}");
}

/// A name with a newline is written `U&"A\000aB"` in its block header, so the header stays
/// one line (found by review: it broke into two, `split_blocks` missed it, the block landed
/// in the preamble, and `check` failed right after `check --write-snapshots`).
#[test]
fn a_newline_in_a_name_keeps_its_header_on_one_line() {
    let p = TempDir::with_files(&[
        (
            "migrations/V1__a.sql",
            "CREATE SCHEMA \"A\nB\";\nCREATE TABLE t (id int);\n",
        ),
        (
            "rollbacks/V1__a.sql",
            "DROP TABLE t;\nDROP SCHEMA \"A\nB\";\n",
        ),
    ]);
    write_snapshots(&p);
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A project whose function body holds a line that looks like a block header of a real
/// object (`-- table public.zz` after an empty line, before a `CREATE` line): the two
/// blocks with one key merge, and both sides of a comparison must be parsed alike (found by
/// review: `check` and `drift` compared the merged expected text with the raw actual one).
fn header_like_line_in_a_function_body() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__a.sql",
            "CREATE TABLE aa (id int);\nCREATE TABLE zz (id int);\n\
             CREATE FUNCTION make_zz() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\nEXECUTE '\n\n\
             -- table public.zz\nCREATE TABLE IF NOT EXISTS zz (id int)';\nEND\n$$;\n",
        ),
        (
            "rollbacks/V1__a.sql",
            "DROP FUNCTION make_zz();\nDROP TABLE zz;\nDROP TABLE aa;\n",
        ),
    ])
}

#[test]
fn a_header_like_line_in_a_function_body_does_not_make_check_fail() {
    let p = header_like_line_in_a_function_body();
    write_snapshots(&p);
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// At the head, schema.sql is byte for byte the live snapshot: `drift` must agree.
#[test]
fn a_header_like_line_in_a_function_body_does_not_make_phantom_drift() {
    let p = header_like_line_in_a_function_body();
    write_snapshots(&p);
    let db = TestDb::new();
    harness::up(&db, &p.path, None);
    let (_, printed, _) = run(pgstrata_for(&db, &p.path).arg("snapshot"));
    assert_eq!(printed, read(&p, "schema-snapshots/schema.sql"));
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("drift"));
    assert_eq!(code, 0, "{out}{err}");
}

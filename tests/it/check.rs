//! `check` on a scratch server: clean projects pass, inexact rollbacks and stale or missing
//! snapshots are findings (exit 1), broken files are errors (exit 2).

use std::fs;

use crate::harness::{TempDir, pgstrata, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__a.sql",
            "CREATE TABLE a (id int PRIMARY KEY);\n",
        ),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        (
            "migrations/V2__b.sql",
            "CREATE TABLE b (id int REFERENCES a);\nCREATE INDEX b_id ON b (id);\n",
        ),
        ("rollbacks/V2__b.sql", "DROP TABLE b;\n"),
        (
            "views/a_ids.sql",
            "-- pgstrata:requires V1\nCREATE OR REPLACE VIEW a_ids AS SELECT id FROM a;\n",
        ),
    ])
}

fn check(project: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .arg("check")
        .args(args))
}

#[test]
fn check_passes_a_clean_project_after_writing_its_snapshots() {
    let p = project();
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 snapshots written"), "{out}");
    assert!(p.path.join("schema-snapshots/V2__b.sql").is_file());
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "check passed: 2 migrations checked, every snapshot current, every rollback exact"
        ),
        "{out}"
    );
    assert!(
        out.contains("V2     b") && out.contains("rollback exact"),
        "{out}"
    );
}

#[test]
fn check_catches_a_rollback_that_leaves_a_table_behind() {
    let p = project();
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    p.write("rollbacks/V2__b.sql", "DROP INDEX b_id;\n");
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: rollback of V2 is not exact: rollbacks/V2__b.sql"),
        "{out}"
    );
    assert!(
        out.contains("+-- table public.b") || out.contains("+CREATE TABLE public.b"),
        "the diff shows the table: {out}"
    );
    let (code, out, _) = check(&p, &["--format", "json"]);
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["ok"], false);
    assert_eq!(value["findings"][0]["kind"], "inexact_rollback");
    assert_eq!(value["findings"][0]["version"], 2);
}

#[test]
fn check_reports_missing_and_stale_snapshots() {
    let p = project();
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("schema-snapshots/V1__a.sql is missing"),
        "{out}"
    );
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    p.write(
        "migrations/V2__b.sql",
        "CREATE TABLE b (id int REFERENCES a, extra text);\nCREATE INDEX b_id ON b (id);\n",
    );
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("schema-snapshots/V2__b.sql is stale"), "{out}");
    assert!(
        out.contains("extra"),
        "the diff names the new column: {out}"
    );
    assert!(!out.contains("V1__a.sql is stale"), "{out}");
}

#[test]
fn check_from_checks_only_later_migrations() {
    let p = project();
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    p.write("rollbacks/V1__a.sql", "SELECT 1;\n");
    let (code, out, _) = check(&p, &["--from", "V2"]);
    assert_eq!(code, 0, "V1's broken rollback is not checked: {out}");
    assert!(!out.contains("V1     a"), "{out}");
    assert!(
        out.starts_with(
            "checking 1 of 2 migrations (V2 on; the earlier ones are applied unchecked)"
        ),
        "{out}"
    );
    let (code, _, _) = check(&p, &[]);
    assert_eq!(code, 1);
}

#[test]
fn check_skips_rolling_back_an_irreversible_migration_and_says_so() {
    let p = project();
    p.write(
        "rollbacks/V1__a.sql",
        "-- pgstrata:irreversible a holds data\n",
    );
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rollback irreversible"), "{out}");
}

#[test]
fn check_reports_a_failing_migration_as_a_finding_and_invalid_files_as_errors() {
    let p = project();
    p.write(
        "migrations/V2__b.sql",
        "CREATE TABLE b (id int REFERENCES nowhere);\n",
    );
    let (code, out, _) = check(&p, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("V2: applying failed: migrations/V2__b.sql"),
        "{out}"
    );
    fs::remove_file(p.path.join("rollbacks/V2__b.sql")).unwrap();
    let (code, _, err) = check(&p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V2__b.sql: has no rollback"),
        "{err}"
    );
}

/// The repository's own migrations: every snapshot current, every rollback exact.
#[test]
fn check_passes_on_the_repository() {
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(crate::harness::repository())
        .arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "check passed: 5 migrations checked, every snapshot current, every rollback exact"
        ),
        "{out}"
    );
}

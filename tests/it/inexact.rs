//! `check` on inexact rollbacks: each difference named by its class, one class accepted for
//! one migration by `-- pgstrata:inexact <class> <reason>` and nothing else accepted with it,
//! and the migrations a failed rollback kept check from reaching named.

use crate::harness::{TempDir, pgstrata, run};

fn check(project: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .arg("check")
        .args(args))
}

/// V2 drops a column; its rollback adds it again, which puts it at the end of the table.
fn project(rollback_v2: &str) -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__t.sql",
            "CREATE TABLE t (id int PRIMARY KEY, a text DEFAULT 'x', b int);\n",
        ),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        (
            "migrations/V2__drop_a.sql",
            "-- pgstrata:lint-ignore drop-column nobody reads it\nALTER TABLE t DROP COLUMN a;\n",
        ),
        ("rollbacks/V2__drop_a.sql", rollback_v2),
    ])
}

const READD: &str = "ALTER TABLE t ADD COLUMN a text DEFAULT 'x';\n";
const ACCEPT: &str = "-- pgstrata:inexact column-order a dropped column comes back at the end\n";

#[test]
fn a_column_added_again_at_the_end_is_named_column_order() {
    let p = project(READD);
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "rollback of V2 is not exact: rollbacks/V2__drop_a.sql leaves the schema different \
             from before the migration: ~ table public.t (column-order)"
        ),
        "{out}"
    );
    assert!(
        out.contains("`-- pgstrata:inexact <class> <reason>`"),
        "the finding says how to accept it: {out}"
    );
    let (_, out, _) = check(&p, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "inexact_rollback")
        .expect("an inexact rollback finding");
    assert_eq!(finding["classes"][0]["object"], "table public.t");
    assert_eq!(finding["classes"][0]["classes"][0], "column-order");
}

#[test]
fn an_accepted_class_is_reported_as_accepted_not_as_a_finding() {
    let p = project(&format!("{ACCEPT}{READD}"));
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "accepted: rollback of V2 differs in column-order (~ table public.t), as its \
             rollback accepts: a dropped column comes back at the end"
        ),
        "{out}"
    );
    assert!(out.contains("rollback accepted"), "{out}");
    assert!(
        out.contains("every rollback exact but 1 difference its rollback accepts"),
        "{out}"
    );
}

/// The directive accepts its class only: a rollback that also loses the default (or leaves
/// an index behind) is still a finding, naming the class it does not accept.
#[test]
fn the_column_order_directive_does_not_accept_another_difference() {
    let lost_default = project(&format!("{ACCEPT}ALTER TABLE t ADD COLUMN a text;\n"));
    let (code, out, err) = check(&lost_default, &["--write-snapshots"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "~ table public.t (column-order, default-comment-privilege); its rollback \
                      accepts only column-order"
        ),
        "{out}"
    );

    let extra_index = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int, a int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("migrations/V2__index.sql", "CREATE INDEX t_a ON t (a);\n"),
        (
            "rollbacks/V2__index.sql",
            "-- pgstrata:inexact column-order not the point\nSELECT 1;\n",
        ),
    ]);
    let (code, out, err) = check(&extra_index, &["--write-snapshots"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("+ index public.t_a (object-missing-or-extra)"),
        "{out}"
    );
    assert!(!out.contains("accepted:"), "{out}");
}

#[test]
fn a_directive_without_a_reason_or_with_an_unknown_class_is_a_load_error() {
    let p = project(&format!("-- pgstrata:inexact column-order\n{READD}"));
    let (code, _, err) = check(&p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rollbacks/V2__drop_a.sql:1: `-- pgstrata:inexact`: needs a reason"),
        "{err}"
    );
    let p = project(&format!(
        "-- pgstrata:inexact definition it is fine\n{READD}"
    ));
    let (code, _, err) = check(&p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`definition` is not a class a rollback may accept"),
        "{err}"
    );
}

#[test]
fn a_failed_rollback_names_the_migrations_check_could_not_reach() {
    let p = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
        ("migrations/V2__b.sql", "CREATE TABLE b (id int);\n"),
        // Fails at run time: the table is called b.
        ("rollbacks/V2__b.sql", "DROP TABLE bb;\n"),
        ("migrations/V3__c.sql", "CREATE TABLE c (id int);\n"),
        ("rollbacks/V3__c.sql", "DROP TABLE c;\n"),
        ("migrations/V4__d.sql", "CREATE TABLE d (id int);\n"),
        ("rollbacks/V4__d.sql", "DROP TABLE d;\n"),
    ]);
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("V2: rolling back failed"), "{out}");
    assert!(
        out.contains(
            "V2 failed, so check could not go on: 2 later migrations were not checked: V3__c, \
             V4__d"
        ),
        "{out}"
    );
    let (_, out, _) = check(&p, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["not_checked"],
        serde_json::json!([{"version": 3, "name": "c"}, {"version": 4, "name": "d"}])
    );
}

//! `pgstrata lint`: every rule fires where it should and stays quiet where it must, the
//! `lint-ignore` directive, exit codes, JSON, and `check` reporting error findings. No
//! database, except for `check` (a scratch server).

use serde_json::Value;

use crate::harness::{TempDir, pgstrata, repository, run};

/// V1 creates `t` (an existing table from V2 on); V2 is `sql`.
fn project(sql: &str) -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__base.sql",
            "CREATE TABLE t (id int, x varchar(10), y int);\nCREATE TABLE u (id int PRIMARY KEY);\n",
        ),
        ("rollbacks/V1__base.sql", "DROP TABLE t;\nDROP TABLE u;\n"),
        ("migrations/V2__x.sql", sql),
        ("rollbacks/V2__x.sql", "SELECT 1;\n"),
    ])
}

fn lint(p: &TempDir, args: &[&str]) -> (i32, String, String) {
    run(pgstrata().arg("--dir").arg(&p.path).arg("lint").args(args))
}

fn json_report(p: &TempDir, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = lint(p, &all);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, report)
}

/// The rule ids found in V2 when it is `sql`.
fn rules(sql: &str) -> Vec<String> {
    let p = project(sql);
    let (code, report) = json_report(&p, &["migrations/V2__x.sql"]);
    let rules: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(code, if rules.is_empty() { 0 } else { 1 }, "{report}");
    rules
}

fn fires(sql: &str, rule: &str) {
    let found = rules(sql);
    assert!(
        found.iter().any(|r| r == rule),
        "{rule} should fire on:\n{sql}\nfound {found:?}"
    );
}

fn quiet(sql: &str, rule: &str) {
    let found = rules(sql);
    assert!(
        !found.iter().any(|r| r == rule),
        "{rule} must not fire on:\n{sql}\nfound {found:?}"
    );
}

const NO_TX: &str = "-- pgstrata:no-transaction\n";

#[test]
fn index_not_concurrently() {
    fires("CREATE INDEX t_x ON t (x);", "index-not-concurrently");
    fires(
        "CREATE UNIQUE INDEX t_x ON public.t (x);",
        "index-not-concurrently",
    );
    quiet(
        &format!("{NO_TX}CREATE INDEX CONCURRENTLY t_x ON t (x);"),
        "index-not-concurrently",
    );
    quiet(
        "CREATE TABLE n (a int);\nCREATE INDEX n_a ON n (a);",
        "index-not-concurrently",
    );
}

#[test]
fn add_column_rewrite() {
    fires(
        "ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();",
        "add-column-rewrite",
    );
    fires(
        "ALTER TABLE t ADD COLUMN r float8 DEFAULT random() * 2;",
        "add-column-rewrite",
    );
    fires(
        "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();",
        "add-column-rewrite",
    );
    fires(
        "ALTER TABLE t ADD COLUMN s bigserial;",
        "add-column-rewrite",
    );
    fires(
        "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (y * 2) STORED;",
        "add-column-rewrite",
    );
    quiet(
        "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();",
        "add-column-rewrite",
    );
    quiet(
        "ALTER TABLE t ADD COLUMN f boolean NOT NULL DEFAULT false;",
        "add-column-rewrite",
    );
    quiet(
        "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (y * 2) VIRTUAL;",
        "add-column-rewrite",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n ADD COLUMN u uuid DEFAULT gen_random_uuid();",
        "add-column-rewrite",
    );
}

#[test]
fn alter_column_type() {
    fires(
        "ALTER TABLE t ALTER COLUMN id TYPE bigint;",
        "alter-column-type",
    );
    fires(
        "ALTER TABLE t ALTER COLUMN x TYPE int USING x::int;",
        "alter-column-type",
    );
    quiet(
        "ALTER TABLE t ALTER COLUMN x TYPE varchar(200);",
        "alter-column-type",
    );
    quiet(
        "ALTER TABLE t ALTER COLUMN x TYPE text;",
        "alter-column-type",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n ALTER COLUMN a TYPE bigint;",
        "alter-column-type",
    );
}

#[test]
fn set_not_null() {
    fires("ALTER TABLE t ALTER COLUMN y SET NOT NULL;", "set-not-null");
    // Not validated yet: the NOT VALID check does not help.
    fires(
        "ALTER TABLE t ADD CONSTRAINT y_nn CHECK (y IS NOT NULL) NOT VALID;\n\
         ALTER TABLE t ALTER COLUMN y SET NOT NULL;",
        "set-not-null",
    );
    quiet(
        "ALTER TABLE t ADD CONSTRAINT y_nn CHECK (y IS NOT NULL) NOT VALID;\n\
         ALTER TABLE t VALIDATE CONSTRAINT y_nn;\n\
         ALTER TABLE t ALTER COLUMN y SET NOT NULL;",
        "set-not-null",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n ALTER COLUMN a SET NOT NULL;",
        "set-not-null",
    );
}

#[test]
fn set_not_null_after_a_check_validated_by_an_earlier_migration() {
    let p = project("ALTER TABLE t ADD CONSTRAINT y_nn CHECK (y IS NOT NULL) NOT VALID;\n");
    p.write(
        "migrations/V3__v.sql",
        "ALTER TABLE t VALIDATE CONSTRAINT y_nn;\n",
    );
    p.write("rollbacks/V3__v.sql", "SELECT 1;\n");
    p.write(
        "migrations/V4__n.sql",
        "ALTER TABLE t ALTER COLUMN y SET NOT NULL;\n",
    );
    p.write(
        "rollbacks/V4__n.sql",
        "ALTER TABLE t ALTER COLUMN y DROP NOT NULL;\n",
    );
    let (code, out, err) = lint(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no findings"), "{out}");
}

#[test]
fn constraint_not_valid() {
    fires(
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES u (id);",
        "constraint-not-valid",
    );
    fires(
        "ALTER TABLE t ADD CONSTRAINT pos CHECK (y > 0);",
        "constraint-not-valid",
    );
    quiet(
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES u (id) NOT VALID;",
        "constraint-not-valid",
    );
    quiet(
        "ALTER TABLE t ADD CONSTRAINT pos CHECK (y > 0) NOT VALID;",
        "constraint-not-valid",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n ADD CONSTRAINT pos CHECK (a > 0);",
        "constraint-not-valid",
    );
}

#[test]
fn unique_without_index() {
    fires(
        "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (id);",
        "unique-without-index",
    );
    fires("ALTER TABLE t ADD UNIQUE (x);", "unique-without-index");
    quiet(
        "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX t_id;",
        "unique-without-index",
    );
    quiet(
        "ALTER TABLE t ADD CONSTRAINT t_x UNIQUE USING INDEX t_x;",
        "unique-without-index",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n ADD PRIMARY KEY (a);",
        "unique-without-index",
    );
}

#[test]
fn drops_and_data_loss() {
    fires("DROP TABLE t;", "drop-table");
    fires("ALTER TABLE t DROP COLUMN y;", "drop-column");
    fires("DROP SCHEMA s CASCADE;", "drop-schema");
    fires("TRUNCATE t;", "truncate");
    fires("DELETE FROM t;", "delete-without-where");
    fires("UPDATE t SET y = 1;", "update-without-where");
    quiet("CREATE TABLE n (a int);\nDROP TABLE n;", "drop-table");
    quiet("DROP VIEW v;", "drop-table");
    quiet(
        "CREATE TABLE n (a int, b int);\nALTER TABLE n DROP COLUMN b;",
        "drop-column",
    );
    quiet("DROP FUNCTION f();", "drop-schema");
    quiet("CREATE TABLE n (a int);\nTRUNCATE n;", "truncate");
    quiet("DELETE FROM t WHERE id < 10;", "delete-without-where");
    quiet(
        "UPDATE t SET y = 1 WHERE y IS NULL;",
        "update-without-where",
    );
}

#[test]
fn data_loss_rules_do_not_apply_to_rollbacks() {
    let p = project("CREATE TABLE n (a int);\n");
    p.write(
        "rollbacks/V2__x.sql",
        "DROP TABLE t;\nALTER TABLE u DROP COLUMN id;\nTRUNCATE u;\n",
    );
    let (code, report) = json_report(&p, &["rollbacks/V2__x.sql"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"], Value::Array(vec![]), "{report}");
}

#[test]
fn renames() {
    fires("ALTER TABLE t RENAME TO t2;", "rename-table");
    fires("ALTER TABLE t RENAME COLUMN y TO z;", "rename-column");
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n RENAME TO n2;",
        "rename-table",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE n RENAME COLUMN a TO b;",
        "rename-column",
    );
    quiet("ALTER INDEX t_x RENAME TO t_x2;", "rename-table");
}

#[test]
fn maintenance_and_locks() {
    fires(&format!("{NO_TX}VACUUM FULL t;"), "vacuum-full");
    fires(&format!("{NO_TX}VACUUM (FULL, ANALYZE) t;"), "vacuum-full");
    quiet(&format!("{NO_TX}VACUUM (ANALYZE) t;"), "vacuum-full");
    fires("CLUSTER t USING t_x;", "cluster");
    quiet(
        "CREATE TABLE n (a int);\nCREATE INDEX n_a ON n (a);\nCLUSTER n USING n_a;",
        "cluster",
    );
    fires("REINDEX TABLE t;", "reindex-not-concurrently");
    fires("REINDEX INDEX t_x;", "reindex-not-concurrently");
    quiet(
        &format!("{NO_TX}REINDEX TABLE CONCURRENTLY t;"),
        "reindex-not-concurrently",
    );
    fires("LOCK TABLE t IN SHARE MODE;", "lock-table");
    quiet("CREATE TABLE n (a int);\nLOCK TABLE n;", "lock-table");
}

#[test]
fn many_exclusive_locks() {
    fires(
        "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE u ADD COLUMN a int;",
        "many-exclusive-locks",
    );
    fires("LOCK TABLE t;\nLOCK TABLE u;", "many-exclusive-locks");
    // One table, or a new table, or a no-transaction file (one transaction per statement).
    quiet(
        "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;",
        "many-exclusive-locks",
    );
    quiet(
        "CREATE TABLE n (a int);\nALTER TABLE t ADD COLUMN a int;\nALTER TABLE n ADD COLUMN b int;",
        "many-exclusive-locks",
    );
    quiet(
        &format!("{NO_TX}ALTER TABLE t ADD COLUMN a int;\nALTER TABLE u ADD COLUMN a int;"),
        "many-exclusive-locks",
    );
    // VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE only.
    quiet(
        "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE u VALIDATE CONSTRAINT c;",
        "many-exclusive-locks",
    );
}

#[test]
fn lint_ignore_suppresses_one_rule_on_the_next_statement() {
    let sql = "-- pgstrata:lint-ignore drop-column nothing reads it since release 12\n\
               ALTER TABLE t DROP COLUMN y;\n\
               ALTER TABLE t DROP COLUMN x;\n";
    let p = project(sql);
    let (code, report) = json_report(&p, &[]);
    assert_eq!(code, 1, "{report}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["line"], 3, "{report}");
    // Another rule on the same statement is not suppressed.
    let found = rules("-- pgstrata:lint-ignore truncate archived first\nDROP TABLE t;\n");
    assert_eq!(found, ["drop-table"]);
    // Several directives stack, each for the statement right below them.
    let found = rules(
        "ALTER TABLE t ADD COLUMN a int;\n\
         -- pgstrata:lint-ignore add-column-rewrite u holds ten rows\n\
         -- pgstrata:lint-ignore many-exclusive-locks nothing else locks t and u\n\
         ALTER TABLE u ADD COLUMN r float8 DEFAULT random();\n",
    );
    assert_eq!(found, Vec::<String>::new());
    let found = rules(
        "-- pgstrata:lint-ignore add-column-rewrite u holds ten rows\n\
         ALTER TABLE t ADD COLUMN a int;\n\
         ALTER TABLE u ADD COLUMN r float8 DEFAULT random();\n",
    );
    assert_eq!(found, ["add-column-rewrite", "many-exclusive-locks"]);
}

#[test]
fn lint_ignore_needs_a_known_rule_and_a_reason() {
    let found = rules("-- pgstrata:lint-ignore drop-table\nDROP TABLE t;\n");
    assert_eq!(found, ["lint-ignore", "drop-table"]);
    let found = rules("-- pgstrata:lint-ignore no-such-rule because\nSELECT 1;\n");
    assert_eq!(found, ["lint-ignore"]);
}

#[test]
fn text_report_locates_each_finding_with_its_safe_alternative() {
    let p = project("SELECT 1;\n  CREATE INDEX t_x ON t (x);\n");
    let (code, out, err) = lint(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "migrations/V2__x.sql:2:3: error index-not-concurrently: CREATE INDEX without \
             CONCURRENTLY locks t"
        ),
        "{out}"
    );
    assert!(out.contains("  safe: CREATE INDEX CONCURRENTLY"), "{out}");
    assert!(
        out.contains(" 2 |   CREATE INDEX t_x ON t (x);\n   |   ^"),
        "{out}"
    );
    assert!(out.contains("1 finding (1 error, 0 warnings)"), "{out}");
}

#[test]
fn json_report_has_every_field() {
    let p = project("ALTER TABLE t RENAME COLUMN y TO z;\n");
    let (code, report) = json_report(&p, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["command"], "lint");
    assert_eq!(report["ok"], false);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "rename-column");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["file"], "migrations/V2__x.sql");
    assert_eq!(finding["line"], 1);
    assert_eq!(finding["column"], 1);
    assert!(
        finding["message"].as_str().unwrap().contains("t.y to z"),
        "{report}"
    );
    assert!(
        finding["safe"].as_str().unwrap().contains("new column"),
        "{report}"
    );
}

#[test]
fn exit_codes_and_file_selection() {
    let p = project("DROP TABLE t;\n");
    // Clean: only V1, which creates its tables.
    let (code, out, err) = lint(&p, &["migrations/V1__base.sql"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = lint(&p, &["--from", "2"]);
    assert_eq!(code, 1, "{out}");
    let (code, out, err) = lint(
        &p,
        &[&p.path.join("migrations/V2__x.sql").to_string_lossy()],
    );
    assert_eq!(code, 1, "{out}{err}");
    // Errors: a file outside the project, an unknown version, a syntax error.
    let (code, _, err) = lint(&p, &["/etc/hostname"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is not a migration or rollback of the project"),
        "{err}"
    );
    let (code, _, err) = lint(&p, &["--from", "9"]);
    assert_eq!(code, 2, "{err}");
    p.write("migrations/V2__x.sql", "DROP TABL t;\n");
    let (code, report) = json_report(&p, &[]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["ok"], false);
}

#[test]
fn the_repository_lints_clean() {
    let (code, out, err) = run(pgstrata().arg("--dir").arg(repository()).arg("lint"));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn check_reports_lint_errors_but_not_warnings() {
    let p = project("ALTER TABLE t RENAME COLUMN y TO z;\n");
    p.write(
        "rollbacks/V2__x.sql",
        "ALTER TABLE t RENAME COLUMN z TO y;\n",
    );
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "a warning is no finding of check: {out}{err}");
    p.write("migrations/V2__x.sql", "CREATE INDEX t_y ON t (y);\n");
    p.write("rollbacks/V2__x.sql", "DROP INDEX t_y;\n");
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&p.path).args([
        "--format",
        "json",
        "check",
        "--write-snapshots",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["kind"] == "lint"
            && f["version"] == 2
            && f["message"]
                .as_str()
                .unwrap()
                .contains("migrations/V2__x.sql:1:1: index-not-concurrently")),
        "{report}"
    );
    // Accepted with a reason: check passes.
    p.write(
        "migrations/V2__x.sql",
        "-- pgstrata:lint-ignore index-not-concurrently t is tiny\nCREATE INDEX t_y ON t (y);\n",
    );
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_check_validated_before_from_still_counts() {
    let p = project("ALTER TABLE t ADD CONSTRAINT y_nn CHECK (y IS NOT NULL) NOT VALID;\n");
    p.write(
        "migrations/V3__v.sql",
        "ALTER TABLE t VALIDATE CONSTRAINT y_nn;\n",
    );
    p.write("rollbacks/V3__v.sql", "SELECT 1;\n");
    p.write(
        "migrations/V4__n.sql",
        "ALTER TABLE t ALTER COLUMN y SET NOT NULL;\n",
    );
    p.write(
        "rollbacks/V4__n.sql",
        "ALTER TABLE t ALTER COLUMN y DROP NOT NULL;\n",
    );
    let (code, out, err) = lint(&p, &["--from", "4"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = lint(&p, &["migrations/V4__n.sql"]);
    assert_eq!(code, 0, "{out}{err}");
}

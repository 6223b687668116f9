//! `check` on a scratch server: clean projects pass, inexact rollbacks and stale or missing
//! snapshots are findings (exit 1), broken files are errors (exit 2). On a named server it
//! works in a temporary database; Ctrl-C leaves neither that database nor a scratch server.

use std::fs;

use crate::harness::{
    TempDir, TestDb, check_on_scratch_until_it_sleeps, check_until_it_sleeps, databases_like,
    history, interrupt, pgstrata, pgstrata_for, run, sleeping_project,
};

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
    assert!(
        out.contains("3 snapshots written"),
        "two deltas and schema.sql: {out}"
    );
    assert!(p.path.join("schema-snapshots/V2__b.sql").is_file());
    assert!(p.path.join("schema-snapshots/schema.sql").is_file());
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

/// `project()` with a managed view that requires nothing and one that requires V2, next to
/// `a_ids` (requires V1).
fn project_with_views() -> TempDir {
    let p = project();
    p.write(
        "views/pg_version.sql",
        "CREATE OR REPLACE VIEW pg_version AS SELECT version() AS v;\n",
    );
    p.write(
        "views/b_ids.sql",
        "-- pgstrata:requires V2\nCREATE OR REPLACE VIEW b_ids AS SELECT id FROM b;\n",
    );
    p
}

/// Regression (issue 9): a view without `requires` exists after V1's rollback rebuilt the
/// views, but the schema before V1 was taken before any view was built, so check called V1's
/// correct rollback "not exact" (and the final round trip "not empty").
#[test]
fn views_without_requires_do_not_make_a_correct_rollback_look_inexact() {
    let p = project_with_views();
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "check passed: 2 migrations checked, every snapshot current, every rollback exact"
        ),
        "{out}"
    );
    let head = fs::read_to_string(p.path.join("schema-snapshots/schema.sql")).unwrap();
    for view in ["pg_version", "a_ids", "b_ids"] {
        assert!(head.contains(&format!("-- view public.{view}")), "{head}");
    }
    // V2's delta has what V2 added; the views built before it are V1's.
    let v2 = fs::read_to_string(p.path.join("schema-snapshots/V2__b.sql")).unwrap();
    assert!(v2.contains("-- view public.b_ids"), "{v2}");
    assert!(!v2.contains("-- view public.pg_version"), "{v2}");
}

/// The fair comparison must still catch wrong rollbacks, with views of every kind around.
#[test]
fn views_do_not_hide_a_rollback_that_leaves_a_table_or_drops_a_column() {
    let p = project_with_views();
    p.write(
        "migrations/V2__b.sql",
        "CREATE TABLE b (id int REFERENCES a, label text);\nCREATE INDEX b_id ON b (id);\n",
    );
    p.write(
        "migrations/V3__c.sql",
        "ALTER TABLE a ADD COLUMN note text, ADD COLUMN size int;\n",
    );
    p.write(
        "rollbacks/V3__c.sql",
        "ALTER TABLE a DROP COLUMN note, DROP COLUMN size;\n",
    );
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    assert_eq!(check(&p, &[]).0, 0);

    p.write("rollbacks/V1__a.sql", "SELECT 1;\n");
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: rollback of V1 is not exact: rollbacks/V1__a.sql"),
        "{out}"
    );
    assert!(out.contains("  + table public.a"), "{out}");
    p.write("rollbacks/V1__a.sql", "DROP TABLE a;\n");

    // Drops V3's columns and one that was there before V3.
    p.write(
        "rollbacks/V3__c.sql",
        "ALTER TABLE a DROP COLUMN note, DROP COLUMN size;\nALTER TABLE b DROP COLUMN label;\n",
    );
    let (code, out, err) = check(&p, &["--from", "V3"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("finding: rollback of V3 is not exact: rollbacks/V3__c.sql"),
        "{out}"
    );
    assert!(out.contains("  ~ table public.b"), "{out}");
}

/// A seed row in V2, a `UNIQUE` in V3; `rollback_v2` is V2's rollback.
fn seeded_project(rollback_v2: &str) -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__settings.sql",
            "CREATE TABLE settings (id serial, key text NOT NULL, value text);\n",
        ),
        ("rollbacks/V1__settings.sql", "DROP TABLE settings;\n"),
        (
            "migrations/V2__seed.sql",
            "INSERT INTO settings (key, value) VALUES ('theme', 'dark');\n",
        ),
        ("rollbacks/V2__seed.sql", rollback_v2),
        (
            "migrations/V3__unique.sql",
            "-- pgstrata:lint-ignore unique-without-index settings holds one row\n\
             ALTER TABLE settings ADD CONSTRAINT settings_key UNIQUE (key);\n",
        ),
        (
            "rollbacks/V3__unique.sql",
            "ALTER TABLE settings DROP CONSTRAINT settings_key;\n",
        ),
    ])
}

/// Regression (issue 9): V2's rollback is right for the schema but leaves V2's seed row, so
/// applying V2 again doubled it and V3's `UNIQUE` failed; check blamed V3 alone.
#[test]
fn check_names_the_rollback_that_leaves_rows_behind() {
    let p =
        seeded_project("-- forgets the seed row: right for the schema, not the data\nSELECT 1;\n");
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "finding: rollback of V2 leaves rows behind: rollbacks/V2__seed.sql left rows \
             behind when check rolled V2 back and applied it again (public.settings has 2 rows \
             where the first apply left 1 row)"
        ),
        "{out}"
    );
    assert!(out.contains("rollback leaves_rows"), "{out}");
    assert!(
        out.contains("V3: applying failed: migrations/V3__unique.sql")
            && out.contains(
                "\n  likely cause, not this step: earlier, rollbacks/V2__seed.sql left rows \
                 behind when check rolled V2 back"
            ),
        "the failure names the rollback that caused it: {out}"
    );
    let (code, out, _) = check(&p, &["--write-snapshots", "--format", "json"]);
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["findings"][0]["kind"], "rows_left_behind", "{out}");
    assert_eq!(value["findings"][0]["version"], 2);
    assert_eq!(value["checked"][1]["rollback"], "leaves_rows");
}

/// Rows are counted, not compared: the seed row deleted and inserted again with the next
/// serial id is a correct rollback.
#[test]
fn check_passes_a_rollback_that_deletes_its_seed_rows() {
    let p = seeded_project("DELETE FROM settings WHERE key = 'theme';\n");
    let (code, out, err) = check(&p, &["--write-snapshots"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("every rollback exact"), "{out}");
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

/// A project whose only migration sleeps long enough to be interrupted.

#[test]
fn check_on_a_named_server_works_in_a_temporary_database_and_drops_it() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    let name = out
        .split_whitespace()
        .find(|word| word.starts_with("pgstrata_check_"))
        .unwrap_or_else(|| panic!("no temporary database named in {out}"))
        .to_string();
    assert!(databases_like(&mut db.connect(), &name).is_empty());
    assert!(
        history(&mut db.connect()).is_empty(),
        "the named database itself is untouched"
    );
}

#[test]
fn ctrl_c_during_check_drops_its_temporary_database() {
    let db = TestDb::new();
    let (mut child, ours) = check_until_it_sleeps(&db, &sleeping_project());
    let mut client = db.connect();
    assert_eq!(interrupt(&mut child), 130);
    assert_eq!(databases_like(&mut client, &ours), Vec::<String>::new());
}

#[test]
fn ctrl_c_during_check_on_a_scratch_server_stops_and_deletes_it() {
    let parent = TempDir::new();
    let (mut child, server_dir) =
        check_on_scratch_until_it_sleeps(&parent.path, &sleeping_project());
    let code = interrupt(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(code, 130, "{err}");
    assert!(!server_dir.exists(), "{} is left", server_dir.display());
    assert_eq!(fs::read_dir(&parent.path).unwrap().count(), 0);
    // No server process still runs on that directory.
    let still_running = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| fs::read(entry.path().join("cmdline")).ok())
        .any(|cmdline| String::from_utf8_lossy(&cmdline).contains(&*server_dir.to_string_lossy()));
    assert!(
        !still_running,
        "a postgres process still uses {}",
        server_dir.display()
    );
}

/// Regression: `check` followed an exported DATABASE_URL and created a database on that
/// server, which in a deployment environment is production.
#[test]
fn check_ignores_database_url_pg_variables_and_database_url_in_the_file() {
    let unreachable = "postgres://nobody@127.0.0.1:1/x";
    let (code, out, err) = run(pgstrata()
        .current_dir(crate::harness::repository())
        .env("DATABASE_URL", unreachable)
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", "1")
        .env("PGUSER", "nobody")
        .env("PGDATABASE", "x")
        .arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("on a scratch server"), "{out}");
    let p = project();
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    p.write(
        "pgstrata.toml",
        &format!("database_url = \"{unreachable}\"\n"),
    );
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("on a scratch server"), "{out}");
}

#[test]
fn check_uses_a_server_named_for_it_by_flag_environment_or_file() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(check(&p, &["--write-snapshots"]).0, 0);
    let on_named_server = |out: &str| out.contains("in the temporary database pgstrata_check_");
    let (code, out, err) = run(pgstrata()
        .env("PGSTRATA_CHECK_DATABASE_URL", &db.conninfo)
        .arg("--dir")
        .arg(&p.path)
        .arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(on_named_server(&out), "{out}");
    p.write(
        "pgstrata.toml",
        &format!("check_database_url = \"{}\"\n", db.conninfo),
    );
    let (code, out, err) = check(&p, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(on_named_server(&out), "{out}");
    // The flag beats the environment, which beats the file.
    p.write(
        "pgstrata.toml",
        "check_database_url = \"postgres://nobody@127.0.0.1:1/file\"\n",
    );
    let (code, out, err) = run(pgstrata()
        .env("PGSTRATA_CHECK_DATABASE_URL", &db.conninfo)
        .arg("--dir")
        .arg(&p.path)
        .arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(on_named_server(&out), "{out}");
    let (code, out, err) = run(pgstrata()
        .env(
            "PGSTRATA_CHECK_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/env",
        )
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--database-url", &db.conninfo]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(on_named_server(&out), "{out}");
    // --scratch still wins over any of them.
    let (code, out, err) = check(&p, &["--scratch"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("on a scratch server"), "{out}");
}

#[test]
fn check_moves_migrations_that_change_the_whole_server_to_a_scratch_server() {
    // Roles outlive the temporary database: on the named server they would stay behind and
    // make the next check fail with "role … already exists".
    let db = TestDb::new();
    let role = format!("pgstrata_check_role_{}", std::process::id());
    let project = TempDir::with_files(&[
        ("migrations/V1__role.sql", &format!("CREATE ROLE {role};\n")),
        ("rollbacks/V1__role.sql", &format!("DROP ROLE {role};\n")),
    ]);
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&project.path).args([
        "check",
        "--write-snapshots",
        "--database-url",
        &db.conninfo,
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("note: checking on a scratch server instead of")
            && err.contains("migrations/V1__role.sql:1 changes roles"),
        "{err}"
    );
    assert!(out.contains("on a scratch server"), "{out}");
    let left: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&role])
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "nothing was created on the named server");
}

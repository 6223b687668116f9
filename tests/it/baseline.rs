//! `baseline` adopts a database pgstrata never managed: on pagila (functions, triggers, a
//! partitioned table, views, a materialized view, domains) plus an extension and a second
//! schema, `status` is clean after it, `drift` finds nothing and `check` passes; a rollback
//! made inexact on purpose is caught by `check`; objects a snapshot cannot carry, existing
//! history, existing migrations and existing files are refused with nothing written.

use std::fs;
use std::path::Path;

use crate::harness::{
    TempDir, TestDb, fixture, history, pgstrata_for, psql, query_text, relation_exists, run,
};

/// Loads a file into the database with psql (pg_dump output needs psql: it is not one batch).
fn load_file(db: &TestDb, path: &Path) {
    let (code, out, err) = run(psql(db).arg("-f").arg(path));
    assert_eq!(code, 0, "loading {}: {out}{err}", path.display());
}

fn load_sql(db: &TestDb, sql: &str) {
    db.connect()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{e:?}\n{sql}"));
}

/// `baseline` in `dir`, made a project first (a `migrations/` folder) if it is not one.
fn baseline(db: &TestDb, dir: &Path, args: &[&str]) -> (i32, String, String) {
    fs::create_dir_all(dir.join("migrations")).unwrap();
    run(pgstrata_for(db, dir).arg("baseline").args(args))
}

/// `status --exit-code`, `drift` and `check` (in a temporary database on the test server)
/// all pass for the baseline of `db` in `dir`.
fn assert_adopted(db: &TestDb, dir: &Path) {
    let (code, out, err) = run(pgstrata_for(db, dir).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "status is not clean:\n{out}{err}");
    assert!(out.contains("V1") && out.contains("baseline"), "{out}");
    let (code, out, err) = run(pgstrata_for(db, dir).arg("drift"));
    assert_eq!(code, 0, "drift:\n{out}{err}");
    assert!(
        out.contains("no drift: the database matches schema-snapshots/schema.sql"),
        "{out}"
    );
    // The baseline's delta is the whole schema (every object new), schema.sql the schema.
    let delta = fs::read_to_string(dir.join("schema-snapshots/V1__baseline.sql")).unwrap();
    let schema = fs::read_to_string(dir.join("schema-snapshots/schema.sql")).unwrap();
    let (_, printed, _) = run(pgstrata_for(db, dir).arg("snapshot"));
    assert_eq!(schema, printed);
    let first_block = printed.find("\n-- ").unwrap();
    assert!(
        delta.starts_with("-- pgstrata schema delta:") && delta.ends_with(&printed[first_block..]),
        "{delta}"
    );
    let (code, out, err) = run(pgstrata_for(db, dir).arg("check"));
    assert_eq!(code, 0, "check:\n{out}{err}");
    assert!(
        out.contains("rollback exact") && out.contains("check passed"),
        "{out}"
    );
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn baseline_adopts_pagila_with_an_extension_and_a_second_schema() {
    let db = TestDb::new();
    load_file(&db, &fixture("baseline/pagila/pagila-schema.sql"));
    load_sql(
        &db,
        "CREATE EXTENSION citext WITH SCHEMA public;
         CREATE SCHEMA app;
         CREATE TABLE app.accounts (
             email public.citext PRIMARY KEY,
             customer_id integer REFERENCES public.customer,
             rating public.mpaa_rating
         );
         CREATE VIEW app.account_names AS
             SELECT a.email, c.first_name FROM app.accounts a JOIN public.customer c USING (customer_id);
         INSERT INTO public.language (name) VALUES ('English');",
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("recorded V1 as applied"), "{out}");
    assert_eq!(
        files_under(&project.path),
        [
            "migrations/V1__baseline.sql",
            "rollbacks/V1__baseline.sql",
            "schema-snapshots/V1__baseline.sql",
            "schema-snapshots/schema.sql"
        ]
    );
    let migration = fs::read_to_string(project.path.join("migrations/V1__baseline.sql")).unwrap();
    for object in [
        "-- extension citext",
        "-- table public.payment_p2022_07",
        "-- materialized view public.rental_by_category",
        "-- trigger public.film film_fulltext_trigger",
        "-- aggregate public.group_concat(text)",
        "-- view app.account_names",
    ] {
        assert!(
            migration.contains(object),
            "{object} missing from the baseline"
        );
    }
    let rollback = fs::read_to_string(project.path.join("rollbacks/V1__baseline.sql")).unwrap();
    assert!(
        rollback.contains("DROP EXTENSION \"citext\";"),
        "{rollback}"
    );
    assert!(rollback.contains("DROP SCHEMA \"app\";"), "{rollback}");
    assert!(
        rollback
            .lines()
            .all(|line| line.starts_with("--") || !line.contains("CASCADE")),
        "{rollback}"
    );
    let mut client = db.connect();
    assert_eq!(history(&mut client), [(1, "applied".to_string())]);
    // Recorded, not run: the data is where it was.
    assert_eq!(
        query_text(&mut client, "SELECT name FROM public.language"),
        "English"
    );
    assert_adopted(&db, &project.path);
}

#[test]
fn baseline_adopts_adventureworks() {
    // Five schemas, mixed-case domains, uuid-ossp and tablefunc, about 500 objects.
    let db = TestDb::new();
    load_file(&db, &fixture("baseline/adventureworks/install.sql"));
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let migration = fs::read_to_string(project.path.join("migrations/V1__baseline.sql")).unwrap();
    for object in [
        "-- extension \"uuid-ossp\"",
        "-- domain public.\"OrderNumber\"",
        "-- schema humanresources",
    ] {
        assert!(
            migration.contains(object),
            "{object} missing from the baseline"
        );
    }
    assert_adopted(&db, &project.path);
}

#[test]
fn baseline_adopts_every_kind_a_snapshot_covers() {
    // Range types make a cast to their multirange by themselves (an internal part of the
    // type): once taken for a cast the baseline cannot carry, which refused these schemas.
    let every_kind = TestDb::new();
    let every_kind_sql = crate::snapshot::every_kind_sql(&every_kind);
    let unusual_sql = fs::read_to_string(fixture("snapshot_unusual/schema.sql")).unwrap();
    for (db, sql) in [(every_kind, every_kind_sql), (TestDb::new(), unusual_sql)] {
        load_sql(&db, &sql);
        let project = TempDir::new();
        let (code, out, err) = baseline(&db, &project.path, &[]);
        assert_eq!(code, 0, "{out}{err}");
        assert_adopted(&db, &project.path);
    }
}

#[test]
fn baseline_rollback_drops_tangled_dependencies_in_a_working_order() {
    let db = TestDb::new();
    let role = crate::snapshot::role(&db);
    let path = fixture("baseline/rollback_order/schema.sql");
    load_sql(
        &db,
        &fs::read_to_string(path).unwrap().replace("__ROLE__", &role),
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_adopted(&db, &project.path);
}

#[test]
fn baseline_of_a_database_without_a_public_schema_drops_it_and_its_rollback_restores_it() {
    let db = TestDb::new();
    load_sql(
        &db,
        "DROP SCHEMA public; CREATE SCHEMA app; CREATE TABLE app.t (id integer PRIMARY KEY);",
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let rollback = fs::read_to_string(project.path.join("rollbacks/V1__baseline.sql")).unwrap();
    assert!(rollback.contains("CREATE SCHEMA \"public\";"), "{rollback}");
    assert_adopted(&db, &project.path);
}

/// A small schema that changes the public schema's comment and privileges, which the
/// rollback must put back as a new database has them.
const SMALL: &str = "COMMENT ON SCHEMA public IS 'ours';
    GRANT CREATE ON SCHEMA public TO PUBLIC;
    CREATE TYPE public.mood AS ENUM ('ok', 'sad');
    CREATE TABLE public.parent (id integer PRIMARY KEY);
    CREATE TABLE public.child (id serial PRIMARY KEY, parent_id integer REFERENCES public.parent,
        mood public.mood);";

#[test]
fn check_catches_a_baseline_rollback_made_inexact() {
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_adopted(&db, &project.path);
    // Without the line that takes back CREATE on public, the rollback leaves the public
    // schema other than a new database has it, and check must say so.
    let path = project.path.join("rollbacks/V1__baseline.sql");
    let rollback = fs::read_to_string(&path).unwrap();
    let revoke = "REVOKE CREATE ON SCHEMA \"public\" FROM PUBLIC;\n";
    assert!(rollback.contains(revoke), "{rollback}");
    fs::write(&path, rollback.replace(revoke, "")).unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("check"));
    assert_eq!(code, 1, "check missed the inexact rollback:\n{out}{err}");
    assert!(out.contains("schema public"), "{out}");
}

#[test]
fn baseline_makes_the_roles_its_default_privileges_and_user_mappings_name() {
    // pg_shdepend records a default-privileges entry's role and a mapping's role as owners,
    // which the roles query left out: a new server lacked them and the baseline failed there.
    let db = TestDb::new();
    let role = crate::snapshot::role(&db);
    load_sql(
        &db,
        &format!(
            "CREATE TABLE public.kept (id integer);
             ALTER DEFAULT PRIVILEGES FOR ROLE {role} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
             CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;
             CREATE USER MAPPING FOR {role} SERVER s;"
        ),
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let migration = fs::read_to_string(project.path.join("migrations/V1__baseline.sql")).unwrap();
    assert!(
        migration.contains(&format!("CREATE ROLE {role}")),
        "{migration}"
    );
    // check runs on a scratch server, where only the baseline can have made the role.
    assert_adopted(&db, &project.path);
}

#[test]
fn baseline_refuses_objects_a_snapshot_cannot_carry_and_force_names_them() {
    let db = TestDb::new();
    load_sql(
        &db,
        "CREATE TABLE public.kept (id integer);
         CREATE ACCESS METHOD heap_copy TYPE TABLE HANDLER heap_tableam_handler;
         CREATE TYPE public.not_yet;
         CREATE SUBSCRIPTION remote CONNECTION 'dbname=nowhere' PUBLICATION p
             WITH (connect = false);",
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 2, "{out}{err}");
    for named in [
        "access method heap_copy",
        "base type public.not_yet",
        "subscription remote",
        "--force",
    ] {
        assert!(err.contains(named), "{named} not named in:\n{err}");
    }
    assert!(
        files_under(&project.path).is_empty(),
        "a refusal wrote files"
    );
    assert!(history(&mut db.connect()).is_empty());

    let (code, out, err) = baseline(&db, &project.path, &["--force"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning: left out of the baseline (--force): access method heap_copy"),
        "{err}"
    );
    assert_eq!(history(&mut db.connect()), [(1, "applied".to_string())]);
    // A database with a subscription cannot be dropped.
    load_sql(
        &db,
        "ALTER SUBSCRIPTION remote SET (slot_name = NONE); DROP SUBSCRIPTION remote",
    );
}

#[test]
fn baseline_refuses_history_migrations_views_and_existing_files() {
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let refused = |project: &TempDir, args: &[&str], expected: &str| {
        let before = files_under(&project.path);
        let (code, out, err) = baseline(&db, &project.path, args);
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains(expected), "{expected} not in:\n{err}");
        assert_eq!(files_under(&project.path), before, "a refusal wrote files");
        assert!(history(&mut db.connect()).is_empty());
    };
    let with_migration = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ]);
    refused(
        &with_migration,
        &[],
        "the baseline must be the first migration",
    );
    let with_view = TempDir::with_files(&[("views/v.sql", "CREATE VIEW v AS SELECT 1 AS one;\n")]);
    refused(&with_view, &[], "views/ holds 1 file");
    let with_snapshot = TempDir::with_files(&[("schema-snapshots/V1__baseline.sql", "x\n")]);
    refused(
        &with_snapshot,
        &[],
        "schema-snapshots/V1__baseline.sql already exists",
    );

    // Below the existing migrations, the baseline is allowed: they stay pending after it.
    let later = TempDir::with_files(&[
        ("migrations/V5__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V5__a.sql", "DROP TABLE a;\n"),
    ]);
    let (code, out, err) = baseline(&db, &later.path, &["--version", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(later.path.join("migrations/V2__baseline.sql").is_file());
    assert!(
        later
            .path
            .join("schema-snapshots/V2__baseline.sql")
            .is_file()
    );
    assert!(
        !later.path.join("schema-snapshots/schema.sql").exists(),
        "V5 is the newest migration, not the baseline"
    );
    assert!(
        out.contains("and schema-snapshots/V2__baseline.sql\n"),
        "{out}"
    );
    assert_eq!(history(&mut db.connect()), [(2, "applied".to_string())]);

    // Now the database has history: adopting it again is refused.
    let fresh = TempDir::new();
    let (code, out, err) = baseline(&db, &fresh.path, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("pgstrata already manages this database"),
        "{err}"
    );
    assert!(files_under(&fresh.path).is_empty());
}

#[test]
fn baseline_refuses_an_empty_database() {
    let db = TestDb::new();
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no schema to adopt"), "{err}");
    assert!(files_under(&project.path).is_empty());
}

#[test]
fn baseline_reports_json() {
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["command"], "baseline");
    assert_eq!(report["baseline"]["version"], 1);
    assert_eq!(report["baseline"]["rollback"], "rollbacks/V1__baseline.sql");
}

#[test]
fn baseline_outside_a_project_suggests_init_and_a_timestamp_project_gets_a_timestamp() {
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let nowhere = TempDir::new();
    let (code, out, err) = run(pgstrata_for(&db, &nowhere.path).arg("baseline"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("pgstrata init"), "{err}");
    assert!(files_under(&nowhere.path).is_empty());

    let project = TempDir::with_files(&[("pgstrata.toml", "versioning = \"timestamp\"\n")]);
    let (code, out, err) = baseline(&db, &project.path, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let version = report["baseline"]["version"].as_i64().unwrap();
    // YYYYMMDDHHMMSS of this century: 14 digits starting with 20.
    assert_eq!(version.to_string().len(), 14, "{version}");
    assert!(version.to_string().starts_with("20"), "{version}");
    assert!(
        project
            .path
            .join(format!("migrations/V{version}__baseline.sql"))
            .is_file()
    );
}

#[test]
fn down_refuses_the_baseline_even_with_empty_tables_unless_data_loss_is_allowed() {
    // SMALL's tables are empty: counting rows finds nothing to lose, yet the rollback would
    // drop the whole adopted schema.
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["down", "--format", "json"]));
    assert_eq!(code, 2, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["kind"], "data_loss", "{out}");
    assert!(
        err.contains("is the baseline this database was adopted with"),
        "{err}"
    );
    assert!(
        relation_exists(&mut db.connect(), "parent"),
        "nothing was rolled back"
    );

    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["down", "--dry-run"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("is the baseline") || err.contains("is the baseline"),
        "{out}{err}"
    );

    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["down", "--allow-data-loss"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!relation_exists(&mut db.connect(), "parent"));
}

#[test]
fn a_baseline_makes_the_roles_its_grants_name_so_check_passes_on_a_new_server() {
    let db = TestDb::new();
    // Roles are the server's: a name of this test's own, dropped at the end.
    let role = format!("reader of {}", &db.name[db.name.len().saturating_sub(40)..]);
    let quoted = pgstrata::db::quote_ident(&role);
    load_sql(
        &db,
        &format!(
            "{SMALL};\nCREATE ROLE {quoted} NOLOGIN;\nGRANT SELECT ON public.parent TO {quoted};"
        ),
    );
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let migration = fs::read_to_string(project.path.join("migrations/V1__baseline.sql")).unwrap();
    assert!(
        migration.contains(&format!("CREATE ROLE {quoted} NOLOGIN;")),
        "{migration}"
    );
    // A project that makes roles is checked on a scratch server, where the role is not,
    // even when a server is named for check (it would outlive check's database there).
    assert_adopted(&db, &project.path);
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("check"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("scratch server"), "{out}{err}");
    db.connect()
        .batch_execute(&format!(
            "REVOKE ALL ON public.parent FROM {quoted}; DROP ROLE {quoted};"
        ))
        .unwrap();
}

#[test]
fn baseline_of_a_managed_database_is_refused_with_its_own_kind() {
    let db = TestDb::new();
    load_sql(&db, SMALL);
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let again = TempDir::new();
    let (code, out, err) = baseline(&db, &again.path, &["--format", "json"]);
    assert_eq!(code, 2, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["kind"], "already_managed", "{out}");
}

/// A name with a newline is written `U&"A\000aB"` in its block header, so the baseline stays
/// executable SQL and its rollback reads the name back (found by review: the rest of the name
/// started a line of SQL, and baseline failed with `syntax error at or near "B"`).
#[test]
fn baseline_of_a_name_with_a_newline_loads_and_rolls_back() {
    let db = TestDb::new();
    load_sql(&db, "CREATE SCHEMA \"A\nB\"; CREATE TABLE t (id int);");
    let project = TempDir::new();
    let (code, out, err) = baseline(&db, &project.path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_adopted(&db, &project.path);
}

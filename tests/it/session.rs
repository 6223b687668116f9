//! Every file starts from the same session: what one migration `SET`s (search_path, role,
//! time zone, session_replication_role, any setting; client_encoding too, where the loader
//! cannot see it, inside a DO block) and its temporary tables never reach the next file, so
//! one run and one run per migration build the same database.

use crate::harness::{TempDir, TestDb, pgstrata_for, run};

/// V1 changes everything a session can carry; V2 and its rollback show what they inherit.
fn leaky_project(role: &str) -> TempDir {
    let report = |v: i32| {
        format!(
            "INSERT INTO public.seen VALUES ({v}, current_setting('search_path'), \
             current_setting('TimeZone'), current_user::text, \
             current_setting('session_replication_role'), current_setting('client_encoding'), \
             current_setting('work_mem'), \
             (SELECT count(*) FROM pg_class WHERE relpersistence = 't')::int);\n"
        )
    };
    TempDir::with_files(&[
        (
            "migrations/V1__leaky.sql",
            &format!(
                "CREATE SCHEMA app;\n\
                 GRANT ALL ON SCHEMA app TO {role};\n\
                 CREATE TABLE public.seen (v int, search_path text, tz text, who text, srr text, \
                 enc text, work_mem text, temps int);\n\
                 GRANT ALL ON public.seen TO {role};\n\
                 CREATE TEMP TABLE scratch (x int);\n\
                 SET search_path = app, public;\n\
                 SET TIME ZONE 'Pacific/Kiritimati';\n\
                 SET session_replication_role = replica;\n\
                 SELECT set_config('work_mem', '77MB', false);\n\
                 DO $$ BEGIN PERFORM set_config('client_encoding', 'LATIN1', false); END $$;\n\
                 SET ROLE {role};\n{}",
                report(1)
            ),
        ),
        (
            "rollbacks/V1__leaky.sql",
            "SET search_path = app;\nDROP TABLE public.seen;\nDROP SCHEMA app;\n",
        ),
        (
            "migrations/V2__items.sql",
            &format!(
                "CREATE TABLE items (id int PRIMARY KEY, note text, stamped text);\n\
                 CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                 BEGIN NEW.stamped := 'by trigger'; RETURN NEW; END $$;\n\
                 CREATE TRIGGER items_stamp BEFORE INSERT ON items FOR EACH ROW \
                 EXECUTE FUNCTION stamp();\n\
                 INSERT INTO items (id, note) VALUES (1, 'café ☕');\n\
                 CREATE TEMP TABLE scratch (x int);\n{}",
                report(2)
            ),
        ),
        (
            "rollbacks/V2__items.sql",
            &format!("{}DROP TABLE items;\nDROP FUNCTION stamp();\n", report(-2)),
        ),
    ])
}

fn rows(db: &TestDb, sql: &str) -> Vec<String> {
    db.connect()
        .simple_query(sql)
        .unwrap()
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            _ => None,
        })
        .collect()
}

fn snapshot(db: &TestDb) -> String {
    let options = pgstrata::snapshot::SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    };
    pgstrata::snapshot::take(&mut db.connect(), &options)
        .unwrap()
        .render()
}

#[test]
fn one_run_and_one_run_per_migration_build_the_same_database() {
    let role = format!("pgstrata_session_{}", std::process::id());
    let admin = TestDb::new();
    admin
        .connect()
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role}"))
        .unwrap();
    let project = leaky_project(&role);

    let together = TestDb::new();
    let (code, _, err) = run(pgstrata_for(&together, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let apart = TestDb::new();
    for to in ["1", "2"] {
        let (code, _, err) = run(pgstrata_for(&apart, &project.path).args(["up", "--to", to]));
        assert_eq!(code, 0, "{err}");
    }

    assert_eq!(snapshot(&together), snapshot(&apart));
    let seen = "SELECT v, search_path, tz, who, srr, enc, work_mem, temps FROM public.seen \
                WHERE v = 2";
    assert_eq!(rows(&together, seen), rows(&apart, seen));
    let v2 = rows(&together, seen).join("");
    // V2 started from a fresh session: none of V1's settings, its role or its temp table.
    assert!(v2.starts_with("2 | \"$user\", public | "), "{v2}");
    assert!(!v2.contains("Kiritimati") && !v2.contains(&role), "{v2}");
    assert!(v2.ends_with("| origin | UTF8 | 4MB | 1"), "{v2}");
    // Its table went to public, its trigger fired, its text arrived intact.
    let items = "SELECT id, note, stamped FROM public.items";
    assert_eq!(rows(&together, items), vec!["1 | café ☕ | by trigger"]);
    assert_eq!(rows(&apart, items), rows(&together, items));

    // Rolling back: the rollback of V2 does not inherit V1's nor anything else.
    for db in [&together, &apart] {
        let (code, _, err) =
            run(pgstrata_for(db, &project.path).args(["down", "--to", "0", "--allow-data-loss"]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            rows(
                db,
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"
            ),
            ["0"]
        );
    }
    admin
        .connect()
        .batch_execute(&format!("DROP ROLE {role}"))
        .unwrap();
}

#[test]
fn the_history_row_is_written_as_pgstrata_even_after_set_role() {
    let role = format!("pgstrata_nobody_{}", std::process::id());
    let db = TestDb::new();
    db.connect()
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role}"))
        .unwrap();
    // The role may not write pgstrata's history: the row must be written by the session's
    // own user, after the file's SET ROLE is undone.
    let project = TempDir::with_files(&[
        (
            "migrations/V1__as_role.sql",
            &format!("SET ROLE {role};\nSELECT 1;\n"),
        ),
        ("rollbacks/V1__as_role.sql", &format!("SET ROLE {role};\n")),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        rows(&db, "SELECT version, applied_by FROM pgstrata.history"),
        vec!["1 | postgres"]
    );
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["down", "--allow-data-loss"]));
    assert_eq!(code, 0, "{err}");
    assert!(rows(&db, "SELECT version FROM pgstrata.history").is_empty());
    db.connect()
        .batch_execute(&format!("DROP ROLE {role}"))
        .unwrap();
}

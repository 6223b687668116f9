//! `import --from TOOL DIR` for each tool's layout, and `adopt --from TOOL` on history tables
//! made by hand here the way each tool makes them (no tool is installed): versions, names,
//! no-transaction markers, missing downs, collisions, checksums, dirty states.

use std::fs;
use std::path::Path;

use crate::harness::{TempDir, TestDb, fixture, history, pgstrata, pgstrata_for, run};

/// `import` into `project`, made a project first (as `init` would, an empty pgstrata.toml
/// standing for its settings) if it is not one.
fn import(project: &Path, tool: &str, source: &Path) -> (i32, String, String) {
    make_project(project);
    run(pgstrata()
        .arg("--dir")
        .arg(project)
        .args(["import", "--from", tool])
        .arg(source))
}

fn make_project(dir: &Path) {
    if !dir.join("migrations").exists() && !dir.join("pgstrata.toml").exists() {
        fs::write(dir.join("pgstrata.toml"), "").unwrap();
    }
}

fn read(project: &TempDir, relative: &str) -> Vec<u8> {
    fs::read(project.path.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn names(project: &TempDir, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(project.path.join(folder))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs every statement of `file` of the project on the database, as the tool would have.
fn apply_by_hand(db: &TestDb, project: &TempDir, file: &str) {
    let text = String::from_utf8(read(project, file)).unwrap();
    db.connect()
        .batch_execute(&text)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
}

#[test]
fn diesel_folders_become_migrations_and_rollbacks_byte_for_byte() {
    let p = TempDir::new();
    let source = fixture("import/diesel");
    let (code, out, err) = import(&p.path, "diesel", &source);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        names(&p, "migrations"),
        [
            "V1__diesel_initial_setup.sql",
            "V20190226002946__create_user.sql",
            "V20200301120000__add_user_index.sql",
            "V20210505000000__seed_admin.sql",
            "V202401011010100000__user_bio.sql",
        ]
    );
    assert_eq!(names(&p, "rollbacks"), names(&p, "migrations"));
    assert!(
        out.contains(
            "imported 5 migrations from diesel (" // then the folder
        ) && out.contains("): 1 irreversible (no down), 1 run outside a transaction"),
        "{out}"
    );
    assert!(
        err.contains("note: README.md is not a diesel migration and was not imported"),
        "{err}"
    );
    // Bytes as they were (CRLF kept), the directive line added where diesel ran without a
    // transaction, and the missing down made irreversible with the reason.
    assert_eq!(
        read(&p, "migrations/V20190226002946__create_user.sql"),
        fs::read(source.join("2019-02-26-002946_create_user/up.sql")).unwrap()
    );
    assert_eq!(
        read(&p, "migrations/V20200301120000__add_user_index.sql"),
        b"-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY idx_user_name ON user_ (name);\n"
    );
    assert_eq!(
        read(&p, "rollbacks/V20200301120000__add_user_index.sql"),
        b"-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY idx_user_name;\n"
    );
    assert_eq!(
        String::from_utf8(read(&p, "rollbacks/V20210505000000__seed_admin.sql")).unwrap(),
        "-- pgstrata:irreversible imported from diesel: 2021-05-05-000000_seed_admin/down.sql \
         does not exist\n"
    );

    // The converted project runs and proves itself (the irreversible one is skipped).
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("check passed: 5 migrations checked"), "{out}");

    // Importing again refuses every collision and writes nothing.
    let before = names(&p, "migrations");
    let (code, _, err) = import(&p.path, "diesel", &source);
    assert_eq!(code, 2);
    assert!(
        err.contains("would be version 20190226002946, which the project already has"),
        "{err}"
    );
    assert_eq!(names(&p, "migrations"), before);
}

#[test]
fn a_version_collision_writes_nothing() {
    let p = TempDir::with_files(&[
        ("migrations/V2__mine.sql", "SELECT 1;\n"),
        ("rollbacks/V2__mine.sql", "SELECT 1;\n"),
    ]);
    let source = TempDir::with_files(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        ("2_b.up.sql", "CREATE TABLE b (id int);\n"),
        ("2_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let (code, _, err) = import(&p.path, "golang-migrate", &source.path);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "2_b.up.sql would be version 2, which the project already has (migrations/V2__mine.sql)"
        ),
        "{err}"
    );
    assert_eq!(names(&p, "migrations"), ["V2__mine.sql"], "nothing written");

    // Two files of one folder on one version.
    let twice =
        TempDir::with_files(&[("V1__a.sql", "SELECT 1;\n"), ("V1.0__b.sql", "SELECT 2;\n")]);
    let empty = TempDir::new();
    let (code, _, err) = import(&empty.path, "flyway", &twice.path);
    assert_eq!(code, 2);
    assert!(err.contains("would both be version 1000000000"), "{err}");
    assert!(!empty.path.join("migrations").exists());
}

#[test]
fn sqlx_markers_and_simple_migrations() {
    let source = TempDir::with_files(&[
        (
            "20240101000000_users.up.sql",
            "CREATE TABLE users (id int PRIMARY KEY, name text);\n",
        ),
        ("20240101000000_users.down.sql", "DROP TABLE users;\n"),
        (
            "20240102000000_users by name.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
        ),
        (
            "20240102000000_users by name.down.sql",
            "-- no-transaction\nDROP INDEX CONCURRENTLY users_name;\n",
        ),
        (
            "20240103000000_seed.sql",
            "INSERT INTO users VALUES (1, 'root');\n",
        ),
        ("notes.txt", "not a migration\n"),
    ]);
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, "sqlx", &source.path);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("imported 3 migrations from sqlx")
            && out.contains("1 irreversible (no down), 1 run outside a transaction"),
        "{out}"
    );
    assert_eq!(
        read(&p, "migrations/V20240102000000__users_by_name.sql"),
        b"-- pgstrata:no-transaction\n-- no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n"
    );
    assert!(
        String::from_utf8(read(&p, "rollbacks/V20240103000000__seed.sql"))
            .unwrap()
            .starts_with("-- pgstrata:irreversible imported from sqlx: 20240103000000_seed.sql has no .down.sql")
    );
    assert!(err.contains("notes.txt is not a sqlx migration"), "{err}");
}

#[test]
fn dbmate_sections_and_flyway_versions() {
    let source = TempDir::with_files(&[
        (
            "20230101120000_create_items.sql",
            "-- migrate:up\nCREATE TABLE items (id int);\n\n-- migrate:down\nDROP TABLE items;\n",
        ),
        (
            "20230102120000_index_items.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n\n\
             -- migrate:down transaction:false\nDROP INDEX CONCURRENTLY items_id;\n",
        ),
        (
            "20230103120000_seed.sql",
            "-- migrate:up\nINSERT INTO items VALUES (1);\n\n-- migrate:down\n\n",
        ),
    ]);
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, "dbmate", &source.path);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        read(&p, "migrations/V20230101120000__create_items.sql"),
        b"CREATE TABLE items (id int);\n\n"
    );
    assert_eq!(
        read(&p, "rollbacks/V20230102120000__index_items.sql"),
        b"-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY items_id;\n"
    );
    assert!(
        String::from_utf8(read(&p, "rollbacks/V20230103120000__seed.sql"))
            .unwrap()
            .contains("the `-- migrate:down` section of 20230103120000_seed.sql is empty")
    );

    let flyway = TempDir::with_files(&[
        ("V1__Create_items.sql", "CREATE TABLE items (id int);\n"),
        ("U1__Create_items.sql", "DROP TABLE items;\n"),
        ("V1.9__Add_a.sql", "ALTER TABLE items ADD a int;\n"),
        (
            "V1.10__Add_b.sql",
            "CREATE INDEX CONCURRENTLY items_b ON items (a);\n",
        ),
        ("V1.10__Add_b.sql.conf", "executeInTransaction=false\n"),
        (
            "R__items_view.sql",
            "CREATE OR REPLACE VIEW v AS SELECT 1;\n",
        ),
    ]);
    let p = TempDir::new();
    let (code, _, err) = import(&p.path, "flyway", &flyway.path);
    assert_eq!(code, 2, "a repeatable migration has no pgstrata equivalent");
    assert!(
        err.contains("R__items_view.sql: flyway's repeatable migrations"),
        "{err}"
    );
    fs::remove_file(flyway.path.join("R__items_view.sql")).unwrap();
    let (code, out, err) = import(&p.path, "flyway", &flyway.path);
    assert_eq!(code, 0, "{out}{err}");
    // 1.10 comes after 1.9, as in flyway.
    assert_eq!(
        names(&p, "migrations"),
        [
            "V1000000000__Create_items.sql",
            "V1009000000__Add_a.sql",
            "V1010000000__Add_b.sql",
        ]
    );
    assert!(
        read(&p, "migrations/V1010000000__Add_b.sql").starts_with(b"-- pgstrata:no-transaction\n")
    );
    assert_eq!(
        read(&p, "rollbacks/V1000000000__Create_items.sql"),
        b"DROP TABLE items;\n"
    );
}

/// A project imported from `files` (name, content) laid out for `tool`.
fn imported(tool: &str, files: &[(&str, &str)]) -> TempDir {
    let source = TempDir::with_files(files);
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, tool, &source.path);
    assert_eq!(code, 0, "{out}{err}");
    p
}

fn adopt(db: &TestDb, p: &TempDir, tool: &str) -> (i32, String, String) {
    run(pgstrata_for(db, &p.path).args(["adopt", "--from", tool]))
}

#[test]
fn adopt_diesel_then_pgstrata_carries_on() {
    let db = TestDb::new();
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, "diesel", &fixture("import/diesel"));
    assert_eq!(code, 0, "{out}{err}");
    // diesel ran the first three folders: its table as diesel_migrations creates it.
    let mut client = db.connect();
    client
        .batch_execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
             INSERT INTO __diesel_schema_migrations (version) VALUES
                ('00000000000000'), ('20190226002946'), ('20200301120000');",
        )
        .unwrap();
    for file in [
        "migrations/V1__diesel_initial_setup.sql",
        "migrations/V20190226002946__create_user.sql",
    ] {
        apply_by_hand(&db, &p, file);
    }
    client
        .batch_execute("CREATE INDEX CONCURRENTLY idx_user_name ON user_ (name)")
        .unwrap();
    let (code, out, err) = adopt(&db, &p, "diesel");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("adopted 3 migrations from __diesel_schema_migrations"),
        "{out}"
    );
    assert_eq!(
        history(&mut client),
        vec![
            (1, "applied".into()),
            (20190226002946, "applied".into()),
            (20200301120000, "applied".into())
        ]
    );
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied 2 migrations"), "{out}");
}

#[test]
fn adopt_diesel_refuses_a_version_without_its_file() {
    let db = TestDb::new();
    let p = imported("diesel", &[("2020-01-01-000000_a/up.sql", "SELECT 1;\n")]);
    db.connect()
        .batch_execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY, run_on \
             TIMESTAMP NOT NULL DEFAULT now());
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20200101000000'), \
             ('20990101000000');",
        )
        .unwrap();
    let (code, _, err) = adopt(&db, &p, "diesel");
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "diesel applied version 20990101000000, but migrations/ has no such migration"
        ),
        "{err}"
    );
    assert!(!crate::harness::relation_exists(
        &mut db.connect(),
        "pgstrata.history"
    ));
}

/// sqlx's table as sqlx-core's postgres migrator creates it.
const SQLX_TABLE: &str = "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, \
    description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN \
    NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)";

fn sqlx_project() -> TempDir {
    imported(
        "sqlx",
        &[
            (
                "1_users.up.sql",
                "CREATE TABLE users (id int, name text);\n",
            ),
            ("1_users.down.sql", "DROP TABLE users;\n"),
            (
                "2_users_by_name.up.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
            ),
            ("2_users_by_name.down.sql", "DROP INDEX users_name;\n"),
        ],
    )
}

/// Records a sqlx row for `text` (the file as sqlx read it), checksummed by the server.
fn sqlx_row(db: &TestDb, version: i64, description: &str, text: &str, success: bool) {
    db.connect()
        .execute(
            "INSERT INTO _sqlx_migrations VALUES ($1, $2, now(), $4, sha384(convert_to($3, 'UTF8')), 1)",
            &[&version, &description, &text, &success],
        )
        .unwrap();
}

#[test]
fn adopt_sqlx_verifies_its_sha384_of_each_file() {
    let db = TestDb::new();
    let p = sqlx_project();
    db.connect()
        .batch_execute(&format!(
            "{SQLX_TABLE}; CREATE TABLE users (id int, name text); CREATE INDEX users_name ON \
             users (name);"
        ))
        .unwrap();
    sqlx_row(
        &db,
        1,
        "users",
        "CREATE TABLE users (id int, name text);\n",
        true,
    );
    // The file as sqlx read it: without the directive line import added.
    sqlx_row(
        &db,
        2,
        "users by name",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
        true,
    );
    let (code, out, err) = adopt(&db, &p, "sqlx");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        history(&mut db.connect()),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
}

#[test]
fn adopt_sqlx_refuses_an_edited_file_and_an_unfinished_migration() {
    let db = TestDb::new();
    let p = sqlx_project();
    db.connect().batch_execute(SQLX_TABLE).unwrap();
    sqlx_row(
        &db,
        1,
        "users",
        "CREATE TABLE users (id int, name text, extra int);\n",
        true,
    );
    sqlx_row(
        &db,
        2,
        "users by name",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n",
        false,
    );
    let (code, _, err) = adopt(&db, &p, "sqlx");
    assert_eq!(code, 2);
    assert!(
        err.contains("migrations/V1__users.sql: changed since it was applied (recorded checksum"),
        "{err}"
    );
    assert!(
        err.contains("_sqlx_migrations: version 2: success is false"),
        "{err}"
    );
    assert!(!crate::harness::relation_exists(
        &mut db.connect(),
        "pgstrata.history"
    )); // A pipeline tells this refusal apart by its kind.
    let (code, out, _) =
        run(pgstrata_for(&db, &p.path).args(["adopt", "--from", "sqlx", "--format", "json"]));
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["kind"], "foreign_history", "{out}");
}

#[test]
fn adopt_golang_migrate_takes_every_version_up_to_the_recorded_one_and_refuses_dirty() {
    let db = TestDb::new();
    let p = imported(
        "golang-migrate",
        &[
            ("1_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("1_a.down.sql", "DROP TABLE a;\n"),
            ("2_b.up.sql", "CREATE TABLE b (id int);\n"),
            ("3_c.up.sql", "CREATE TABLE c (id int);\n"),
            ("3_c.down.sql", "DROP TABLE c;\n"),
        ],
    );
    assert!(
        String::from_utf8(read(&p, "rollbacks/V2__b.sql"))
            .unwrap()
            .starts_with(
                "-- pgstrata:irreversible imported from golang-migrate: 2_b.up.sql has no .down.sql"
            )
    );
    let mut client = db.connect();
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean \
             NOT NULL); INSERT INTO schema_migrations VALUES (2, true);
             CREATE TABLE a (id int); CREATE TABLE b (id int);",
        )
        .unwrap();
    let (code, _, err) = adopt(&db, &p, "golang-migrate");
    assert_eq!(code, 2);
    assert!(err.contains("schema_migrations: version 2: dirty"), "{err}");
    // dbmate's table has the same name but no `dirty`.
    let (code, _, err) = adopt(&db, &p, "dbmate");
    assert_eq!(code, 2);
    assert!(err.contains("golang-migrate made it, not dbmate"), "{err}");

    client
        .batch_execute("UPDATE schema_migrations SET dirty = false")
        .unwrap();
    let (code, out, err) = adopt(&db, &p, "golang-migrate");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
}

#[test]
fn adopt_dbmate_and_a_table_from_another_tool() {
    let db = TestDb::new();
    let p = imported(
        "dbmate",
        &[
            (
                "20230101120000_items.sql",
                "-- migrate:up\nCREATE TABLE items (id int);\n-- migrate:down\nDROP TABLE items;\n",
            ),
            (
                "20230102120000_more.sql",
                "-- migrate:up\nCREATE TABLE more (id int);\n-- migrate:down\nDROP TABLE more;\n",
            ),
        ],
    );
    let mut client = db.connect();
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
             INSERT INTO schema_migrations VALUES ('20230101120000');
             CREATE TABLE items (id int);",
        )
        .unwrap();
    let (code, _, err) = adopt(&db, &p, "golang-migrate");
    assert_eq!(code, 2);
    assert!(
        err.contains("schema_migrations does not have the columns golang-migrate writes"),
        "{err}"
    );
    let (code, out, err) = adopt(&db, &p, "dbmate");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        history(&mut client),
        vec![(20230101120000, "applied".into())]
    );
    let (code, _, err) = adopt(&db, &p, "dbmate");
    assert_eq!(code, 2, "adopted once only");
    assert!(
        err.contains("pgstrata already manages this database"),
        "{err}"
    );
}

/// flyway's table as flyway 10 creates it on PostgreSQL.
const FLYWAY_TABLE: &str = "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL \
    PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT \
    NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, \
    installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success \
    BOOLEAN NOT NULL)";

/// java.util.zip.CRC32 over the lines of `text` without their line ends, as flyway's
/// checksum (computed here independently of pgstrata's).
fn flyway_crc(text: &str) -> i32 {
    let mut crc: u32 = !0;
    for line in text.lines() {
        for byte in line.bytes() {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc as i32
}

#[test]
fn adopt_flyway_verifies_its_crc32_and_refuses_failures() {
    let db = TestDb::new();
    let v1 = "CREATE TABLE items (id int);\r\n";
    let v2 = "ALTER TABLE items ADD a int;\n";
    let p = imported(
        "flyway",
        &[
            ("V1__Create_items.sql", v1),
            ("U1__Create_items.sql", "DROP TABLE items;\n"),
            ("V1.1__Add_a.sql", v2),
            ("U1.1__Add_a.sql", "ALTER TABLE items DROP a;\n"),
        ],
    );
    let mut client = db.connect();
    client.batch_execute(FLYWAY_TABLE).unwrap();
    client
        .batch_execute("CREATE TABLE items (id int, a int)")
        .unwrap();
    let insert = "INSERT INTO flyway_schema_history VALUES ($1, $2, $3, $4, $5, $6, 'me', now(), \
                  1, $7)";
    let row = |rank: i32, version: Option<&str>, kind: &str, checksum: Option<i32>, ok: bool| {
        db.connect()
            .execute(
                insert,
                &[&rank, &version, &"x y", &kind, &"V.sql", &checksum, &ok],
            )
            .unwrap();
    };
    row(0, None, "SCHEMA", None, true);
    client
        .execute(
            insert,
            &[
                &1i32,
                &"1",
                &"Create items",
                &"SQL",
                &"V1__Create_items.sql",
                &Some(flyway_crc(v1)),
                &true,
            ],
        )
        .unwrap();
    client
        .execute(
            insert,
            &[
                &2i32,
                &"1.1",
                &"Add a",
                &"SQL",
                &"V1.1__Add_a.sql",
                &Some(flyway_crc(v2) ^ 1),
                &true,
            ],
        )
        .unwrap();
    let (code, _, err) = adopt(&db, &p, "flyway");
    assert_eq!(code, 2, "a wrong checksum is refused");
    assert!(
        err.contains("migrations/V1001000000__Add_a.sql: changed since it was applied"),
        "{err}"
    );
    client
        .execute(
            "UPDATE flyway_schema_history SET checksum = $1 WHERE installed_rank = 2",
            &[&flyway_crc(v2)],
        )
        .unwrap();
    row(3, Some("2"), "SQL", Some(0), false);
    let (code, _, err) = adopt(&db, &p, "flyway");
    assert_eq!(code, 2, "a failed row is refused");
    assert!(err.contains("version 2: success is false"), "{err}");
    client
        .batch_execute("DELETE FROM flyway_schema_history WHERE installed_rank = 3")
        .unwrap();
    let (code, out, err) = adopt(&db, &p, "flyway");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        history(&mut client),
        vec![
            (1000000000, "applied".into()),
            (1001000000, "applied".into())
        ]
    );
}

/// golang-migrate has no marker, but the server runs a file sent as one statement outside a
/// transaction block: such a file keeps running without one here.
#[test]
fn golang_migrate_runs_a_lone_concurrently_statement_outside_a_transaction() {
    let p = imported(
        "golang-migrate",
        &[
            ("1_t.up.sql", "CREATE TABLE t (x int);\n"),
            ("1_t.down.sql", "DROP TABLE t;\n"),
            ("2_t_x.up.sql", "CREATE INDEX CONCURRENTLY t_x ON t (x);\n"),
            ("2_t_x.down.sql", "DROP INDEX CONCURRENTLY t_x;\n"),
        ],
    );
    assert_eq!(
        read(&p, "migrations/V2__t_x.sql"),
        b"-- pgstrata:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n"
    );
    assert_eq!(
        read(&p, "rollbacks/V2__t_x.sql"),
        b"-- pgstrata:no-transaction\nDROP INDEX CONCURRENTLY t_x;\n"
    );
    assert_eq!(
        read(&p, "migrations/V1__t.sql"),
        b"CREATE TABLE t (x int);\n"
    );
}

/// Lemmy's real history (342 diesel migrations; fetched by scripts/fetch-lemmy-migrations, not
/// committed: AGPL) converts, loads, and runs through `check`, whose inexact rollbacks each
/// carry their classes and whose failure names what it could not check.
#[test]
fn lemmys_history_converts_and_runs_through_check() {
    let source = fixture("lemmy/migrations");
    if !source.is_dir() {
        eprintln!(
            "skipped: {} is absent; run scripts/fetch-lemmy-migrations to fetch Lemmy's \
             migrations and run this test",
            source.display()
        );
        return;
    }
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, "diesel", &source);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 342 migrations from diesel"), "{out}");
    assert!(
        pgstrata::migrate::project::load(&p.path).is_ok(),
        "every converted file loads"
    );
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["check", "--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let inexact: Vec<_> = findings
        .iter()
        .filter(|f| f["kind"] == "inexact_rollback")
        .collect();
    assert!(
        inexact
            .iter()
            .all(|f| !f["classes"].as_array().unwrap().is_empty()),
        "every inexact rollback names its classes"
    );
    let column_order_only = inexact
        .iter()
        .filter(|f| {
            f["classes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["classes"] == serde_json::json!(["column-order"]))
        })
        .count();
    assert!(column_order_only >= 20, "{column_order_only}");
    let not_checked = report["not_checked"].as_array().unwrap();
    match findings.iter().find(|f| f["kind"] == "failed") {
        Some(failed) => {
            let at = failed["version"].as_i64().unwrap();
            assert!(!not_checked.is_empty());
            assert!(
                not_checked
                    .iter()
                    .all(|m| m["version"].as_i64().unwrap() > at)
            );
        }
        None => assert!(not_checked.is_empty()),
    }
}

/// diesel orders its folders by their version text; where numeric order differs (an old
/// 14-digit version beside a diesel 2.2 one with `-0000`), import refuses rather than reorder.
#[test]
fn diesel_versions_that_would_run_in_another_order_are_refused() {
    let source = TempDir::with_files(&[
        ("2019-01-01-000000_a/up.sql", "SELECT 1;\n"),
        ("2018-06-01-000000-0000_b/up.sql", "SELECT 2;\n"),
    ]);
    let p = TempDir::new();
    let (code, _, err) = import(&p.path, "diesel", &source.path);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "diesel runs 2018-06-01-000000-0000_b/up.sql before 2019-01-01-000000_a/up.sql, but \
             their versions (201806010000000000 and 20190101000000) are numbered the other way"
        ),
        "{err}"
    );
    assert!(!p.path.join("migrations").exists());
}

#[test]
fn the_json_report_lists_each_migration() {
    let source = TempDir::with_files(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);\n"),
        ("2_b.up.sql", "CREATE TABLE b (id int);\n"),
        ("2_b.down.sql", "DROP TABLE b;\n"),
    ]);
    let p = TempDir::new();
    make_project(&p.path);
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args(["--format", "json", "import", "--from", "golang-migrate"])
        .arg(&source.path));
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["command"], "import");
    assert_eq!(report["ok"], true);
    assert_eq!(report["from"], "golang-migrate");
    assert_eq!(report["imported"][0]["migration"], "migrations/V1__a.sql");
    assert_eq!(
        report["imported"][0]["irreversible"],
        "1_a.up.sql has no .down.sql"
    );
    assert_eq!(
        report["imported"][1]["irreversible"],
        serde_json::Value::Null
    );
}

/// diesel and sqlx keep their files in `migrations/`, pgstrata's own folder: importing from
/// there would mix both, so it is refused with the way out.
#[test]
fn importing_from_the_projects_own_migrations_folder_is_refused() {
    let p = TempDir::with_files(&[("migrations/1_a.up.sql", "SELECT 1;\n")]);
    let (code, _, err) = import(&p.path, "sqlx", &p.path.join("migrations"));
    assert_eq!(code, 2);
    assert!(
        err.contains("is the project's migrations/ folder (or inside it)")
            && err.contains("`git mv migrations sqlx-migrations`"),
        "{err}"
    );
    assert_eq!(names(&p, "migrations"), ["1_a.up.sql"]);
}

#[test]
fn a_diesel_metadata_value_diesel_would_refuse_is_refused() {
    let source = TempDir::with_files(&[
        ("2020-01-01-000000_a/up.sql", "CREATE TABLE a (id int);\n"),
        ("2020-01-01-000000_a/down.sql", "DROP TABLE a;\n"),
        (
            "2020-01-01-000000_a/metadata.toml",
            "run_in_transaction = \"no\"\n",
        ),
    ]);
    let p = TempDir::new();
    let (code, out, err) = import(&p.path, "diesel", &source.path);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("run_in_transaction must be true or false"),
        "{err}"
    );
    assert!(!p.path.join("migrations/V20200101000000__a.sql").exists());
}

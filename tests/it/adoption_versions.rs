//! Adopting pgstrata as a team: `init`, the refusal of a directory that is not a project,
//! timestamp versions, and migrations applied out of order (the history's out_of_order
//! column, its upgrade from format 1, `status`, `down`).

use std::fs;
use std::path::Path;

use crate::harness::{
    TempDir, TestDb, history, pgstrata, pgstrata_for, query_text, relation_exists, run,
};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The files and folders directly under `dir`, sorted, folders with a trailing `/`.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    names
}

#[test]
fn init_makes_the_layout_and_says_what_next() {
    let dir = TempDir::new();
    let project = dir.path.join("app");
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&project).arg("init"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        listing(&project),
        [
            "migrations/",
            "pgstrata.toml",
            "rollbacks/",
            "schema-snapshots/",
            "views/"
        ]
    );
    for line in [
        "created pgstrata.toml",
        "created migrations/",
        "created rollbacks/",
        "created views/",
        "created schema-snapshots/",
        "pgstrata new ",
        "DATABASE_URL",
        "pgstrata up",
        "pgstrata check",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let settings = fs::read_to_string(project.join("pgstrata.toml")).unwrap();
    assert!(
        settings.contains("\nversioning = \"timestamp\"\n"),
        "{settings}"
    );
    // The file it wrote is read back by the other commands: `new` numbers by timestamp.
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&project).args(["new", "first"]));
    assert_eq!(code, 0, "{err}");
    let version: String = out
        .trim_start_matches("created migrations/V")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(version.len(), 14, "{out}");
}

#[test]
fn init_overwrites_nothing_and_reports_what_it_kept() {
    let dir = TempDir::with_files(&[
        ("pgstrata.toml", "history_schema = \"mine\"\n"),
        ("views/v.sql", "CREATE VIEW v AS SELECT 1 AS one;\n"),
    ]);
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&dir.path)
        .args(["init", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let report = json(&out);
    assert_eq!(
        report["kept"],
        serde_json::json!(["pgstrata.toml", "views/"])
    );
    assert_eq!(
        report["created"],
        serde_json::json!(["migrations/", "rollbacks/", "schema-snapshots/"])
    );
    assert_eq!(
        fs::read_to_string(dir.path.join("pgstrata.toml")).unwrap(),
        "history_schema = \"mine\"\n"
    );
    assert_eq!(listing(&dir.path.join("views")), ["v.sql"]);
    // Twice: everything is kept, nothing changes.
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&dir.path).arg("init"));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("created"), "{out}");
    assert!(
        out.contains("kept schema-snapshots/ (already there)"),
        "{out}"
    );
    // An invalid settings file is kept too: init does not read it.
    fs::write(dir.path.join("pgstrata.toml"), "lockwait = 3\n").unwrap();
    let (code, _, err) = run(pgstrata().arg("--dir").arg(&dir.path).arg("init"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fs::read_to_string(dir.path.join("pgstrata.toml")).unwrap(),
        "lockwait = 3\n"
    );
    // --config names the settings file to write instead.
    let elsewhere = dir.path.join("ci.toml");
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&dir.path)
        .arg("--config")
        .arg(&elsewhere)
        .arg("init"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("created {}", elsewhere.display())),
        "{out}"
    );
    assert!(
        fs::read_to_string(&elsewhere)
            .unwrap()
            .contains("versioning = \"timestamp\"")
    );
}

#[test]
fn init_refuses_what_is_in_the_way_and_makes_nothing() {
    // A folder's name taken by a file.
    let dir = TempDir::with_files(&[("views", "not a folder\n")]);
    let (code, _, err) = run(pgstrata().arg("--dir").arg(&dir.path).arg("init"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("views exists and is not a folder"), "{err}");
    assert_eq!(listing(&dir.path), ["views"], "nothing was made");
    // A settings file that is a symlink to nothing.
    let dangling = TempDir::new();
    std::os::unix::fs::symlink("/nonexistent/x.toml", dangling.path.join("pgstrata.toml")).unwrap();
    let (code, _, err) = run(pgstrata().arg("--dir").arg(&dangling.path).arg("init"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a regular file"), "{err}");
    assert!(!dangling.path.join("migrations").exists());
    // --config in a folder that does not exist: refused before the project folder is made.
    let parent = TempDir::new();
    let project = parent.path.join("new-project");
    let (code, _, err) = run(pgstrata()
        .arg("--dir")
        .arg(&project)
        .arg("--config")
        .arg(project.join("conf/x.toml"))
        .arg("init"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not a folder"), "{err}");
    assert!(!project.exists(), "nothing was made");
}

#[test]
fn commands_outside_a_project_say_so_and_change_nothing() {
    let db = TestDb::new();
    // Folders of a project but not migrations/: still not one (an old `new` made two).
    let dir = TempDir::with_files(&[("views/v.sql", "CREATE VIEW v AS SELECT 1 AS one;\n")]);
    let commands: &[&[&str]] = &[
        &["up"],
        &["down"],
        &["redo"],
        &["status"],
        &["drift"],
        &["check"],
        &["lint"],
        &["new", "x"],
        &["snapshot", "--write"],
        &["adopt-refinery"],
        &["repair", "--version", "1", "--mark-applied"],
    ];
    for args in commands {
        let (code, out, err) = run(pgstrata_for(&db, &dir.path).args(*args));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("is not a pgstrata project: it has no pgstrata.toml and no migrations/")
                && err.contains("run `pgstrata init`"),
            "{args:?}: {err}"
        );
        let (code, out, _) = run(pgstrata_for(&db, &dir.path)
            .args(*args)
            .args(["--format", "json"]));
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(json(&out)["kind"], "not_a_project", "{args:?}");
    }
    assert_eq!(listing(&dir.path), ["views/"], "nothing was made");
    assert!(history(&mut db.connect()).is_empty());
    // Printing a database's schema needs no project.
    let (code, _, err) = run(pgstrata_for(&db, &dir.path).arg("snapshot"));
    assert_eq!(code, 0, "{err}");
    // A migrations/ folder alone makes a project (as before init existed), and so does a
    // pgstrata.toml alone: `new` makes its folders.
    fs::create_dir(dir.path.join("migrations")).unwrap();
    let (code, _, err) = run(pgstrata_for(&db, &dir.path).arg("status"));
    assert_eq!(code, 0, "{err}");
    let only_settings = TempDir::with_files(&[("pgstrata.toml", "")]);
    let (code, out, err) = run(pgstrata_for(&db, &only_settings.path).args(["new", "first"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created migrations/V1__first.sql"), "{out}");
}

#[test]
fn a_command_run_inside_a_project_points_at_it_instead_of_init() {
    let project = TempDir::with_files(&[("pgstrata.toml", ""), ("migrations/.keep", "")]);
    let inside = project.path.join("views");
    fs::create_dir(&inside).unwrap();
    let (code, out, err) = run(pgstrata().arg("--dir").arg(&inside).args(["new", "x"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("it is inside one"), "{err}");
    assert!(err.contains(&project.path.display().to_string()), "{err}");
    assert!(!err.contains("pgstrata init"), "{err}");
    assert_eq!(listing(&inside), Vec::<String>::new(), "nothing was made");
}

/// `date -u +%Y%m%d%H%M%S`.
fn utc_now() -> i64 {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y%m%d%H%M%S"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn new_numbers_by_utc_time_and_after_the_highest_version() {
    let dir = TempDir::with_files(&[
        ("pgstrata.toml", "versioning = \"timestamp\"\n"),
        ("migrations/V1__old.sql", "SELECT 1;\n"),
        ("rollbacks/V1__old.sql", "SELECT 1;\n"),
    ]);
    let new = |name: &str| {
        let (code, out, err) = run(pgstrata()
            .arg("--dir")
            .arg(&dir.path)
            .args(["new", name, "--format", "json"]));
        assert_eq!(code, 0, "{err}");
        json(&out)
    };
    let before = utc_now();
    let made = new("by_time");
    let after = utc_now();
    let version = made["version"].as_i64().unwrap();
    assert!(before <= version && version <= after, "{made}");
    assert_eq!(made["note"], serde_json::Value::Null);
    assert!(
        dir.path
            .join(format!("rollbacks/V{version}__by_time.sql"))
            .exists()
    );
    // A version from a clock ahead (or made in the same second): the next one, said so.
    fs::write(dir.path.join("migrations/V29991231235959__ahead.sql"), "").unwrap();
    let made = new("after_it");
    assert_eq!(made["version"], 29991231235960_i64, "{made}");
    let note = made["note"].as_str().unwrap();
    assert!(
        note.contains(
            "does not sort after the highest version, 29991231235959; numbered \
             29991231235960 instead"
        ),
        "{note}"
    );
    // Without the key, a project numbers sequentially, as it always did.
    let sequential = TempDir::with_files(&[("migrations/V7__seven.sql", "SELECT 1;\n")]);
    let (code, out, err) = run(pgstrata()
        .arg("--dir")
        .arg(&sequential.path)
        .args(["new", "eight"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created migrations/V8__eight.sql"), "{out}");
}

/// V1 and V3 applied; then V2 arrives from a branch merged late.
fn merged_late(db: &TestDb) -> TempDir {
    let project = TempDir::with_files(&[
        ("migrations/V1__one.sql", "CREATE TABLE one (id int);\n"),
        ("rollbacks/V1__one.sql", "DROP TABLE one;\n"),
        ("migrations/V3__three.sql", "CREATE TABLE three (id int);\n"),
        ("rollbacks/V3__three.sql", "DROP TABLE three;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    project.write("migrations/V2__late.sql", "CREATE TABLE late (id int);\n");
    project.write("rollbacks/V2__late.sql", "DROP TABLE late;\n");
    project
}

/// (version, out_of_order) of every history row.
fn out_of_order_rows(db: &TestDb) -> Vec<(i64, bool)> {
    db.connect()
        .query(
            "SELECT version, out_of_order FROM pgstrata.history ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[test]
fn out_of_order_is_refused_with_the_way_on_then_applied_with_the_flag() {
    let db = TestDb::new();
    let project = merged_late(&db);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    for expected in [
        "migrations/V2__late.sql is pending but migration 3 is already applied",
        "\n  git mv migrations/V2__late.sql migrations/V4__late.sql\n",
        "\n  git mv rollbacks/V2__late.sql rollbacks/V4__late.sql\n",
        "`pgstrata up --allow-out-of-order`",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["up", "--format", "json"]));
    assert_eq!(code, 2);
    assert_eq!(json(&out)["kind"], "out_of_order");
    assert!(!relation_exists(&mut db.connect(), "late"));
    // A dry run's JSON step says it would run out of order.
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args([
        "up",
        "--allow-out-of-order",
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["steps"][0]["out_of_order"], true, "{out}");
    let (_, out, _) = run(pgstrata_for(&db, &project.path).arg("status"));
    assert!(out.contains("pending (late)"), "{out}");
    assert!(out.contains("--allow-out-of-order"), "{out}");

    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["up", "--allow-out-of-order"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        format!("{out}{err}").contains("migration 2 (late) runs out of order, after migration 3"),
        "{out}{err}"
    );
    assert!(relation_exists(&mut db.connect(), "late"));
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, true), (3, false)]);

    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["status", "--exit-code"]));
    assert_eq!(code, 0, "applied out of order is still clean: {out}{err}");
    let line = out.lines().find(|l| l.starts_with("V2 ")).unwrap();
    assert!(line.contains("applied out of order"), "{out}");
    assert!(
        !out.lines()
            .find(|l| l.starts_with("V3 "))
            .unwrap()
            .contains("out of order")
    );
    let (_, out, _) = run(pgstrata_for(&db, &project.path).args(["status", "--format", "json"]));
    let versions = json(&out)["versions"].clone();
    let flags: Vec<(i64, bool)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["applied_out_of_order"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [(1, false), (2, true), (3, false)]);
}

#[test]
fn out_of_order_is_allowed_by_the_setting_and_the_variable() {
    let db = TestDb::new();
    let project = merged_late(&db);
    for no in ["false", "0", "no", "off"] {
        let (code, _, err) = run(pgstrata_for(&db, &project.path)
            .env("PGSTRATA_ALLOW_OUT_OF_ORDER", no)
            .arg("up"));
        assert_eq!(code, 2, "{no}: {err}");
        assert!(err.contains("is pending but migration 3"), "{no}: {err}");
    }
    let (code, _, err) = run(pgstrata_for(&db, &project.path)
        .env("PGSTRATA_ALLOW_OUT_OF_ORDER", "1")
        .arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, true), (3, false)]);

    let db = TestDb::new();
    let project = merged_late(&db);
    project.write("pgstrata.toml", "allow_out_of_order = true\n");
    let (_, out, _) = run(pgstrata_for(&db, &project.path).arg("status"));
    assert!(out.contains("`up` applies it out of order"), "{out}");
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, true), (3, false)]);
}

// `down` goes by version, newest first, whatever the order of applying: what remains is
// always migrations 1..n, the state `check` proved and a snapshot describes.
#[test]
fn down_after_out_of_order_goes_by_version() {
    let db = TestDb::new();
    let project = merged_late(&db);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--allow-out-of-order"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("V3"), "{out}");
    let mut client = db.connect();
    assert!(!relation_exists(&mut client, "three"));
    assert!(relation_exists(&mut client, "late"));
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, true)]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("down"));
    assert_eq!(code, 0, "{err}");
    assert!(!relation_exists(&mut client, "late"));
    assert_eq!(history(&mut client), [(1, "applied".to_string())]);
    // Up again: now in order.
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, false), (3, false)]);
}

// `check` proves the files in version order on a database of its own, whatever order a
// deployment applied them in.
#[test]
fn check_proves_an_out_of_order_project_in_version_order() {
    let db = TestDb::new();
    let project = merged_late(&db);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["check", "--write-snapshots"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("check"));
    assert_eq!(code, 0, "{out}{err}");
}

// A history made by a pgstrata of format 1 (no out_of_order column): read as it is by
// commands that only read, upgraded in place by the next locked run.
#[test]
fn a_format_1_history_is_read_then_upgraded_in_place() {
    let db = TestDb::new();
    let project = merged_late(&db);
    let mut client = db.connect();
    // Format 1's shape, exactly: the column and the format this build added taken away.
    client
        .batch_execute(
            "ALTER TABLE pgstrata.history DROP COLUMN out_of_order; \
             UPDATE pgstrata.meta SET format = 1",
        )
        .unwrap();
    let columns = || {
        query_text(
            &mut db.connect(),
            "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute \
             WHERE attrelid = 'pgstrata.history'::regclass AND attnum > 0 AND NOT attisdropped",
        )
    };
    assert_eq!(
        columns(),
        "version,name,checksum,rollback_checksum,applied_at,applied_by,execution_ms,state"
    );
    let format = || query_text(&mut db.connect(), "SELECT format::text FROM pgstrata.meta");
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("status"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pending (late)"), "{out}");
    assert_eq!(format(), "1", "status only reads");
    // A dry run changes nothing either.
    let (code, _, err) =
        run(pgstrata_for(&db, &project.path).args(["up", "--dry-run", "--allow-out-of-order"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(format(), "1", "a dry run changes nothing");

    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["up", "--allow-out-of-order"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(format(), "2");
    assert!(columns().ends_with(",state,out_of_order"), "{}", columns());
    assert_eq!(out_of_order_rows(&db), [(1, false), (2, true), (3, false)]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["down", "--to", "0"]));
    assert_eq!(code, 0, "{err}");
    assert!(history(&mut client).is_empty());
}

// A deploy with nothing to apply still upgrades a format-1 history: its quick unlocked path
// is only for tables in this build's format.
#[test]
fn a_no_op_up_upgrades_a_format_1_history() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__one.sql", "CREATE TABLE one (id int);\n"),
        ("rollbacks/V1__one.sql", "DROP TABLE one;\n"),
    ]);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    db.connect()
        .batch_execute(
            "ALTER TABLE pgstrata.history DROP COLUMN out_of_order; \
             UPDATE pgstrata.meta SET format = 1",
        )
        .unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("nothing to do") || out.contains("0 migrations"),
        "{out}"
    );
    assert_eq!(
        query_text(&mut db.connect(), "SELECT format::text FROM pgstrata.meta"),
        "2"
    );
    assert_eq!(out_of_order_rows(&db), [(1, false)]);
}

//! `--targets FILE`: a fleet of databases on the harness's server, migrated `--jobs` at a time;
//! a rerun that does nothing; broken and unreachable targets reported while the others proceed
//! (`--keep-going`) or stopping new ones (the default); canaries; exit codes; the JSON report;
//! status, drift and snapshot over a fleet; schema-per-tenant; no password in any output.

use std::path::Path;

use serde_json::Value;

use crate::harness::{
    TempDir, TestDb, history, pgstrata, pgstrata_for, relation_exists, run, send_signal,
    sleeping_project, someone_sleeps, wait_until,
};

/// Two migrations and a view: something to apply, and a second version to move to.
fn project() -> TempDir {
    TempDir::with_files(&[
        (
            "migrations/V1__items.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY);\n",
        ),
        ("rollbacks/V1__items.sql", "DROP TABLE items;\n"),
        (
            "migrations/V2__names.sql",
            "ALTER TABLE items ADD COLUMN name text;\n",
        ),
        (
            "rollbacks/V2__names.sql",
            "ALTER TABLE items DROP COLUMN name;\n",
        ),
        (
            "views/item_names.sql",
            "CREATE VIEW item_names AS SELECT id FROM items;\n",
        ),
    ])
}

/// `n` fresh databases.
fn databases(n: usize) -> Vec<TestDb> {
    (0..n).map(|_| TestDb::new()).collect()
}

/// A targets file (one connection string per line, with a comment and a blank line) in `dir`.
fn targets_file(dir: &TempDir, lines: &[String]) -> String {
    let text = format!("# the fleet\n\n{}\n", lines.join("\n"));
    dir.write("fleet.txt", &text);
    dir.path.join("fleet.txt").display().to_string()
}

fn conninfos(dbs: &[TestDb]) -> Vec<String> {
    dbs.iter().map(|db| db.conninfo.clone()).collect()
}

/// `pgstrata --dir DIR --targets FILE ARGS…`.
fn fleet(dir: &Path, file: &str, args: &[&str]) -> (i32, String, String) {
    run(pgstrata()
        .arg("--dir")
        .arg(dir)
        .arg("--targets")
        .arg(file)
        .args(args))
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn results(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["result"].as_str().unwrap().to_string())
        .collect()
}

fn versions(db: &TestDb) -> Vec<i64> {
    history(&mut db.connect())
        .into_iter()
        .map(|(v, _)| v)
        .collect()
}

/// An address where nothing listens: a socket folder that does not exist.
const UNREACHABLE: &str = "host=/nonexistent/pgstrata-fleet dbname=nowhere user=postgres";

#[test]
fn a_hundred_databases_are_migrated_and_a_rerun_is_a_no_op() {
    let project = project();
    let dbs = databases(100);
    let file = targets_file(&project, &conninfos(&dbs));
    let (code, stdout, stderr) = fleet(&project.path, &file, &["up"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for db in &dbs {
        assert_eq!(versions(db), [1, 2], "{}", db.name);
        assert!(relation_exists(&mut db.connect(), "item_names"));
    }
    // A line per target as it finishes, then the table and the tally.
    let finished = stdout
        .lines()
        .filter(|l| l.starts_with("ok ") && l.ends_with(": applied 2 migrations, changed 1 view"))
        .count();
    assert_eq!(finished, 100, "{stdout}");
    let table = stdout.lines().skip_while(|l| !l.starts_with("result "));
    assert_eq!(table.filter(|l| l.starts_with("ok ")).count(), 100);
    assert!(stdout.contains("- → V2"), "{stdout}");
    assert!(
        stdout.contains("100 targets in") && stdout.contains("4 at a time): 100 ok"),
        "{stdout}"
    );

    // Again: only what is pending, which is nothing.
    let (code, stdout, stderr) = fleet(&project.path, &file, &["--format", "json", "up"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = json(&stdout);
    assert_eq!(report["command"], "up");
    assert_eq!(report["fleet"], true);
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["counts"]["ok"], 100);
    for target in report["targets"].as_array().unwrap() {
        assert_eq!(target["result"], "ok");
        assert_eq!(target["summary"], "nothing to do");
        assert_eq!(
            (target["before"].as_i64(), target["after"].as_i64()),
            (Some(2), Some(2))
        );
        assert_eq!(target["report"]["steps"].as_array().unwrap().len(), 0);
    }
    // Progress lines go to stderr beside a JSON report.
    assert_eq!(stderr.lines().filter(|l| l.starts_with("ok ")).count(), 100);
}

/// One database whose migration fails (a table of that name is there already) and one that
/// cannot be reached, among good ones.
fn broken_fleet(good: usize) -> (Vec<TestDb>, TestDb) {
    let broken = TestDb::new();
    broken
        .connect()
        .batch_execute("CREATE TABLE items (x int)")
        .unwrap();
    (databases(good), broken)
}

#[test]
fn broken_and_unreachable_targets_fail_while_the_others_proceed_with_keep_going() {
    let project = project();
    let (good, broken) = broken_fleet(4);
    let mut lines = conninfos(&good);
    lines.insert(1, broken.conninfo.clone());
    lines.insert(3, UNREACHABLE.to_string());
    let file = targets_file(&project, &lines);
    let (code, stdout, stderr) = fleet(
        &project.path,
        &file,
        &["--format", "json", "up", "--keep-going", "--jobs", "2"],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let report = json(&stdout);
    assert_eq!(
        results(&report),
        ["ok", "failed", "ok", "failed", "ok", "ok"],
        "{stdout}"
    );
    assert_eq!(report["exit_code"], 2);
    assert_eq!(report["ok"], false);
    assert_eq!(report["counts"]["failed"], 2);
    let broken_report = &report["targets"][1];
    assert_eq!(broken_report["kind"], "database", "{broken_report}");
    assert!(
        broken_report["error"]
            .as_str()
            .unwrap()
            .contains("V1__items.sql"),
        "{broken_report}"
    );
    assert_eq!(report["targets"][3]["kind"], "connection");
    for db in &good {
        assert_eq!(versions(db), [1, 2]);
    }
    assert!(versions(&broken).is_empty());
}

#[test]
fn without_keep_going_a_failure_starts_no_new_target() {
    let project = project();
    let (good, broken) = broken_fleet(4);
    let mut lines = conninfos(&good);
    lines.insert(1, broken.conninfo.clone());
    let file = targets_file(&project, &lines);
    let (code, stdout, stderr) = fleet(&project.path, &file, &["up", "--jobs", "1"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    // The table: the first migrated, the broken one failed, the rest never started.
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("result "))
        .skip(1)
        .take(5)
        .map(|l| l[..11].trim())
        .collect();
    assert_eq!(
        table,
        ["ok", "failed", "not started", "not started", "not started"],
        "{stdout}"
    );
    assert!(stdout.contains("error: "), "{stdout}");
    assert!(stdout.contains("1 ok, 1 failed, 3 not started"), "{stdout}");
    assert_eq!(versions(&good[0]), [1, 2]);
    for db in &good[1..] {
        assert!(versions(db).is_empty(), "{}", db.name);
    }
}

#[test]
fn a_failing_canary_stops_the_rest_even_with_keep_going() {
    let project = project();
    let (good, broken) = broken_fleet(3);
    let mut lines = conninfos(&good);
    lines.insert(0, broken.conninfo.clone());
    let file = targets_file(&project, &lines);
    let (code, stdout, _) = fleet(
        &project.path,
        &file,
        &["--format", "json", "up", "--canary", "1", "--keep-going"],
    );
    assert_eq!(code, 2);
    let report = json(&stdout);
    assert_eq!(
        results(&report),
        ["failed", "not_started", "not_started", "not_started"]
    );
    assert!(good.iter().all(|db| versions(db).is_empty()));

    // Good canaries: the rest follow.
    let file = targets_file(&project, &conninfos(&good));
    let (code, stdout, _) = fleet(&project.path, &file, &["up", "--canary", "2"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2 first alone): 3 ok"), "{stdout}");
    assert!(good.iter().all(|db| versions(db) == [1, 2]));
}

#[test]
fn status_drift_and_snapshot_over_a_fleet() {
    let project = project();
    let dbs = databases(3);
    let file = targets_file(&project, &conninfos(&dbs));
    // The command's own flags reach every target: a dry run changes nothing anywhere.
    let (code, stdout, _) = fleet(&project.path, &file, &["up", "--dry-run"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout.matches(": would apply 2 migrations").count(),
        3,
        "{stdout}"
    );
    assert!(dbs.iter().all(|db| versions(db).is_empty()));
    assert_eq!(fleet(&project.path, &file, &["up", "--to", "1"]).0, 0);
    // One pending migration each: not clean, exit 1 with --exit-code.
    let (code, stdout, _) = fleet(&project.path, &file, &["status", "--exit-code"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        stdout.matches("not clean: 1 pending").count(),
        3,
        "{stdout}"
    );
    assert_eq!(fleet(&project.path, &file, &["up"]).0, 0);
    let (code, stdout, _) = fleet(&project.path, &file, &["status", "--exit-code"]);
    assert_eq!(code, 0, "{stdout}");

    // The committed snapshot of V2 (the head: schema.sql, beside its delta), from one of them.
    let (code, _, stderr) = run(pgstrata_for(&dbs[0], &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = fleet(&project.path, &file, &["drift"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout
            .matches("no drift from schema-snapshots/schema.sql")
            .count(),
        3
    );

    // A hand-made change on one: that target drifts, the others do not, exit 1.
    dbs[2]
        .connect()
        .batch_execute("CREATE TABLE hand_made (id int)")
        .unwrap();
    let (code, stdout, _) = fleet(&project.path, &file, &["--format", "json", "drift"]);
    assert_eq!(code, 1, "{stdout}");
    let report = json(&stdout);
    assert_eq!(results(&report), ["ok", "ok", "found"]);
    assert_eq!(report["targets"][2]["after"], 2);
    assert!(
        report["targets"][2]["summary"]
            .as_str()
            .unwrap()
            .starts_with("drift: 1 object differs from"),
        "{report}"
    );

    // Snapshots: two distinct schemas, the hand-made one alone.
    let (code, stdout, _) = fleet(&project.path, &file, &["--format", "json", "snapshot"]);
    assert_eq!(code, 0, "{stdout}");
    let report = json(&stdout);
    let schemas = report["schemas"].as_array().unwrap();
    assert_eq!(schemas.len(), 2, "{report}");
    assert_eq!(schemas[0]["targets"].as_array().unwrap().len(), 2);
    assert!(report["targets"][0]["report"].get("snapshot").is_none());
}

#[test]
fn passwords_in_the_targets_file_are_never_printed() {
    let project = project();
    let dbs = databases(2);
    let secret = "s3cr3t-fleet-pw";
    // The harness's server trusts its socket, so a password given is ignored, not refused.
    let lines = vec![
        format!("{} password={secret}", dbs[0].conninfo),
        format!("{} password={secret}", dbs[1].conninfo),
        format!("postgres://postgres:{secret}@127.0.0.1:1/nowhere?connect_timeout=5"),
    ];
    let file = targets_file(&project, &lines);
    for format in ["text", "json"] {
        let (code, stdout, stderr) = fleet(
            &project.path,
            &file,
            &["--format", format, "up", "--keep-going"],
        );
        assert_eq!(code, 2, "{stdout}\n{stderr}");
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{stdout}\n{stderr}"
        );
        assert!(stdout.contains("password=***"), "{stdout}");
        assert!(
            stdout.contains("postgres://postgres:***@127.0.0.1:1/nowhere"),
            "{stdout}"
        );
    }
    // A line that does not parse is named by its number, not quoted.
    let file = targets_file(&project, &[format!("host=h port={secret}")]);
    let (code, _, stderr) = fleet(&project.path, &file, &["up"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("line 3: not a connection string"),
        "{stderr}"
    );
    assert!(!stderr.contains(secret), "{stderr}");
}

#[test]
fn fleet_flags_are_refused_where_they_cannot_work() {
    let project = project();
    let db = TestDb::new();
    let file = targets_file(&project, std::slice::from_ref(&db.conninfo));
    let refused = |args: &[&str], words: &str| {
        let (code, stdout, stderr) = run(pgstrata().arg("--dir").arg(&project.path).args(args));
        assert_eq!(code, 2, "{args:?}: {stdout}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    };
    refused(
        &["--targets", &file, "--database-url", &db.conninfo, "up"],
        "give one or the other",
    );
    refused(&["--targets", &file, "check"], "not check");
    refused(&["--targets", &file, "redo"], "not redo");
    refused(
        &["--targets", &file, "snapshot", "--write"],
        "from one database",
    );
    refused(&["--jobs", "2", "up"], "--jobs works with --targets");
    refused(
        &["--targets", &file, "up", "--jobs", "0"],
        "not a number of jobs",
    );
    refused(
        &["--targets", "/nonexistent/fleet.txt", "up"],
        "reading the targets file",
    );
    project.write(
        "pgstrata.toml",
        "[env.prod]\ndatabase_url = \"host=/x dbname=y\"\n",
    );
    refused(
        &["--targets", &file, "--env", "prod", "up"],
        "names a database",
    );
    // Nothing ran.
    assert!(versions(&db).is_empty());
}

#[test]
fn schema_per_tenant_is_a_toml_fleet_with_a_search_path_and_a_history_schema_each() {
    let project = project();
    let db = TestDb::new();
    db.connect()
        .batch_execute("CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b;")
        .unwrap();
    let tenant = |name: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nurl = \"{} options='-csearch_path={name}'\"\n\
             history_schema = \"pgstrata_{name}\"\n",
            db.conninfo
        )
    };
    project.write(
        "tenants.toml",
        &format!("{}\n{}", tenant("tenant_a"), tenant("tenant_b")),
    );
    let file = project.path.join("tenants.toml").display().to_string();
    let (code, stdout, stderr) = fleet(&project.path, &file, &["up"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok ") && l.contains(" tenant_a: ")),
        "{stdout}"
    );
    let mut client = db.connect();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'items' \
             AND schemaname IN ('tenant_a', 'tenant_b')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 2);
    for history in ["pgstrata_tenant_a", "pgstrata_tenant_b"] {
        let applied: i64 = client
            .query_one(&format!("SELECT count(*) FROM {history}.history"), &[])
            .unwrap()
            .get(0);
        assert_eq!(applied, 2, "{history}");
    }
    let (code, stdout, _) = fleet(&project.path, &file, &["status", "--exit-code"]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn sigterm_starts_no_new_target_and_stops_the_running_ones() {
    let project = sleeping_project();
    let dbs = databases(4);
    let file = targets_file(&project, &conninfos(&dbs));
    let mut child = pgstrata()
        .arg("--dir")
        .arg(&project.path)
        .args(["--targets", &file, "--format", "json", "up", "--jobs", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = dbs[0].connect();
    wait_until("two targets to sleep", || {
        dbs[..2]
            .iter()
            .all(|db| someone_sleeps(&mut client, &db.name))
    });
    // Only the fleet gets it (as from Kubernetes or CI), not its children.
    assert_eq!(send_signal(&mut child, libc::SIGTERM), 143);
    let output = child.wait_with_output().unwrap();
    let report = json(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(
        results(&report),
        ["interrupted", "interrupted", "not_started", "not_started"]
    );
    for db in &dbs {
        assert!(!relation_exists(&mut db.connect(), "s"), "{}", db.name);
        assert!(!someone_sleeps(&mut client, &db.name));
    }
}

#[test]
fn passwords_come_from_the_environment_never_from_the_file() {
    use std::os::unix::fs::{MetadataExt, chown};
    const PASSWORD: &str = "fleet-Tr0ub4dor&3";
    // A server of its own: the harness's trusts every local connection, so it would take any
    // password, or none.
    let port = pgstrata::scratch::free_tcp_port().unwrap();
    let server = pgstrata::scratch::ScratchServer::start_with(&[
        ("listen_addresses", "127.0.0.1"),
        ("port", &port.to_string()),
    ])
    .unwrap();
    let hba = server.dir().join("data").join("pg_hba.conf");
    let owner = std::fs::metadata(&hba).unwrap();
    let initdb_lines = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("host all pwuser 127.0.0.1/32 scram-sha-256\n{initdb_lines}"),
    )
    .unwrap();
    chown(&hba, Some(owner.uid()), Some(owner.gid())).unwrap();
    let mut admin = server.connect("postgres").unwrap();
    for sql in [
        &format!("CREATE ROLE pwuser LOGIN PASSWORD '{PASSWORD}'"),
        "CREATE DATABASE fleet_pw OWNER pwuser",
        "SELECT pg_reload_conf()",
    ] {
        admin.batch_execute(sql).unwrap();
    }
    let project = project();
    let target = format!("host=127.0.0.1 port={port} user=pwuser dbname=fleet_pw sslmode=disable");
    let file = targets_file(&project, std::slice::from_ref(&target));
    let up = |password: Option<&str>| {
        let mut command = pgstrata();
        command.arg("--dir").arg(&project.path);
        command.args(["--targets", &file, "up"]);
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        run(&mut command)
    };
    // pg_reload_conf is asynchronous: wait until the password is asked for.
    wait_until("scram-sha-256 for pwuser", || up(None).0 == 2);
    let (code, stdout, stderr) = up(None);
    assert!(stdout.contains("failed "), "{stdout}\n{stderr}");
    let (code_ok, stdout, stderr) = up(Some(PASSWORD));
    assert_eq!((code, code_ok), (2, 0), "{stdout}\n{stderr}");
    assert!(stdout.contains("applied 2 migrations"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    // A wrong one from the environment is refused by the server, and not printed either.
    let (code, stdout, stderr) = up(Some("wrong-s3cr3t"));
    assert_eq!(code, 2);
    assert!(
        stdout.contains("password authentication failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("wrong-s3cr3t") && !stderr.contains("wrong-s3cr3t"));
}

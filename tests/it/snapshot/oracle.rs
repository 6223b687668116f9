//! The pg_dump oracle (issue 13): a snapshot loaded into an empty database must give the
//! same `pg_dump --schema-only --no-owner` as the database it was taken from. The dumps are
//! compared entry by entry (each `-- Name: ...; Type: ...; Schema: ...` entry, its comment
//! lines and `SET` lines left out), in any order: an entry of the original that the copy
//! lacks or has otherwise is something the snapshot missed.
//!
//! Each fixture's test also restores the original's dump into an empty database: a no-op
//! rebuild, whose snapshot must be the original's.
//!
//! Each fixture is one test (`oracle!` below: add a line to add a fixture). What a snapshot
//! knowingly leaves out is in [`ALLOWED`], each entry with its reason (README, "what a
//! snapshot leaves out"); any other difference fails, and so does an allowance no fixture
//! needs any more.

use std::collections::BTreeMap;

use super::{every_kind_sql, role, run_sql, snapshot};
use pgstrata::snapshot::compare;

use crate::harness::{TempDir, TestDb, fixture, pg_dump, psql, run};

/// Differences a snapshot makes on purpose: (fixture, the entry's `Name: ...; Type: ...;
/// Schema: ...` line, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "pagila",
        "public; Type: SCHEMA; Schema: -",
        // pagila runs ALTER SCHEMA public OWNER TO postgres. pg_dump writes an entry for the
        // public schema when its owner is not pg_database_owner (empty under --no-owner: it
        // only says it does not create the schema); owners stay out of snapshots on purpose.
        "the public schema's owner",
    ),
    (
        "left_out",
        "heap_copy; Type: ACCESS METHOD; Schema: -",
        // Objects of the whole database whose handler is C code of an extension or of the
        // server: rare outside extensions (whose CREATE EXTENSION makes them), and a
        // baseline refuses them.
        "access methods",
    ),
    (
        "left_out",
        "plcopy; Type: PROCEDURAL LANGUAGE; Schema: -",
        // As access methods: languages come with extensions (plpgsql, plperl...).
        "procedural languages",
    ),
    (
        "every_kind",
        "USER MAPPING postgres SERVER loopback; Type: USER MAPPING; Schema: -",
        // A mapping's password (and other secret options) never reaches a snapshot file: it
        // differs between environments, like an owner (README, "Passwords and other secrets").
        "the user mapping's password",
    ),
    (
        "every_kind",
        "app_ddl; Type: EVENT TRIGGER; Schema: -",
        // The tags of WHEN TAG IN are a set: the server keeps them in the order written and
        // pg_dump prints them so; a snapshot sorts them (their order is history, not schema).
        "an event trigger's tags, sorted",
    ),
];

/// How a fixture's schema is loaded.
enum Source {
    /// The every-kind fixture (`snapshot_every_kind/`).
    EveryKind,
    /// A file run as one batch.
    Sql(&'static str),
    /// A file run by psql (pg_dump output with `\` commands and COPY).
    Psql(&'static str),
}

fn load(db: &TestDb, source: &Source) {
    match source {
        Source::EveryKind => run_sql(db, &every_kind_sql(db)),
        Source::Sql(path) => {
            let sql = std::fs::read_to_string(fixture(path)).unwrap();
            run_sql(db, &sql.replace("__ROLE__", &role(db)));
        }
        Source::Psql(path) => {
            let (code, out, err) = run(psql(db).arg("-f").arg(fixture(path)));
            assert_eq!(code, 0, "loading {path}: {out}{err}");
        }
    }
}

/// `pg_dump --schema-only --no-owner` of `db`.
fn dump(db: &TestDb) -> String {
    let (code, out, err) = run(pg_dump(db).args(["--schema-only", "--no-owner"]));
    assert_eq!(code, 0, "pg_dump of {}: {err}", db.name);
    out
}

/// A dump's entries: the `Name: ...; Type: ...; Schema: ...` line (the owner left out) and
/// the statements under it, without comments, `SET` lines, `\restrict` lines and empty lines;
/// each with how many times it occurs (two operators of one name have one Name line each).
fn entries(dump: &str) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut body = String::new();
    let mut flush = |name: &mut Option<String>, body: &mut String| {
        if let Some(name) = name.take() {
            *out.entry((name, std::mem::take(body))).or_insert(0) += 1;
        }
        body.clear();
    };
    for line in dump.lines() {
        if let Some(header) = line.strip_prefix("-- Name: ") {
            flush(&mut name, &mut body);
            let header = header.split("; Owner:").next().unwrap_or(header);
            name = Some(header.to_string());
            continue;
        }
        let skip = line.is_empty()
            || line.starts_with("--")
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config(")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict");
        if !skip && name.is_some() {
            body.push_str(&sorted_storage_parameters(line));
            body.push('\n');
        }
    }
    flush(&mut name, &mut body);
    out
}

/// `line` with the storage parameters of each `WITH (a='1', b='2')` sorted. The server keeps
/// them in the order they were set and pg_dump prints them so; a snapshot sorts them (their
/// order is history, not schema), so the copy has them sorted. A `)` inside a value would
/// end the list early: no fixture has one.
fn sorted_storage_parameters(line: &str) -> String {
    let Some(start) = line.find("WITH (") else {
        return line.to_string();
    };
    let open = start + "WITH (".len();
    let Some(length) = line[open..].find(')') else {
        return line.to_string();
    };
    let mut items: Vec<&str> = line[open..open + length].split(", ").collect();
    items.sort_unstable();
    let rest = sorted_storage_parameters(&line[open + length..]);
    format!("{}{}{rest}", &line[..open], items.join(", "))
}

/// The entries of `a` that `b` lacks (or has fewer times), as (Name line, statements).
fn lacking<'a>(
    a: &'a BTreeMap<(String, String), usize>,
    b: &BTreeMap<(String, String), usize>,
) -> Vec<&'a (String, String)> {
    a.iter()
        .filter(|(entry, count)| b.get(*entry).is_none_or(|other| other < count))
        .map(|(entry, _)| entry)
        .collect()
}

/// Builds the fixture, loads its snapshot into an empty database, and compares the dumps.
fn assert_dumps_alike(name: &str, source: Source, restore: bool) {
    let original = TestDb::new();
    load(&original, &source);
    let text = snapshot(&original);
    let copy = TestDb::new();
    run_sql(&copy, &text);
    let original_dump = dump(&original);
    let (before, after) = (entries(&original_dump), entries(&dump(&copy)));
    assert!(before.len() >= 3, "the dump of {name} is nearly empty");
    if restore {
        assert_restore_is_a_no_op(name, &original_dump, &text);
    }
    let allowed: Vec<&str> = ALLOWED
        .iter()
        .filter(|(fixture, _, _)| *fixture == name)
        .map(|(_, entry, _)| *entry)
        .collect();
    let mut used = vec![false; allowed.len()];
    let mut report = String::new();
    for (side, entries) in [
        ("missing or different in the copy", lacking(&before, &after)),
        ("extra or different in the copy", lacking(&after, &before)),
    ] {
        for (header, body) in entries {
            match allowed.iter().position(|a| a == header) {
                Some(at) => used[at] = true,
                None => report.push_str(&format!("{side}: -- Name: {header}\n{body}\n")),
            }
        }
    }
    for (entry, used) in allowed.iter().zip(used) {
        if !used {
            report.push_str(&format!("allowed but no longer different: {entry}\n"));
        }
    }
    assert!(report.is_empty(), "{name}: the dumps differ\n{report}");
}

/// A no-op rebuild: the dump restored into an empty database (by psql, as pg_restore's
/// plain format is) snapshots as the original, though it creates everything in pg_dump's
/// order and with pg_dump's spelling.
fn assert_restore_is_a_no_op(name: &str, dump: &str, text: &str) {
    let restored = TestDb::new();
    let dir = TempDir::with_files(&[("dump.sql", dump)]);
    let (code, out, err) = run(psql(&restored).arg("-f").arg(dir.path.join("dump.sql")));
    assert_eq!(code, 0, "restoring the dump of {name}: {out}{err}");
    // pg_dump does not keep an extension's version: the restore makes the default one.
    let without_versions = |text: &str| {
        text.lines()
            .map(|line| match line.split_once(" VERSION '") {
                Some((create, _)) if line.starts_with("CREATE EXTENSION ") => create.to_string(),
                _ => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (text, again) = (
        without_versions(text),
        without_versions(&snapshot(&restored)),
    );
    let comparison = compare(&text, &again, "original", "dump restored");
    assert!(
        comparison.is_same(),
        "{name}: a dump and restore changed the snapshot:\n{}",
        comparison.unified
    );
}

/// One test per fixture: `name: source, restore;` where `restore` says whether pg_dump's
/// own output restores (for the no-op rebuild).
macro_rules! oracle {
    ($($name:ident: $source:expr, $restore:expr;)*) => {
        $(#[test] fn $name() { assert_dumps_alike(stringify!($name), $source, $restore); })*
    };
}

oracle! {
    every_kind: Source::EveryKind, true;
    unusual: Source::Sql("snapshot_unusual/schema.sql"), true;
    rollback_order: Source::Sql("baseline/rollback_order/schema.sql"), true;
    pagila: Source::Psql("baseline/pagila/pagila-schema.sql"), true;
    adventureworks: Source::Psql("baseline/adventureworks/install.sql"), true;
    // pg_dump writes the language without its handler, which only an extension's control
    // file can supply: its own dump does not restore.
    left_out: Source::Sql("snapshot_oracle/left_out.sql"), false;
}

#[test]
fn storage_parameters_are_compared_as_a_set() {
    assert_eq!(
        sorted_storage_parameters("WITH (fillfactor='80', autovacuum_enabled='false');"),
        "WITH (autovacuum_enabled='false', fillfactor='80');"
    );
    assert_eq!(
        sorted_storage_parameters(
            "CREATE INDEX i ON t (a) WITH (b='1', a='2') WHERE (x) WITH (d='1', c='2')"
        ),
        "CREATE INDEX i ON t (a) WITH (a='2', b='1') WHERE (x) WITH (c='2', d='1')"
    );
    assert_eq!(
        sorted_storage_parameters("CREATE TABLE t ();"),
        "CREATE TABLE t ();"
    );
}

#[test]
fn the_oracle_sees_a_difference_in_one_entry() {
    // The comparison itself: an entry changed, one missing, one duplicated.
    let a = "-- Name: t; Type: TABLE; Schema: app; Owner: x\n--\n\nCREATE TABLE app.t (a int);\n\
             -- Name: u; Type: TABLE; Schema: app; Owner: -\nCREATE TABLE app.u ();\n";
    let b = "SET x = 1;\n-- Name: t; Type: TABLE; Schema: app; Owner: -\n\nCREATE TABLE app.t (a bigint);\n";
    let (a, b) = (entries(a), entries(b));
    let missing: Vec<&str> = lacking(&a, &b).iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        missing,
        ["t; Type: TABLE; Schema: app", "u; Type: TABLE; Schema: app"]
    );
    assert_eq!(lacking(&b, &b), Vec::<&(String, String)>::new());
    let twice = entries(&format!(
        "{}{}",
        "-- Name: o; Type: OPERATOR\nX\n", "-- Name: o; Type: OPERATOR\nX\n"
    ));
    let once = entries("-- Name: o; Type: OPERATOR\nX\n");
    assert_eq!(lacking(&twice, &once).len(), 1);
}

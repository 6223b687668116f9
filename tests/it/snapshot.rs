//! Schema snapshots: determinism, coverage of every object kind, the executable round trip.
//!
//! Every test builds its schema in a fresh database on the shared scratch server. The
//! fixture `tests/fixtures/snapshot_every_kind/` (`schema.sql`, then a file per group of
//! kinds) holds one object of every kind; `mutations` and `operators` change one property of
//! it at a time.

mod determinism;
mod members;
mod mutations;
mod operators;
mod oracle;
mod round_trip;
mod wide;

use std::fs;

use pgstrata::db::quote_ident;
use pgstrata::snapshot::{self, SnapshotOptions};

use crate::harness::{TestDb, fixture};

/// What `pgstrata` passes: its own history schema left out.
pub fn options() -> SnapshotOptions {
    SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    }
}

/// The snapshot text of a test database.
pub fn snapshot(db: &TestDb) -> String {
    let mut client = db.connect();
    snapshot::take(&mut client, &options())
        .expect("taking a snapshot")
        .render()
}

/// Runs SQL in a test database, panicking with the server's message.
pub fn run_sql(db: &TestDb, sql: &str) {
    db.connect()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("running SQL in {}: {e:?}\n{sql}", db.name));
}

/// A role unique to this test's database (roles are cluster-wide), created if need be;
/// returns its name quoted for SQL.
pub fn role(db: &TestDb) -> String {
    let mut name = format!("r_{}", db.name);
    name.truncate(63);
    let role = quote_ident(&name);
    run_sql(
        db,
        &format!(
            "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ),
    );
    role
}

/// The every-kind fixture with its role placeholder filled in for this database:
/// `schema.sql`, then the folder's other `.sql` files by name (a file per group of kinds).
pub fn every_kind_sql(db: &TestDb) -> String {
    let folder = fixture("snapshot_every_kind");
    let mut others: Vec<_> = fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("listing {}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "sql") && !path.ends_with("schema.sql")
        })
        .collect();
    others.sort();
    let mut sql = String::new();
    for path in std::iter::once(folder.join("schema.sql")).chain(others) {
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        sql.push_str(&text);
        sql.push('\n');
    }
    sql.replace("__ROLE__", &role(db))
}

/// Loads `text` (a snapshot) into a fresh database and asserts that its snapshot is `text`.
pub fn assert_round_trip(text: &str) {
    let copy = TestDb::new();
    run_sql(&copy, text);
    let again = snapshot(&copy);
    let comparison = snapshot::compare(text, &again, "loaded snapshot", "its snapshot");
    assert!(
        comparison.is_same(),
        "loading a snapshot and taking it again changed it:\n{}",
        comparison.unified
    );
}

//! The repository's own migrations solve the seed documents' problems (see ../shared/seeds):
//! one module per seed, each proving on a real PostgreSQL that its problem is gone, plus the
//! round trips every version must survive. Databases are migrated only through
//! `harness::up`/`harness::down`, so these tests keep working when the harness switches from
//! its placeholder to pgstrata's runner.

mod album_sync;
mod album_sync_stress;
mod generated_images;
mod image_metadata;
mod offering_images;
mod round_trip;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::{Client, Error, GenericClient};

use crate::harness::{self, TestDb};

/// A fresh database with the repository's migrations applied up to version `to`.
fn migrated_to(to: i64) -> TestDb {
    let db = TestDb::new();
    harness::up(&db, &harness::repository(), Some(to));
    db
}

fn up_to(db: &TestDb, to: i64) {
    harness::up(db, &harness::repository(), Some(to));
}

fn down_to(db: &TestDb, to: i64) {
    harness::down(db, &harness::repository(), to);
}

/// Runs `f`, which must panic (a migration or rollback that refuses), and returns the panic
/// message.
fn expect_refusal(what: &str, f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f))
        .err()
        .unwrap_or_else(|| panic!("{what} should have been refused"));
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The SQLSTATE of a failed statement.
fn sqlstate(err: &Error) -> Option<&SqlState> {
    err.code()
}

/// A deadlock or serialization failure: the transaction may simply be run again.
fn is_retryable(err: &Error) -> bool {
    matches!(
        sqlstate(err),
        Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

fn backend_pid(client: &mut Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

/// Waits until backend `pid` is blocked waiting for a lock (so an interleaving is really the
/// one a test describes, not the result of timing).
fn wait_until_blocked(observer: &mut Client, pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: Option<String> = observer
            .query_one(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if waiting.as_deref() == Some("Lock") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "backend {pid} never waited for a lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One text column of every row of `sql`, in the query's order.
fn texts(client: &mut impl GenericClient, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// One bigint (e.g. a count) from the first row of `sql`.
fn count(client: &mut impl GenericClient, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// A small deterministic PRNG (xorshift64*) for the stress tests; the crate has no `rand`.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

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

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
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

/// Seed 000's sync, as the repository's hand-written V2 or as `pgstrata sync new` generates it
/// from sync/image_details.toml: the seed tests of album sync run on both.
pub(super) struct AlbumSync {
    pub project: PathBuf,
    /// The images -> album rows function and the album row -> images one.
    pub fan_out: &'static str,
    pub to_parent: &'static str,
}

impl AlbumSync {
    fn hand_written() -> AlbumSync {
        AlbumSync {
            project: harness::repository(),
            fan_out: "sync_image_details_to_album_images",
            to_parent: "sync_album_image_details_to_images",
        }
    }

    fn generated() -> AlbumSync {
        AlbumSync {
            project: generated_seed_project().to_path_buf(),
            fan_out: "sync_image_details_fan_out",
            to_parent: "sync_image_details_to_parent",
        }
    }

    /// A fresh database with this project's migrations applied up to version `to`.
    fn migrated_to(&self, to: i64) -> TestDb {
        let db = TestDb::new();
        harness::up(&db, &self.project, Some(to));
        db
    }

    fn up_to(&self, db: &TestDb, to: i64) {
        harness::up(db, &self.project, Some(to));
    }
}

/// Runs each named test (a `fn(&AlbumSync)`) on the hand-written V2 and on the generated one.
macro_rules! on_both_syncs {
    ($($name:ident),* $(,)?) => {
        mod hand_written {
            $(#[test] fn $name() { super::$name(&super::super::AlbumSync::hand_written()) })*
        }
        mod generated {
            $(#[test] fn $name() { super::$name(&super::super::AlbumSync::generated()) })*
        }
    };
}
pub(super) use on_both_syncs;

/// The repository's project with V2 replaced by the migration `pgstrata sync new
/// image_details` writes (version 2 too: generated when only V1 is there, then V3 to V5 and
/// the views are put back). Made once per test process, under target/.
pub(super) fn generated_seed_project() -> &'static Path {
    static PROJECT: OnceLock<PathBuf> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let repository = harness::repository();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("seed-generated-sync-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for folder in ["migrations", "rollbacks", "sync"] {
            fs::create_dir_all(dir.join(folder)).unwrap();
        }
        let copy = |relative: &str| {
            fs::copy(repository.join(relative), dir.join(relative))
                .unwrap_or_else(|e| panic!("copying {relative}: {e}"));
        };
        copy("migrations/V1__baseline.sql");
        copy("rollbacks/V1__baseline.sql");
        copy("sync/image_details.toml");
        let db = TestDb::new();
        let (code, out, err) =
            harness::run(harness::pgstrata_for(&db, &dir).args(["sync", "new", "image_details"]));
        assert_eq!(code, 0, "sync new image_details: {out}{err}");
        assert!(
            out.contains("migrations/V2__sync_image_details.sql"),
            "{out}"
        );
        for folder in ["migrations", "rollbacks"] {
            for entry in fs::read_dir(repository.join(folder)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if !name.starts_with("V1__") && !name.starts_with("V2__") {
                    copy(&format!("{folder}/{name}"));
                }
            }
        }
        fs::create_dir_all(dir.join("views")).unwrap();
        for entry in fs::read_dir(repository.join("views")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            copy(&format!("views/{name}"));
        }
        dir
    })
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

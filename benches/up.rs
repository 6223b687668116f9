//! Benchmark: `pgstrata up` of 200 generated migrations against the floor, `psql -1 -f` of
//! the same SQL concatenated, and against `psql -f` of the same SQL with BEGIN/COMMIT around
//! each migration (what one transaction per migration costs the server), on the same scratch
//! server in the same run, interleaved; a no-op `up` with the 200 applied against a psql that
//! connects and runs one query; and a scratch server from nothing to a ready connection.
//!
//! Run: `cargo bench --bench up` (add `-- --rounds N` for more rounds). Prints medians and
//! ratios. Not a test: it asserts nothing, the targets are read off its output.
//!
//! To compare with an earlier build, give its binary in `PGSTRATA_BENCH_BASELINE`
//! (e.g. `git stash; cargo build --release; cp target/release/pgstrata /tmp/old`): it then
//! runs as one more contender, interleaved with the others in every round, and the ratios
//! this build / that build are printed for the apply and the no-op.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pgstrata::db::quote_ident;
use pgstrata::scratch::ScratchServer;

const MIGRATIONS: usize = 200;

fn main() {
    let rounds = rounds_from_args().unwrap_or(7);
    let work = std::env::temp_dir().join(format!("pgstrata-bench-up-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let (all_sql, per_transaction_sql) = generate_project(&work);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgstrata"));
    let server = ScratchServer::start().expect("starting the scratch server");
    println!("server: {}", server.version());
    println!("project: {MIGRATIONS} migrations in {}", work.display());

    let psql = server.bindir().join("psql");
    // The real psql next to the server, not Debian's Perl wrapper on PATH (which adds ~40 ms
    // per call and would flatter the ratios).
    let psql_file = |file: &Path, single: bool, db: &str| {
        let mut command = Command::new(&psql);
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
        if single {
            command.arg("-1");
        }
        command.arg("-f").arg(file).arg(server.conninfo(db));
        command
    };
    let baseline = std::env::var_os("PGSTRATA_BENCH_BASELINE").map(PathBuf::from);
    let up_with = |binary: &Path, db: &str| {
        let mut command = Command::new(binary);
        command
            .arg("--dir")
            .arg(&work)
            .arg("--database-url")
            .arg(server.conninfo(db))
            .arg("up");
        command
    };
    let contenders = if baseline.is_some() { 4 } else { 3 };
    let mut up = Vec::new();
    let mut floor = Vec::new();
    let mut per_transaction = Vec::new();
    let mut earlier = Vec::new();
    for round in 0..rounds {
        // Rotate who goes first, so that none always meets a warmer server.
        for turn in 0..contenders {
            let contender = (round + turn) % contenders;
            let db = format!("bench_{round}_{contender}");
            create_database(&server, &db);
            let started = Instant::now();
            match (contender, &baseline) {
                (0, _) => run(&mut up_with(&binary, &db)),
                (1, _) => run(&mut psql_file(&all_sql, true, &db)),
                (2, _) => run(&mut psql_file(&per_transaction_sql, false, &db)),
                (_, Some(old)) => run(&mut up_with(old, &db)),
                (_, None) => unreachable!("three contenders without a baseline"),
            }
            let elapsed = started.elapsed();
            [&mut up, &mut floor, &mut per_transaction, &mut earlier][contender].push(elapsed);
        }
    }
    let up_median = median(&mut up);
    let floor_median = median(&mut floor);
    let per_median = median(&mut per_transaction);
    println!(
        "up of {MIGRATIONS} migrations: median {} ms; psql -1 -f floor: median {} ms; ratio {:.3} (target <= 1.08)",
        ms(up_median),
        ms(floor_median),
        up_median.as_secs_f64() / floor_median.as_secs_f64()
    );
    println!(
        "psql -f with one transaction per migration: median {} ms ({:.3} x the floor); up / that: {:.3}",
        ms(per_median),
        per_median.as_secs_f64() / floor_median.as_secs_f64(),
        up_median.as_secs_f64() / per_median.as_secs_f64()
    );

    if let Some(old) = &baseline {
        let earlier_median = median(&mut earlier);
        println!(
            "up of {MIGRATIONS} migrations with {}: median {} ms; this build / that: {:.3}",
            old.display(),
            ms(earlier_median),
            up_median.as_secs_f64() / earlier_median.as_secs_f64()
        );
    }

    let applied = format!("bench_{}_0", rounds - 1);
    let mut noop = Vec::new();
    let mut noop_earlier = Vec::new();
    for round in 0..21 {
        // Interleaved with the baseline's no-op, when there is one.
        let order: &[usize] = if baseline.is_none() {
            &[0]
        } else if round % 2 == 0 {
            &[0, 1]
        } else {
            &[1, 0]
        };
        for &which in order {
            let binary = if which == 0 {
                binary.as_path()
            } else {
                baseline.as_deref().expect("a baseline")
            };
            let started = Instant::now();
            run(&mut up_with(binary, &applied));
            [&mut noop, &mut noop_earlier][which].push(started.elapsed());
        }
    }
    // The floor of any run: a process that connects and runs one query.
    let mut select_one: Vec<Duration> = (0..21)
        .map(|_| {
            let started = Instant::now();
            run(Command::new(&psql)
                .args(["-X", "-q", "-c", "SELECT 1"])
                .arg(server.conninfo(&applied)));
            started.elapsed()
        })
        .collect();
    let noop_median = median(&mut noop);
    let select_one_median = median(&mut select_one);
    println!(
        "no-op up with {MIGRATIONS} applied (whole process): median {:.1} ms (target <= 10 ms); \
         psql -c 'SELECT 1' (connect and one query): median {:.1} ms; ratio {:.2}",
        noop_ms(noop_median),
        noop_ms(select_one_median),
        noop_median.as_secs_f64() / select_one_median.as_secs_f64()
    );
    if let Some(old) = &baseline {
        let earlier_median = median(&mut noop_earlier);
        println!(
            "no-op up with {}: median {:.1} ms; this build / that: {:.3}",
            old.display(),
            noop_ms(earlier_median),
            noop_median.as_secs_f64() / earlier_median.as_secs_f64()
        );
    }
    drop(server);

    let mut starts: Vec<Duration> = (0..rounds.max(5))
        .map(|_| {
            let started = Instant::now();
            let server = ScratchServer::start().expect("starting");
            server.connect("postgres").expect("connecting");
            let elapsed = started.elapsed();
            drop(server);
            elapsed
        })
        .collect();
    println!(
        "scratch server to a ready connection (cached cluster): median {} ms (target <= 500 ms)",
        ms(median(&mut starts))
    );
    if std::env::var_os("PGSTRATA_BENCH_KEEP").is_some() {
        println!("kept {}", work.display());
    } else {
        let _ = fs::remove_dir_all(&work);
    }
}

fn rounds_from_args() -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--rounds")?;
    args.get(at + 1)?.parse().ok()
}

fn create_database(server: &ScratchServer, name: &str) {
    let mut admin = server.connect("postgres").expect("connecting");
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            quote_ident(name)
        ))
        .expect("creating a database");
}

fn run(command: &mut Command) {
    let output = command.output().expect("starting a process");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn noop_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Writes 200 migrations (and rollbacks) cycling through tables with foreign keys and unique
/// constraints, added columns, indexes with a partial unique one, a plpgsql trigger and a
/// view; returns the paths of all migrations concatenated, plain and with BEGIN/COMMIT
/// around each, for psql.
fn generate_project(dir: &Path) -> (PathBuf, PathBuf) {
    fs::create_dir_all(dir.join("migrations")).unwrap();
    fs::create_dir_all(dir.join("rollbacks")).unwrap();
    let mut all = String::new();
    let mut per_transaction = String::new();
    let mut table = 0;
    for i in 1..=MIGRATIONS {
        let (up, down) = match i % 5 {
            1 => {
                let parent = if table == 0 {
                    String::new()
                } else {
                    format!(",\n    parent_id bigint REFERENCES t{table} (id)")
                };
                table = i;
                (
                    format!(
                        "CREATE TABLE t{i} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                         code text NOT NULL UNIQUE,\n    created_at timestamptz NOT NULL DEFAULT now(){parent}\n);\n"
                    ),
                    format!("DROP TABLE t{i};\n"),
                )
            }
            2 => (
                format!(
                    "ALTER TABLE t{table} ADD COLUMN note text;\n\
                     ALTER TABLE t{table} ADD COLUMN amount numeric(12,2) NOT NULL DEFAULT 0;\n"
                ),
                format!(
                    "ALTER TABLE t{table} DROP COLUMN amount;\nALTER TABLE t{table} DROP COLUMN note;\n"
                ),
            ),
            3 => (
                format!(
                    "CREATE INDEX t{table}_created ON t{table} (created_at, code);\n\
                     CREATE UNIQUE INDEX t{table}_open_code ON t{table} (code) WHERE note IS NULL;\n"
                ),
                format!("DROP INDEX t{table}_open_code;\nDROP INDEX t{table}_created;\n"),
            ),
            4 => (
                format!(
                    "CREATE FUNCTION t{table}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                     BEGIN\n    NEW.created_at := now();\n    RETURN NEW;\nEND\n$$;\n\
                     CREATE TRIGGER t{table}_touch BEFORE UPDATE ON t{table}\n    \
                     FOR EACH ROW EXECUTE FUNCTION t{table}_touch();\n"
                ),
                format!(
                    "DROP TRIGGER t{table}_touch ON t{table};\nDROP FUNCTION t{table}_touch();\n"
                ),
            ),
            _ => (
                format!(
                    "CREATE VIEW t{table}_open AS\n    SELECT id, code, amount FROM t{table} WHERE note IS NULL;\n"
                ),
                format!("DROP VIEW t{table}_open;\n"),
            ),
        };
        let name = format!("V{i}__step_{i}.sql");
        fs::write(dir.join("migrations").join(&name), &up).unwrap();
        fs::write(dir.join("rollbacks").join(&name), &down).unwrap();
        all.push_str(&up);
        per_transaction.push_str(&format!("BEGIN;\n{up}COMMIT;\n"));
    }
    let path = dir.join("all.sql");
    fs::write(&path, all).unwrap();
    let per_path = dir.join("per_transaction.sql");
    fs::write(&per_path, per_transaction).unwrap();
    (path, per_path)
}

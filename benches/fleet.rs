//! Benchmark: `pgstrata up --targets FILE` on a fleet of 100 databases of one scratch server,
//! `--jobs 4` against `--jobs 1`, interleaved (who goes first alternates by round), each round
//! on fresh databases; then the no-op rerun of the migrated fleet with `--jobs 4` and `--jobs
//! 1`, against the same 100 no-op `up`s run one after the other by a shell-like loop (what a
//! fleet replaces; the difference is the fleet's own cost).
//!
//! Run: `cargo bench --bench fleet` (add `-- --rounds N` for more rounds, default 3). Prints
//! medians and ratios. Not a test: it asserts nothing, the figures are read off its output. The
//! server runs on the same machine as pgstrata, so `--jobs 4` can gain at most what the
//! machine's cores allow.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{median, rounds_from_args, run};
use pgstrata::db::quote_ident;
use pgstrata::scratch::ScratchServer;

const DATABASES: usize = 100;
const MIGRATIONS: usize = 20;

fn main() {
    let rounds = rounds_from_args().unwrap_or(3);
    let work = std::env::temp_dir().join(format!("pgstrata-bench-fleet-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    generate_project(&work);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgstrata"));
    let server = ScratchServer::start().expect("starting the scratch server");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("server: {}", server.version());
    println!(
        "fleet: {DATABASES} databases, {MIGRATIONS} migrations each; {cores} cores, shared with \
         the server"
    );

    let fleet_up = |file: &Path, jobs: usize| {
        let mut command = Command::new(&binary);
        command
            .arg("--dir")
            .arg(&work)
            .arg("--targets")
            .arg(file)
            .args(["up", "--jobs", &jobs.to_string()]);
        command
    };
    let mut by_jobs: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut last_file = None;
    for round in 0..rounds {
        let order = if round % 2 == 0 { [4, 1] } else { [1, 4] };
        for jobs in order {
            let file = fleet_file(&server, &work, &format!("r{round}_j{jobs}"));
            let started = Instant::now();
            run(&mut fleet_up(&file, jobs));
            by_jobs[usize::from(jobs == 1)].push(started.elapsed());
            last_file = Some(file);
        }
    }
    let [mut four, mut one] = by_jobs;
    let (four, one) = (median(&mut four), median(&mut one));
    println!(
        "up --targets ({DATABASES} databases, {MIGRATIONS} migrations each): --jobs 4 median {} \
         ms, --jobs 1 median {} ms; jobs 1 / jobs 4: {:.2}x",
        four.as_millis(),
        one.as_millis(),
        one.as_secs_f64() / four.as_secs_f64()
    );

    // The no-op: the migrated fleet again, and the same 100 `up`s one by one.
    let file = last_file.expect("at least one round");
    let urls: Vec<String> = fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut noop: [Vec<Duration>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds.max(3) {
        for turn in 0..3 {
            let which = (round + turn) % 3;
            let started = Instant::now();
            match which {
                0 => run(&mut fleet_up(&file, 4)),
                1 => run(&mut fleet_up(&file, 1)),
                _ => {
                    for url in &urls {
                        run(Command::new(&binary)
                            .arg("--dir")
                            .arg(&work)
                            .env("DATABASE_URL", url)
                            .arg("up"));
                    }
                }
            }
            noop[which].push(started.elapsed());
        }
    }
    let [mut four, mut one, mut looped] = noop;
    let (four, one, looped) = (median(&mut four), median(&mut one), median(&mut looped));
    println!(
        "no-op rerun of {DATABASES} databases: --jobs 4 median {} ms, --jobs 1 median {} ms, \
         {DATABASES} single `up`s one after the other median {} ms; jobs 1 / loop: {:.2}, \
         loop / jobs 4: {:.2}x",
        four.as_millis(),
        one.as_millis(),
        looped.as_millis(),
        one.as_secs_f64() / looped.as_secs_f64(),
        looped.as_secs_f64() / four.as_secs_f64()
    );
    drop(server);
    let _ = fs::remove_dir_all(&work);
}

/// Creates `DATABASES` fresh databases named after `tag` and writes their targets file.
fn fleet_file(server: &ScratchServer, work: &Path, tag: &str) -> PathBuf {
    let mut admin = server.connect("postgres").expect("connecting");
    let mut lines = String::new();
    for i in 0..DATABASES {
        let name = format!("fleet_{tag}_{i}");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&name)
            ))
            .expect("creating a database");
        lines.push_str(&server.conninfo(&name));
        lines.push('\n');
    }
    let file = work.join(format!("{tag}.txt"));
    fs::write(&file, lines).unwrap();
    file
}

/// `MIGRATIONS` migrations: a table, an index and a column in turn.
fn generate_project(dir: &Path) {
    fs::create_dir_all(dir.join("migrations")).unwrap();
    fs::create_dir_all(dir.join("rollbacks")).unwrap();
    for i in 1..=MIGRATIONS {
        let table = i.div_ceil(3);
        let (up, down) = match i % 3 {
            1 => (
                format!(
                    "CREATE TABLE t{table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                     code text NOT NULL UNIQUE);\n"
                ),
                format!("DROP TABLE t{table};\n"),
            ),
            2 => (
                format!("CREATE INDEX t{table}_code ON t{table} (lower(code));\n"),
                format!("DROP INDEX t{table}_code;\n"),
            ),
            _ => (
                format!("ALTER TABLE t{table} ADD COLUMN note text;\n"),
                format!("ALTER TABLE t{table} DROP COLUMN note;\n"),
            ),
        };
        let name = format!("V{i}__step_{i}.sql");
        fs::write(dir.join("migrations").join(&name), up).unwrap();
        fs::write(dir.join("rollbacks").join(&name), down).unwrap();
    }
}

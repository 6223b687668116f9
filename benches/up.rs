//! Benchmark: `pgstrata up` of 200 generated migrations against the floor, `psql -1 -f` of
//! the same SQL concatenated, and against `psql -f` of the same SQL with BEGIN/COMMIT around
//! each migration (what one transaction per migration costs the server); `pgstrata up
//! --single-transaction` against that floor (the same work: one transaction); a no-op `up`
//! with 200 and with 1,000 applied against a psql that connects and runs one query, and
//! against sqlx-cli's and refinery's no-op on the same migrations (each on its own database,
//! applied once before timing) when their binaries are installed; and a scratch server from
//! nothing to a ready connection. All on the same scratch server in the same run, interleaved.
//!
//! Run: `cargo bench --bench up` (add `-- --rounds N` for more rounds). Prints medians and
//! ratios. Not a test: it asserts nothing, the targets are read off its output.
//!
//! sqlx-cli (`sqlx`, `cargo install sqlx-cli`) and refinery_cli (`refinery`, `cargo install
//! refinery_cli`) are looked for on PATH and in ~/.cargo/bin; a missing one is skipped with a
//! note.
//!
//! To compare with an earlier build, give its binary in `PGSTRATA_BENCH_BASELINE`
//! (e.g. `git stash; cargo build --release; cp target/release/pgstrata /tmp/old`): it then
//! runs as one more contender, interleaved with the others in every round, and the ratios
//! this build / that build are printed for the apply and the no-op.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{median, rounds_from_args, run};
use pgstrata::db::quote_ident;
use pgstrata::scratch::ScratchServer;

const MIGRATIONS: usize = 200;
/// The long history of the no-op phase.
const LONG: usize = 1_000;
/// Rounds of the no-op phase.
const NOOP_ROUNDS: usize = 21;

/// One generated project: the folder, and the SQL of all its migrations for psql.
struct Generated {
    dir: PathBuf,
    all_sql: PathBuf,
    per_transaction_sql: PathBuf,
    /// The same migrations named as sqlx-cli wants them (`{n}_{name}.sql`).
    sqlx_dir: PathBuf,
}

fn main() {
    let rounds = rounds_from_args().unwrap_or(7);
    let work = std::env::temp_dir().join(format!("pgstrata-bench-up-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let short = generate_project(&work.join("p200"), MIGRATIONS);
    let long = generate_project(&work.join("p1000"), LONG);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgstrata"));
    let server = ScratchServer::start().expect("starting the scratch server");
    println!("server: {}", server.version());
    println!(
        "projects: {MIGRATIONS} and {LONG} migrations in {}",
        work.display()
    );
    println!("(a shared, noisy machine: compare ratios within one run, not across runs)");

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
    let up_with = |binary: &Path, dir: &Path, db: &str, extra: &[&str]| {
        let mut command = Command::new(binary);
        command
            .arg("--dir")
            .arg(dir)
            .arg("--database-url")
            .arg(server.conninfo(db))
            .arg("up")
            .args(extra);
        command
    };
    let contenders = if baseline.is_some() { 5 } else { 4 };
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 5];
    for round in 0..rounds {
        // Rotate who goes first, so that none always meets a warmer server.
        for turn in 0..contenders {
            let contender = (round + turn) % contenders;
            let db = format!("bench_{round}_{contender}");
            create_database(&server, &db);
            let started = Instant::now();
            match (contender, &baseline) {
                (0, _) => run(&mut up_with(&binary, &short.dir, &db, &[])),
                (1, _) => run(&mut psql_file(&short.all_sql, true, &db)),
                (2, _) => run(&mut psql_file(&short.per_transaction_sql, false, &db)),
                (3, _) => run(&mut up_with(
                    &binary,
                    &short.dir,
                    &db,
                    &["--single-transaction"],
                )),
                (_, Some(old)) => run(&mut up_with(old, &short.dir, &db, &[])),
                (_, None) => unreachable!("four contenders without a baseline"),
            }
            times[contender].push(started.elapsed());
        }
    }
    let up_median = median(&mut times[0]);
    let floor_median = median(&mut times[1]);
    let per_median = median(&mut times[2]);
    let single_median = median(&mut times[3]);
    println!(
        "up of {MIGRATIONS} migrations: median {} ms; psql -1 -f floor: median {} ms; ratio {:.3} (target <= 1.08)",
        ms(up_median),
        ms(floor_median),
        ratio(up_median, floor_median)
    );
    println!(
        "psql -f with one transaction per migration: median {} ms ({:.3} x the floor); up / that: {:.3}",
        ms(per_median),
        ratio(per_median, floor_median),
        ratio(up_median, per_median)
    );
    println!(
        "up --single-transaction of {MIGRATIONS} migrations: median {} ms; / psql -1 -f floor: {:.3} (target <= 1.03)",
        ms(single_median),
        ratio(single_median, floor_median)
    );
    if let Some(old) = &baseline {
        let earlier_median = median(&mut times[4]);
        println!(
            "up of {MIGRATIONS} migrations with {}: median {} ms; this build / that: {:.3}",
            old.display(),
            ms(earlier_median),
            ratio(up_median, earlier_median)
        );
    }

    let sqlx = peer_binary("sqlx");
    let refinery = peer_binary("refinery");
    for (project, count, target) in [(&short, MIGRATIONS, 1.1), (&long, LONG, 1.2)] {
        let noop = NoOp {
            server: &server,
            binary: &binary,
            baseline: baseline.as_deref(),
            psql: &psql,
            sqlx: sqlx.as_deref(),
            refinery: refinery.as_deref(),
        };
        noop.run(project, count, target);
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

/// The no-op phase: every contender on a database where its tool applied the project once.
struct NoOp<'a> {
    server: &'a ScratchServer,
    binary: &'a Path,
    baseline: Option<&'a Path>,
    psql: &'a Path,
    sqlx: Option<&'a Path>,
    refinery: Option<&'a Path>,
}

impl NoOp<'_> {
    fn run(&self, project: &Generated, count: usize, target: f64) {
        let server = self.server;
        let pg_db = format!("noop_pgstrata_{count}");
        create_database(server, &pg_db);
        let up = |binary: &Path| {
            let mut command = Command::new(binary);
            command
                .arg("--dir")
                .arg(&project.dir)
                .arg("--database-url")
                .arg(server.conninfo(&pg_db))
                .arg("up");
            command
        };
        run(&mut up(self.binary));
        let select_one = || {
            let mut command = Command::new(self.psql);
            command
                .args(["-X", "-q", "-c", "SELECT 1"])
                .arg(server.conninfo(&pg_db));
            command
        };
        // sqlx and refinery reach the same Unix socket through their URLs.
        let socket = server.dir().display().to_string();
        let sqlx = self.sqlx.map(|bin| {
            let db = format!("noop_sqlx_{count}");
            create_database(server, &db);
            let url = format!(
                "postgres://postgres@localhost:{}/{db}?host={socket}",
                server.port()
            );
            let mut command = Command::new(bin);
            command
                .args(["migrate", "run", "--no-dotenv", "--source"])
                .arg(&project.sqlx_dir)
                .args(["--database-url", &url]);
            command
        });
        let refinery = self.refinery.map(|bin| {
            let db = format!("noop_refinery_{count}");
            create_database(server, &db);
            let url = format!(
                "postgres://postgres@{}:{}/{db}",
                socket.replace('/', "%2F"),
                server.port()
            );
            let mut command = Command::new(bin);
            command
                .args(["migrate", "-e", "PGSTRATA_BENCH_REFINERY_URL", "-p"])
                .arg(project.dir.join("migrations"))
                .env("PGSTRATA_BENCH_REFINERY_URL", url);
            command
        });
        let mut contenders: Vec<(String, Command)> = vec![
            ("pgstrata".into(), up(self.binary)),
            ("psql SELECT 1".into(), select_one()),
        ];
        match sqlx {
            Some(mut command) => {
                run(&mut command);
                contenders.push(("sqlx-cli".into(), command));
            }
            None => println!("note: no sqlx binary (cargo install sqlx-cli): sqlx-cli skipped"),
        }
        match refinery {
            Some(mut command) => {
                run(&mut command);
                contenders.push(("refinery".into(), command));
            }
            None => {
                println!("note: no refinery binary (cargo install refinery_cli): refinery skipped")
            }
        }
        if let Some(old) = self.baseline {
            contenders.push((old.display().to_string(), up(old)));
        }
        let n = contenders.len();
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); n];
        for round in 0..NOOP_ROUNDS {
            for turn in 0..n {
                let which = (round + turn) % n;
                let started = Instant::now();
                run(&mut contenders[which].1);
                times[which].push(started.elapsed());
            }
        }
        let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
        let ours = medians[0];
        let floor = medians[1];
        println!(
            "no-op up with {count} applied (whole process): median {:.1} ms; psql -c 'SELECT 1' \
             (connect and one query): median {:.1} ms; ratio {:.2} (target <= {target})",
            noop_ms(ours),
            noop_ms(floor),
            ratio(ours, floor)
        );
        for (i, (name, _)) in contenders.iter().enumerate().skip(2) {
            println!(
                "  no-op of {name} with {count} applied: median {:.1} ms ({:.2} x psql); \
                 pgstrata / {name}: {:.2} (target <= 1)",
                noop_ms(medians[i]),
                ratio(medians[i], floor),
                ratio(ours, medians[i])
            );
        }
    }
}

/// A peer tool's binary: on PATH, or where `cargo install` puts it.
fn peer_binary(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("HOME")?;
        let candidate = PathBuf::from(home).join(".cargo/bin").join(name);
        candidate.is_file().then_some(candidate)
    })
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
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

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn noop_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Writes `count` migrations (and rollbacks) cycling through tables with foreign keys and
/// unique constraints, added columns, indexes with a partial unique one, a plpgsql trigger
/// and a view; with all migrations concatenated, plain and with BEGIN/COMMIT around each, for
/// psql, and a copy named for sqlx-cli.
fn generate_project(dir: &Path, count: usize) -> Generated {
    let sqlx_dir = dir.join("sqlx");
    fs::create_dir_all(dir.join("migrations")).unwrap();
    fs::create_dir_all(dir.join("rollbacks")).unwrap();
    fs::create_dir_all(&sqlx_dir).unwrap();
    let mut all = String::new();
    let mut per_transaction = String::new();
    let mut table = 0;
    for i in 1..=count {
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
        fs::write(sqlx_dir.join(format!("{i}_step_{i}.sql")), &up).unwrap();
        all.push_str(&up);
        per_transaction.push_str(&format!("BEGIN;\n{up}COMMIT;\n"));
    }
    let all_sql = dir.join("all.sql");
    fs::write(&all_sql, all).unwrap();
    let per_transaction_sql = dir.join("per_transaction.sql");
    fs::write(&per_transaction_sql, per_transaction).unwrap();
    Generated {
        dir: dir.to_path_buf(),
        all_sql,
        per_transaction_sql,
        sqlx_dir,
    }
}

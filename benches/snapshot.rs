//! Snapshot speed against `pg_dump --schema-only` on the same schema (run with
//! `cargo bench --bench snapshot`).
//!
//! Starts a scratch server, generates 1,000 tables (each with a primary key, a foreign key,
//! two indexes, a check constraint and a comment), 200 functions, 100 triggers and 100 views,
//! then times, interleaved, pgstrata's snapshot (connect + take + render, in a child process:
//! this binary run again), over one connection (`take`) and over two (`take_parallel`), the
//! `pgstrata snapshot` command itself (which takes it over two connections and prints it),
//! and pg_dump from the server's own bindir, all over the server's socket. Reports medians,
//! ratios and the peak RSS of each child (wait4's rusage, taken by a small measuring process).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pgstrata::scratch::ScratchServer;
use pgstrata::snapshot::{SnapshotOptions, split_blocks, take, take_parallel};

const ROUNDS: usize = 7;
const TABLES: usize = 1000;
const FUNCTIONS: usize = 200;
const TRIGGERS: usize = 100;
const VIEWS: usize = 100;
const DATABASE: &str = "bench";
/// Set in the child: the connection string to snapshot.
const CHILD_ENV: &str = "PGSTRATA_BENCH_SNAPSHOT_OF";
/// Set in the child to `2` for two connections.
const CONNECTIONS_ENV: &str = "PGSTRATA_BENCH_CONNECTIONS";
/// Set in the child to have it print where its time went.
const SPLIT_ENV: &str = "PGSTRATA_BENCH_SPLIT";
/// Set in the measuring process that starts each timed child (see `timed`).
const MEASURE_ENV: &str = "PGSTRATA_BENCH_MEASURE";
/// How the measuring process reports, on stderr.
const MEASURED_PREFIX: &str = "pgstrata-bench-measured: ";

fn main() -> Result<()> {
    if std::env::var_os(MEASURE_ENV).is_some() {
        return measure();
    }
    if let Ok(conninfo) = std::env::var(CHILD_ENV) {
        return child(&conninfo);
    }
    let server = ScratchServer::start().context("starting the scratch server")?;
    println!("server: {}", server.version());
    let started = Instant::now();
    generate(&server)?;
    println!(
        "schema generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pg_dump = server.bindir().join("pg_dump");
    let conninfo = server.conninfo(DATABASE);
    let socket_dir = server.dir().to_path_buf();

    // One of each first, untimed: warm caches, and check that both work.
    let (_, _, blocks) = run_pgstrata(&conninfo, 1, true)?;
    run_pgstrata(&conninfo, 2, true)?;
    run_pg_dump(&pg_dump, &socket_dir)?;
    println!("snapshot: {blocks} blocks");

    let (mut one, mut two, mut command, mut dump) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let (time, rss, _) = run_pgstrata(&conninfo, 1, false)?;
        one.push((time, rss));
        let (time, rss, _) = run_pgstrata(&conninfo, 2, false)?;
        two.push((time, rss));
        command.push(run_command(&conninfo)?);
        let (time, rss) = run_pg_dump(&pg_dump, &socket_dir)?;
        dump.push((time, rss));
        println!(
            "round {round}: take {:>6.1} ms | take_parallel {:>6.1} ms | pgstrata snapshot {:>6.1} ms | pg_dump {:>6.1} ms",
            ms(one[round - 1].0),
            ms(two[round - 1].0),
            ms(command[round - 1].0),
            ms(time)
        );
    }
    println!(
        "\nmedians of {ROUNDS} rounds, each a child process (peak RSS: the largest of the rounds):"
    );
    let dump_median = summary("pg_dump --schema-only", &dump, None);
    summary("pgstrata take", &one, Some(dump_median));
    summary("pgstrata take_parallel", &two, Some(dump_median));
    summary("pgstrata snapshot", &command, Some(dump_median));
    Ok(())
}

/// The child: connect, take, render; prints the number of blocks.
fn child(conninfo: &str) -> Result<()> {
    let start = Instant::now();
    let mut client = pgstrata::db::connect(conninfo)?;
    let connected = start.elapsed();
    let options = SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    };
    let snapshot = match std::env::var(CONNECTIONS_ENV).as_deref() {
        Ok("2") => take_parallel(&pgstrata::conninfo::ConnInfo::parse(conninfo)?, &options)?,
        _ => take(&mut client, &options)?,
    };
    let taken = start.elapsed();
    let text = snapshot.render();
    let rendered = start.elapsed();
    println!("{}", split_blocks(&text).blocks.len());
    if std::env::var_os(SPLIT_ENV).is_some() {
        eprintln!(
            "  {} connection(s): connect {:.1} ms, take {:.1} ms, render {:.1} ms, {} KiB of text",
            std::env::var(CONNECTIONS_ENV).unwrap_or_default(),
            ms(connected),
            ms(taken - connected),
            ms(rendered - taken),
            text.len() / 1024
        );
    }
    Ok(())
}

fn run_pgstrata(conninfo: &str, connections: u8, split: bool) -> Result<(Duration, i64, usize)> {
    let mut command = Command::new(std::env::current_exe()?);
    if split {
        command.env(SPLIT_ENV, "1");
    }
    command
        .env(CHILD_ENV, conninfo)
        .env(CONNECTIONS_ENV, connections.to_string());
    let (time, rss, stdout) = timed(command)?;
    let blocks: usize = stdout
        .trim()
        .parse()
        .context("reading the child's block count")?;
    // Tables, their constraints and indexes alone are 6,000 blocks.
    if blocks < TABLES * 6 + FUNCTIONS + TRIGGERS + VIEWS {
        bail!("the snapshot has only {blocks} blocks");
    }
    Ok((time, rss, blocks))
}

/// The `pgstrata snapshot` command, its text read from stdout.
fn run_command(conninfo: &str) -> Result<(Duration, i64)> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgstrata"));
    command.args(["--database-url", conninfo, "snapshot"]);
    let (time, rss, stdout) = timed(command)?;
    let blocks = split_blocks(&stdout).blocks.len();
    if blocks < TABLES * 6 + FUNCTIONS + TRIGGERS + VIEWS {
        bail!("pgstrata snapshot printed only {blocks} blocks");
    }
    Ok((time, rss))
}

fn run_pg_dump(pg_dump: &Path, socket_dir: &Path) -> Result<(Duration, i64)> {
    let mut command = Command::new(pg_dump);
    command
        .arg("-h")
        .arg(socket_dir)
        .args(["-p", "5432", "-U", "postgres", "-d", DATABASE])
        .args(["--schema-only", "-f", "/dev/null"]);
    let (time, rss, _) = timed(command)?;
    Ok((time, rss))
}

/// Runs a child to completion: wall time, peak RSS in KiB, and its stdout.
///
/// The child is started by a fresh copy of this binary (see `measure`), not by this process:
/// Linux reports as a child's peak RSS at least the RSS of the process it was spawned from (the
/// exec'd-over memory counts), and this process holds megabytes of snapshot text, which made
/// every contender look as large as the benchmark itself.
fn timed(command: Command) -> Result<(Duration, i64, String)> {
    let mut wrapper = Command::new(std::env::current_exe()?);
    wrapper
        .env(MEASURE_ENV, "1")
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(key, value),
            None => wrapper.env_remove(key),
        };
    }
    let output = wrapper.output().context("starting the measuring process")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut measured = None;
    for line in stderr.lines() {
        match line.strip_prefix(MEASURED_PREFIX) {
            Some(rest) => measured = Some(rest.to_string()),
            None => eprintln!("{line}"),
        }
    }
    if !output.status.success() {
        bail!("{command:?} failed: {}", output.status);
    }
    let measured = measured.context("the measuring process reported nothing")?;
    let (micros, rss) = measured
        .split_once(' ')
        .and_then(|(micros, rss)| Some((micros.parse().ok()?, rss.parse().ok()?)))
        .with_context(|| format!("unreadable measurement `{measured}`"))?;
    let stdout = String::from_utf8(output.stdout).context("the child's output is not UTF-8")?;
    Ok((Duration::from_micros(micros), rss, stdout))
}

/// The measuring process: runs its arguments as a command with this process's stdin, stdout
/// and stderr, and prints `MEASURED_PREFIX<wall µs> <peak RSS KiB>` (from wait4) on stderr.
fn measure() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().context("nothing to measure")?;
    let mut command = Command::new(program);
    command.args(args).env_remove(MEASURE_ENV);
    let start = Instant::now();
    let child = command.spawn().context("starting the measured process")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child, which std has
    // not reaped (we never call child.wait()).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child's pid with valid pointers.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    if reaped != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{command:?} failed with status {status}");
    }
    eprintln!(
        "{MEASURED_PREFIX}{} {}",
        elapsed.as_micros(),
        usage.ru_maxrss
    );
    Ok(())
}

fn generate(server: &ScratchServer) -> Result<()> {
    let mut admin = server.connect("postgres")?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {DATABASE} TEMPLATE template0"))?;
    let mut client = server.connect(DATABASE)?;
    client.batch_execute("CREATE SCHEMA bench")?;
    // Transactions of 50 tables: each table takes a handful of locks, and a transaction
    // may hold only so many (max_locks_per_transaction).
    for first in (0..TABLES).step_by(50) {
        let mut sql = String::from("BEGIN;\n");
        for i in first..(first + 50).min(TABLES) {
            let parent = i.saturating_sub(1);
            writeln!(
                sql,
                "CREATE TABLE bench.t{i} (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    parent_id bigint REFERENCES bench.t{parent} (id) ON DELETE CASCADE,
                    name text NOT NULL,
                    amount numeric CHECK (amount >= 0),
                    created_at timestamptz NOT NULL DEFAULT now());
                CREATE INDEX t{i}_name ON bench.t{i} (name);
                CREATE INDEX t{i}_recent ON bench.t{i} (created_at DESC) WHERE amount > 0;
                COMMENT ON TABLE bench.t{i} IS 'generated table {i}';"
            )?;
        }
        sql.push_str("COMMIT;");
        client.batch_execute(&sql).context("creating tables")?;
    }
    let mut sql = String::from("BEGIN;\n");
    for i in 0..FUNCTIONS - TRIGGERS {
        writeln!(
            sql,
            "CREATE FUNCTION bench.f{i}(a integer, b text) RETURNS text LANGUAGE plpgsql STABLE
             AS $$ BEGIN RETURN b || a; END $$;"
        )?;
    }
    for i in 0..TRIGGERS {
        writeln!(
            sql,
            "CREATE FUNCTION bench.trg{i}() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN NEW.name := lower(NEW.name); RETURN NEW; END $$;
             CREATE TRIGGER t{i}_lower BEFORE INSERT OR UPDATE OF name ON bench.t{i}
             FOR EACH ROW EXECUTE FUNCTION bench.trg{i}();"
        )?;
    }
    for i in 0..VIEWS {
        writeln!(
            sql,
            "CREATE VIEW bench.v{i} AS SELECT id, name, amount FROM bench.t{i} WHERE amount > 0;"
        )?;
    }
    sql.push_str("COMMIT; ANALYZE;");
    client
        .batch_execute(&sql)
        .context("creating functions, triggers and views")?;
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn median<T: Copy + Ord>(values: &mut [T]) -> T {
    values.sort();
    values[values.len() / 2]
}

/// Prints one line of medians; with `baseline`, the ratio to it. Returns the median.
fn summary(name: &str, runs: &[(Duration, i64)], baseline: Option<Duration>) -> Duration {
    let mut times: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    let median = median(&mut times);
    let rss = runs.iter().map(|r| r.1).max().unwrap_or(0);
    let mut line = format!(
        "  {name:<24} {:>7.1} ms   peak RSS {rss:>6} KiB",
        ms(median)
    );
    if let Some(baseline) = baseline {
        let ratio = median.as_secs_f64() / baseline.as_secs_f64();
        let verdict = if ratio <= 0.5 { "meets" } else { "misses" };
        line.push_str(&format!(
            "   ratio {ratio:.2} ({verdict} the target <= 0.5)"
        ));
    }
    println!("{line}");
    median
}

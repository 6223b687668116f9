//! Benchmark: `pgstrata check` of a long history, the project of issue 14 part 5: 200
//! generated migrations, each a table with an index and a foreign key to the previous table,
//! every tenth also a trigger (with its function) and a view; exact rollbacks. Its snapshots
//! are written once (`check --write-snapshots`), then `check` runs as a whole process on its
//! own scratch server, as CI runs it, and the median of the rounds is printed with the
//! breakdown `check` reports in its JSON `timings` (apply and roll back, introspect, render,
//! compare, row counts, other).
//!
//! Run: `cargo bench --bench check` (add `-- --rounds N` for more rounds, `-- --migrations N`
//! for another length). Not a test: it asserts only that check passes; the targets are read
//! off its output.
//!
//! To compare with an earlier build, give its binary in `PGSTRATA_BENCH_BASELINE`: it runs
//! the same check interleaved with this build in every round (who goes first alternates), and
//! the ratio this build / that build is printed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MIGRATIONS: usize = 200;

/// The parts of `timings` in check's JSON, in the order printed.
const PARTS: &[(&str, &str)] = &[
    ("apply_ms", "apply and roll back (runner, views)"),
    ("introspect_ms", "introspect (catalog reads)"),
    ("render_ms", "render (model to text)"),
    ("compare_ms", "compare (texts)"),
    ("rows_ms", "row counts"),
];

fn main() {
    let rounds = number_after("--rounds").unwrap_or(5);
    let migrations = number_after("--migrations").unwrap_or(MIGRATIONS);
    let work = std::env::temp_dir().join(format!("pgstrata-bench-check-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    generate_project(&work, migrations);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgstrata"));
    let baseline = std::env::var_os("PGSTRATA_BENCH_BASELINE").map(PathBuf::from);
    println!("project: {migrations} migrations in {}", work.display());

    let written = run_check(&binary, &work, true);
    println!(
        "check --write-snapshots: {} ms, {} bytes of snapshots",
        written.elapsed.as_millis(),
        bytes_under(&work.join("schema-snapshots"))
    );

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..rounds {
        let order: &[usize] = match (&baseline, round % 2) {
            (None, _) => &[0],
            (Some(_), 0) => &[0, 1],
            (Some(_), _) => &[1, 0],
        };
        for &which in order {
            if which == 0 {
                let run = run_check(&binary, &work, false);
                println!("round {round}: this build {} ms", run.elapsed.as_millis());
                ours.push(run);
            } else {
                let old = baseline.as_deref().expect("a baseline");
                let run = run_check(old, &work, false);
                println!("round {round}: baseline {} ms", run.elapsed.as_millis());
                theirs.push(run);
            }
        }
    }

    let total = median(
        ours.iter()
            .map(|r| r.elapsed.as_secs_f64() * 1000.0)
            .collect(),
    );
    println!(
        "check of {migrations} migrations (whole process, scratch server included): median \
         {total:.0} ms over {rounds} rounds (target <= 5000 ms)"
    );
    let part = |key: &str| median(ours.iter().map(|r| r.timing(key)).collect());
    let inside = part("total_ms");
    println!("  inside check::run: {inside:.0} ms, of which (medians):");
    let mut covered = 0.0;
    for (key, what) in PARTS {
        let ms = part(key);
        covered += ms;
        println!(
            "    {what:<40} {ms:>8.0} ms  {:>5.1} %",
            100.0 * ms / inside
        );
    }
    println!(
        "    {:<40} {:>8.0} ms  {:>5.1} %",
        "other (lint, files, history, ...)",
        inside - covered,
        100.0 * (inside - covered) / inside
    );
    println!(
        "  snapshots taken: {:.0}; outside check::run (start, scratch server, sync verify): \
         {:.0} ms",
        part("snapshots"),
        total - inside
    );
    if let Some(old) = &baseline {
        let earlier = median(
            theirs
                .iter()
                .map(|r| r.elapsed.as_secs_f64() * 1000.0)
                .collect(),
        );
        println!(
            "check with {}: median {earlier:.0} ms; this build / that: {:.3}",
            old.display(),
            total / earlier
        );
    }
    if std::env::var_os("PGSTRATA_BENCH_KEEP").is_some() {
        println!("kept {}", work.display());
    } else {
        let _ = fs::remove_dir_all(&work);
    }
}

/// One run of check: how long the process took and its JSON report.
struct Run {
    elapsed: Duration,
    report: serde_json::Value,
}

impl Run {
    /// A part of `timings` in ms (NaN when the build reports none: an older one).
    fn timing(&self, key: &str) -> f64 {
        self.report["timings"][key].as_f64().unwrap_or(f64::NAN)
    }
}

fn run_check(binary: &Path, project: &Path, write: bool) -> Run {
    let mut command = Command::new(binary);
    command
        .arg("--dir")
        .arg(project)
        .args(["--format", "json", "check"]);
    if write {
        command.arg("--write-snapshots");
    }
    let started = Instant::now();
    let output = command.output().expect("starting pgstrata");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = serde_json::from_slice(&output.stdout).expect("check's JSON report");
    Run { elapsed, report }
}

fn number_after(flag: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1)?.parse().ok()
}

/// The median, NaN-safe (an older build reports no timings).
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

fn bytes_under(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Writes the migrations and their exact rollbacks: table `t{i}` with an index, and a foreign
/// key to `t{i-1}`; every tenth also a plpgsql trigger function, its trigger and a view.
fn generate_project(dir: &Path, migrations: usize) {
    fs::create_dir_all(dir.join("migrations")).unwrap();
    fs::create_dir_all(dir.join("rollbacks")).unwrap();
    for i in 1..=migrations {
        let parent = if i == 1 {
            String::new()
        } else {
            format!(",\n    parent_id bigint REFERENCES t{} (id)", i - 1)
        };
        let mut up = format!(
            "CREATE TABLE t{i} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
             code text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now(){parent}\n);\n\
             CREATE INDEX t{i}_code ON t{i} (code);\n"
        );
        let mut down = format!("DROP TABLE t{i};\n");
        if i % 10 == 0 {
            up.push_str(&format!(
                "CREATE FUNCTION t{i}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    \
                 NEW.created_at := now();\n    RETURN NEW;\nEND\n$$;\n\
                 CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i}\n    \
                 FOR EACH ROW EXECUTE FUNCTION t{i}_touch();\n\
                 CREATE VIEW t{i}_recent AS\n    \
                 SELECT id, code FROM t{i} WHERE created_at > now() - interval '1 day';\n"
            ));
            down = format!(
                "DROP VIEW t{i}_recent;\nDROP TRIGGER t{i}_touch ON t{i};\n\
                 DROP FUNCTION t{i}_touch();\n{down}"
            );
        }
        let name = format!("V{i}__step_{i}.sql");
        fs::write(dir.join("migrations").join(&name), up).unwrap();
        fs::write(dir.join("rollbacks").join(&name), down).unwrap();
    }
}

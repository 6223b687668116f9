//! Random concurrent writers: `clients` sessions, each running transactions of one to three
//! random writes on both sides (synced columns, all of them, one or a subset, set to random
//! values or NULL, one row at a time, several in one statement, or by an upsert; children
//! inserted, re-pointed, deleted; parents re-keyed and deleted; for a column kind, either
//! column written, in one row, several in one statement or by an upsert, rows inserted
//! through either, deleted) for `seconds`, retrying deadlocks and serialization failures as
//! a client would. The copies are counted by the caller afterwards.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::Serialize;

use super::ops::{self, ALL, Ended, Op, VALUES, Which, Writes};
use super::target::Target;
use crate::conninfo::ConnInfo;

/// How many parents (or rows) the writers share.
const HOT: usize = 64;

/// What the writers did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Traffic {
    pub transactions: u64,
    pub committed: u64,
    pub retries: u64,
    /// Refused as the schema means (integrity violations, refused copy edits).
    pub refused: u64,
    /// Failed for another reason.
    pub failed: u64,
    /// The first few failures' messages.
    pub failures: Vec<String>,
}

impl Traffic {
    fn add(&mut self, other: Traffic) {
        self.transactions += other.transactions;
        self.committed += other.committed;
        self.retries += other.retries;
        self.refused += other.refused;
        self.failed += other.failed;
        for failure in other.failures {
            if self.failures.len() < 5 && !self.failures.contains(&failure) {
                self.failures.push(failure);
            }
        }
    }
}

/// A small xorshift generator: the writers need variety, not cryptography.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Random {
        Random(seed.max(1))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }

    fn pick<'a>(&mut self, keys: &'a [String]) -> &'a str {
        &keys[self.below(keys.len() as u64) as usize]
    }

    /// Which of `count` synced columns a write sets: all of them, one, or a random subset,
    /// a third of the time each.
    fn which(&mut self, count: usize) -> Which {
        let bits = count.clamp(1, 63) as u64;
        match self.below(3) {
            0 => ALL,
            1 => 1 << self.below(bits),
            _ => match self.below(1 << bits) {
                0 => ALL,
                subset => subset,
            },
        }
    }

    /// Two or three keys next to each other in `keys`.
    fn run<'a>(&mut self, keys: &'a [String]) -> Vec<&'a str> {
        let start = self.below(keys.len() as u64) as usize;
        let len = 2 + self.below(2) as usize;
        keys[start..(start + len).min(keys.len())]
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// A value of the few, or NULL one time in eight.
    fn value(&mut self) -> Option<i64> {
        let i = self.below(VALUES as u64 + 1) as i64;
        (i < VALUES).then_some(i)
    }
}

/// Runs the writers and sums what they did.
pub fn run(server: &ConnInfo, writes: &Writes, clients: u32, seconds: f64) -> Result<Traffic> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    let results: Vec<Result<Traffic>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|i| {
                let seed = seed.wrapping_add(u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                scope.spawn(move || writer(server, writes, until, i, seed))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a writer thread panicked")))
            })
            .collect()
    });
    let mut total = Traffic::default();
    for result in results {
        total.add(result?);
    }
    Ok(total)
}

fn writer(
    server: &ConnInfo,
    writes: &Writes,
    until: Instant,
    index: u32,
    seed: u64,
) -> Result<Traffic> {
    let mut client = server.connect()?;
    let mut random = Random::new(seed);
    let mut traffic = Traffic::default();
    let copy = matches!(writes.target, Target::Copy { .. });
    let (mut parents, mut rows) = hot_rows(&mut client, writes, copy)?;
    // Numbers of rows this writer inserts: apart from every other writer's and the fill's.
    let mut n = 100_000_000 + i64::from(index) * 10_000_000;
    while Instant::now() < until {
        if traffic.transactions % 100 == 99 {
            (parents, rows) = hot_rows(&mut client, writes, copy)?;
        }
        if rows.is_empty() || (copy && parents.is_empty()) {
            break;
        }
        let count = 1 + random.below(3);
        let ops: Vec<Op> = (0..count)
            .map(|_| {
                n += 1;
                if copy {
                    copy_op(writes, &mut random, &parents, &rows, n)
                } else {
                    column_op(writes, &mut random, &rows, n)
                }
            })
            .collect();
        let (ended, retries) = ops::transaction(&mut client, &ops, writes)?;
        traffic.transactions += 1;
        traffic.retries += retries;
        match ended {
            Ended::Committed => traffic.committed += 1,
            Ended::Refused(_) => traffic.refused += 1,
            Ended::Failed(why) => {
                traffic.failed += 1;
                if traffic.failures.len() < 5 && !traffic.failures.contains(&why) {
                    traffic.failures.push(why);
                }
            }
        }
    }
    Ok(traffic)
}

/// The rows every writer works on: a few, so that writers meet (a copy: the first parents by
/// key and their children; a column kind: the first rows by key).
fn hot_rows(
    client: &mut postgres::Client,
    writes: &Writes,
    copy: bool,
) -> Result<(Vec<String>, Vec<String>)> {
    let filter = format!("ORDER BY 1 LIMIT {HOT}");
    if !copy {
        return Ok((Vec::new(), writes.keys(client, false, &filter)?));
    }
    let parents = writes.keys(client, true, &filter)?;
    let mut children = Vec::new();
    for parent in &parents {
        children.extend(writes.children_of(client, parent)?);
    }
    Ok((parents, children))
}

fn copy_op(
    writes: &Writes,
    random: &mut Random,
    parents: &[String],
    children: &[String],
    n: i64,
) -> Op {
    let which = random.which(writes.synced_count());
    let value = random.value();
    let fallback = |random: &mut Random| writes.parent_update(random.pick(parents), which, value);
    match random.below(100) {
        0..=24 => writes.parent_update(random.pick(parents), which, value),
        25..=47 => writes.child_update(random.pick(children), which, value),
        // Several rows in one statement; children are listed parent by parent, so a run of
        // them is mostly siblings.
        48..=52 => writes.many_update(true, &random.run(parents), which, value),
        53..=57 => writes.many_update(false, &random.run(children), which, value),
        58..=62 => writes
            .upsert(true, random.pick(parents), which, value)
            .unwrap_or_else(|| fallback(random)),
        63..=67 => writes
            .upsert(false, random.pick(children), which, value)
            .unwrap_or_else(|| fallback(random)),
        68..=79 => writes.child_insert(random.pick(parents), n),
        80..=88 => writes.child_repoint(random.pick(children), random.pick(parents)),
        89..=94 => writes.child_delete(random.pick(children)),
        95..=97 => writes
            .parent_rekey(random.pick(parents), n)
            .unwrap_or_else(|| fallback(random)),
        _ => writes.parent_delete(random.pick(parents)),
    }
}

fn column_op(writes: &Writes, random: &mut Random, rows: &[String], n: i64) -> Op {
    let through_new = random.below(2) == 0;
    match random.below(100) {
        0..=33 => writes.old_update(random.pick(rows), random.value()),
        34..=67 => writes.new_update(random.pick(rows), random.value()),
        68..=73 => writes.many_column_update(&random.run(rows), through_new, random.value()),
        74..=79 => {
            let key = random.pick(rows);
            let value = random.value();
            writes
                .column_upsert(key, through_new, value)
                .unwrap_or_else(|| writes.new_update(key, value))
        }
        80..=87 => writes.insert_old(n),
        88..=95 => writes.insert_new(n, random.value()),
        _ => writes.row_delete(random.pick(rows)),
    }
}

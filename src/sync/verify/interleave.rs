//! Deterministic interleavings: session A makes its write inside an open transaction; session
//! B (another connection, on its own thread) starts its write, which either blocks on A's
//! locks or runs through; then A commits, B finishes, and the copies are counted. Every risky
//! pair runs in both orders, each on rows of its own (fresh parents, their children), so one
//! interleaving's outcome cannot hide another's.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use postgres::Client;
use serde::Serialize;

use super::ops::{self, ALL, Ended, Op, Writes};
use crate::conninfo::ConnInfo;

/// How long B may run before it is taken as not blocking (it then commits before A).
const BLOCK_WAIT: Duration = Duration::from_secs(3);

/// One interleaving and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Interleaving {
    pub name: String,
    /// Whether B waited for A's locks.
    pub blocked: bool,
    /// How A's and B's transactions ended.
    pub first: String,
    pub second: String,
    pub retries: u64,
    /// Copies that differ after it (and did not before).
    pub divergent: i64,
    /// A transaction failed for a reason other than a retryable conflict or a refusal.
    pub failed: bool,
}

/// A pair of writes, A's then B's.
struct Pair {
    name: String,
    first: Op,
    second: Op,
}

/// Runs every interleaving for the target.
pub fn run_all(server: &ConnInfo, writes: &Writes) -> Result<Vec<Interleaving>> {
    let mut a = server.connect()?;
    let pairs = match writes.target {
        super::target::Target::Copy { .. } => copy_pairs(&mut a, writes)?,
        super::target::Target::Column { .. } => column_pairs(&mut a, writes)?,
    };
    let mut b = server.connect()?;
    let mut watcher = server.connect()?;
    let mut results = Vec::new();
    for pair in pairs {
        results.push(interleave(&mut a, &mut b, &mut watcher, writes, pair)?);
    }
    Ok(results)
}

/// Rows for the interleavings, each used once: parents with children, parents without,
/// (column kind) rows; and numbers for inserted rows.
struct Rows {
    with: Vec<String>,
    without: Vec<String>,
    n: i64,
}

impl Rows {
    fn take(list: &mut Vec<String>) -> Result<String> {
        list.pop()
            .context("the generated rows ran out for the interleavings")
    }

    fn with(&mut self) -> Result<String> {
        Rows::take(&mut self.with)
    }

    fn without(&mut self) -> Result<String> {
        Rows::take(&mut self.without)
    }

    fn n(&mut self) -> i64 {
        self.n += 1;
        self.n
    }
}

type Make<'a> = dyn Fn(&mut Client, &mut Rows) -> Result<(Op, Op)> + 'a;

/// A pair of writes in both orders, each order on fresh rows from `make`.
fn both(
    pairs: &mut Vec<Pair>,
    client: &mut Client,
    rows: &mut Rows,
    what: &str,
    make: &Make,
) -> Result<()> {
    let (x, y) = make(client, rows)?;
    pairs.push(Pair {
        name: format!("{} then {} ({what})", x.label, y.label),
        first: x,
        second: y,
    });
    let (x, y) = make(client, rows)?;
    pairs.push(Pair {
        name: format!("{} then {} ({what})", y.label, x.label),
        first: y,
        second: x,
    });
    Ok(())
}

/// Values the fill never uses, so that each interleaving's writes are real changes.
const X: Option<i64> = Some(101);
const Y: Option<i64> = Some(102);

fn copy_pairs(client: &mut Client, writes: &Writes) -> Result<Vec<Pair>> {
    let parents = writes.keys(client, true, "ORDER BY 1 LIMIT 400")?;
    let mut rows = Rows {
        with: Vec::new(),
        without: Vec::new(),
        n: 50_000_000,
    };
    for key in parents {
        match writes.children_of(client, &key)?.len() {
            0 => rows.without.push(key),
            1 => {}
            _ => rows.with.push(key),
        }
    }
    let first_child = |client: &mut Client, parent: &str| -> Result<String> {
        Rows::take(&mut writes.children_of(client, parent)?)
    };
    let mut pairs = Vec::new();
    let rows = &mut rows;
    both(
        &mut pairs,
        client,
        rows,
        "a new child must start from the parent's current values",
        &|_, rows| {
            let p = rows.without()?;
            Ok((
                writes.child_insert(&p, rows.n()),
                writes.parent_update(&p, ALL, X),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a new child, NULL written to the parent",
        &|_, rows| {
            let p = rows.without()?;
            Ok((
                writes.child_insert(&p, rows.n()),
                writes.parent_update(&p, ALL, None),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a re-pointed child must take its new parent's values",
        &|client, rows| {
            let child = first_child(client, &rows.with()?)?;
            let to = rows.without()?;
            Ok((
                writes.child_repoint(&child, &to),
                writes.parent_update(&to, ALL, X),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a re-pointed child, its old parent changing",
        &|client, rows| {
            let from = rows.with()?;
            let child = first_child(client, &from)?;
            Ok((
                writes.child_repoint(&child, &rows.without()?),
                writes.parent_update(&from, ALL, X),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a child deleted while its parent changes",
        &|client, rows| {
            let p = rows.with()?;
            Ok((
                writes.child_delete(&first_child(client, &p)?),
                writes.parent_update(&p, ALL, X),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a parent deleted while a child changes",
        &|client, rows| {
            let p = rows.with()?;
            Ok((
                writes.parent_delete(&p),
                writes.child_update(&first_child(client, &p)?, ALL, Y),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "opposite updates of a parent and its child",
        &|client, rows| {
            let p = rows.with()?;
            Ok((
                writes.parent_update(&p, ALL, X),
                writes.child_update(&first_child(client, &p)?, ALL, Y),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "opposite updates, one of them to NULL",
        &|client, rows| {
            let p = rows.with()?;
            Ok((
                writes.parent_update(&p, ALL, None),
                writes.child_update(&first_child(client, &p)?, ALL, Y),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "two children of one parent",
        &|client, rows| {
            let mut children = writes.children_of(client, &rows.with()?)?;
            let (c1, c2) = (Rows::take(&mut children)?, Rows::take(&mut children)?);
            Ok((
                writes.child_update(&c1, ALL, X),
                writes.child_update(&c2, ALL, Y),
            ))
        },
    )?;
    if writes.synced_count() > 1 {
        // One column each: a trigger that watches, copies or pushes only some columns lets
        // one of these through.
        let last = 1 << (writes.synced_count() - 1).min(63);
        both(
            &mut pairs,
            client,
            rows,
            "a parent's first column and its child's last one",
            &|client, rows| {
                let p = rows.with()?;
                Ok((
                    writes.parent_update(&p, 1, X),
                    writes.child_update(&first_child(client, &p)?, last, Y),
                ))
            },
        )?;
        both(
            &mut pairs,
            client,
            rows,
            "a parent's last column and a child's first one",
            &|client, rows| {
                let p = rows.with()?;
                Ok((
                    writes.child_update(&first_child(client, &p)?, 1, Y),
                    writes.parent_update(&p, last, X),
                ))
            },
        )?;
    }
    both(
        &mut pairs,
        client,
        rows,
        "siblings given different values in one statement, their parent changing",
        &|client, rows| {
            let p = rows.with()?;
            let children = writes.children_of(client, &p)?;
            let keys: Vec<&str> = children.iter().map(String::as_str).collect();
            Ok((
                writes.many_update(false, &keys, ALL, X),
                writes.parent_update(&p, ALL, Y),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "two parents in one statement, a child of one of them changing",
        &|client, rows| {
            let (p, q) = (rows.with()?, rows.with()?);
            Ok((
                writes.many_update(true, &[&p, &q], ALL, X),
                writes.child_update(&first_child(client, &q)?, ALL, Y),
            ))
        },
    )?;
    if let (Some(_), Some(_)) = (
        writes.upsert(true, "", ALL, X),
        writes.upsert(false, "", ALL, X),
    ) {
        both(
            &mut pairs,
            client,
            rows,
            "a child upserted while its parent changes",
            &|client, rows| {
                let p = rows.with()?;
                let child = first_child(client, &p)?;
                Ok((
                    writes
                        .upsert(false, &child, ALL, Y)
                        .context("child upsert")?,
                    writes.parent_update(&p, ALL, X),
                ))
            },
        )?;
        both(
            &mut pairs,
            client,
            rows,
            "a parent upserted while a child changes",
            &|client, rows| {
                let p = rows.with()?;
                let child = first_child(client, &p)?;
                Ok((
                    writes.upsert(true, &p, ALL, X).context("parent upsert")?,
                    writes.child_update(&child, ALL, Y),
                ))
            },
        )?;
    }
    if writes.parent_rekey("", 0).is_some() {
        both(
            &mut pairs,
            client,
            rows,
            "a parent's key changed while it changes; children follow an ON UPDATE CASCADE key",
            &|_, rows| {
                let p = rows.with()?;
                let n = rows.n();
                Ok((
                    writes.parent_rekey(&p, n).context("parent key update")?,
                    writes.parent_update(&p, ALL, X),
                ))
            },
        )?;
        both(
            &mut pairs,
            client,
            rows,
            "a parent's key changed while a child is inserted",
            &|_, rows| {
                let p = rows.without()?;
                let n = rows.n();
                Ok((
                    writes.parent_rekey(&p, n).context("parent key update")?,
                    writes.child_insert(&p, rows.n()),
                ))
            },
        )?;
    }
    Ok(pairs)
}

fn column_pairs(client: &mut Client, writes: &Writes) -> Result<Vec<Pair>> {
    let mut rows = Rows {
        with: writes.keys(client, false, "ORDER BY 1 LIMIT 40")?,
        without: Vec::new(),
        n: 60_000_000,
    };
    let rows = &mut rows;
    let mut pairs = Vec::new();
    both(
        &mut pairs,
        client,
        rows,
        "the same row written through either column",
        &|_, rows| {
            let key = rows.with()?;
            Ok((
                writes.old_update(&key, Some(3)),
                writes.new_update(&key, Some(5)),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "NULL written through one column",
        &|_, rows| {
            let key = rows.with()?;
            Ok((
                writes.old_update(&key, None),
                writes.new_update(&key, Some(5)),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "NULL written through the other column",
        &|_, rows| {
            let key = rows.with()?;
            Ok((
                writes.old_update(&key, Some(3)),
                writes.new_update(&key, None),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "the same row written through the same column",
        &|_, rows| {
            let key = rows.with()?;
            Ok((
                writes.new_update(&key, Some(2)),
                writes.new_update(&key, Some(6)),
            ))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "a row deleted while written",
        &|_, rows| {
            let key = rows.with()?;
            Ok((writes.row_delete(&key), writes.new_update(&key, Some(4))))
        },
    )?;
    both(
        &mut pairs,
        client,
        rows,
        "two rows written through new in one statement, one of them through old",
        &|_, rows| {
            let (k1, k2) = (rows.with()?, rows.with()?);
            Ok((
                writes.many_column_update(&[&k1, &k2], true, Some(2)),
                writes.old_update(&k1, Some(6)),
            ))
        },
    )?;
    if writes.column_upsert("", true, Some(1)).is_some() {
        both(
            &mut pairs,
            client,
            rows,
            "a row upserted through new while written through old",
            &|_, rows| {
                let key = rows.with()?;
                Ok((
                    writes
                        .column_upsert(&key, true, Some(5))
                        .context("upsert")?,
                    writes.old_update(&key, Some(3)),
                ))
            },
        )?;
    }
    both(
        &mut pairs,
        client,
        rows,
        "inserts through either column",
        &|_, rows| {
            Ok((
                writes.insert_old(rows.n()),
                writes.insert_new(rows.n(), Some(1)),
            ))
        },
    )?;
    Ok(pairs)
}

/// Runs one pair: A's write in an open transaction, B's on its own thread until it blocks
/// (or finishes), A's commit, B's end; then counts the copies.
fn interleave(
    a: &mut Client,
    b: &mut Client,
    watcher: &mut Client,
    writes: &Writes,
    pair: Pair,
) -> Result<Interleaving> {
    let (before, _) = writes.divergent(a)?;
    let b_pid: i32 = b.query_one("SELECT pg_backend_pid()", &[])?.get(0);
    let mut tx = a.transaction()?;
    let held = ops::run(&mut tx, &pair.first);
    let first = std::slice::from_ref(&pair.first);
    let (second, blocked, ended) = thread::scope(|scope| -> Result<_> {
        let (done_tx, done_rx) = mpsc::channel();
        let second = &pair.second;
        let worker = scope.spawn(move || {
            let ended = ops::transaction(b, std::slice::from_ref(second), writes);
            let _ = done_tx.send(());
            ended
        });
        let blocked = match &held {
            Ok(_) => wait_blocked(watcher, b_pid, &done_rx)?,
            Err(_) => false,
        };
        // A ends: its write went through (commit) or failed (its error is its outcome).
        let ended = match held {
            Ok(_) => tx.commit(),
            Err(err) => {
                // Rolled back now: B may be waiting for the locks A took before it failed.
                drop(tx);
                Err(err)
            }
        };
        let second = worker
            .join()
            .map_err(|_| anyhow::anyhow!("session B's thread panicked"))??;
        Ok((second, blocked, ended))
    })?;
    let (second, mut retries) = second;
    let first = match ended {
        Ok(()) => Ended::Committed,
        // Run again after B, as a client retries a deadlock or serialization failure.
        Err(err) if ops::retryable(&err) => {
            let (ended, more) = ops::transaction(a, first, writes)?;
            retries += 1 + more;
            ended
        }
        Err(err) => ops::judge(&err, first, writes),
    };
    let (after, _) = writes.divergent(a)?;
    let failed = matches!(first, Ended::Failed(_)) || matches!(second, Ended::Failed(_));
    Ok(Interleaving {
        name: pair.name,
        blocked,
        first: describe(&first),
        second: describe(&second),
        retries,
        divergent: (after - before).max(0),
        failed,
    })
}

fn describe(ended: &Ended) -> String {
    match ended {
        Ended::Committed => "committed".into(),
        Ended::Refused(why) => format!("refused: {why}"),
        Ended::Failed(why) => format!("failed: {why}"),
    }
}

/// Waits until session `pid` waits for a lock (true) or its transaction ended (false).
fn wait_blocked(watcher: &mut Client, pid: i32, done: &mpsc::Receiver<()>) -> Result<bool> {
    let started = Instant::now();
    while started.elapsed() < BLOCK_WAIT {
        if done.try_recv().is_ok() {
            return Ok(false);
        }
        let waiting: bool = watcher
            .query_one(
                "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) \
                 FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .context("watching session B")?
            .get(0);
        if waiting {
            return Ok(true);
        }
        thread::sleep(Duration::from_millis(5));
    }
    Ok(false)
}

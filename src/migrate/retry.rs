//! Retrying work that lost a race: a lock wait that hit `lock_timeout` (55P03), a deadlock
//! (40P01) or a serialization failure (40001). The work is a whole transaction (or one
//! no-transaction statement, which commits nothing when it fails), so after the failure
//! nothing of it is left and running it again is safe. Between attempts a growing pause with
//! jitter lets the queue behind the blocker drain; every wait is reported with the sessions
//! that caused it. After the last attempt the error names them and the settings to change.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use postgres::Client;
use serde::Serialize;

use crate::error::{Blocked, Refusal};
use crate::migrate::watch::{self, Blocker, Watch};
use crate::source_error::SourceError;

/// One failed attempt that will be retried after `pause_ms`.
#[derive(Debug, Clone, Serialize)]
pub struct Retry {
    /// 1-based number of the attempt that failed, and how many there may be.
    pub attempt: u32,
    pub attempts: u32,
    /// The SQLSTATE: 55P03, 40P01 or 40001.
    pub code: String,
    /// What that code means, in words.
    pub cause: &'static str,
    pub blockers: Vec<Blocker>,
    pub pause_ms: u64,
}

/// How attempts are made: the watcher, the backend it watches and the limits in force.
pub struct Attempts<'w> {
    pub watch: &'w Watch,
    pub pid: i32,
    pub lock_timeout: Duration,
    pub retries: u32,
    /// Why the work is attempted once only whatever `lock_retries` says, for the error.
    pub not_retried: Option<&'static str>,
}

/// Runs `work` until it succeeds, fails for another reason, or has lost the race
/// `retries + 1` times; `what` names it in the final error (`migration 5 (add_x)`).
pub fn attempt<T>(
    client: &mut Client,
    attempts: Attempts,
    what: &str,
    on_retry: &mut dyn FnMut(&Retry),
    mut work: impl FnMut(&mut Client) -> Result<T>,
) -> Result<T> {
    let total = attempts.retries.saturating_add(1);
    let probe = watch::probe_interval(attempts.lock_timeout);
    for number in 1..=total {
        let (result, blockers) = attempts
            .watch
            .watching(what, attempts.pid, probe, || work(client));
        let err = match result {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let Some((code, cause)) = lost_race(&err) else {
            return Err(err);
        };
        if number == total {
            return Err(anyhow::Error::new(Refusal::Blocked(Box::new(Blocked {
                what: what.to_string(),
                attempts: total,
                cause: cause.to_string(),
                lock_timeout_ms: attempts.lock_timeout.as_millis() as u64,
                blockers: watch::describe(&blockers),
                blocker_pids: blockers.iter().map(|b| b.pid).collect(),
                error: format!("{err:#}"),
                not_retried: attempts.not_retried,
            }))));
        }
        let pause = backoff(number);
        on_retry(&Retry {
            attempt: number,
            attempts: total,
            code: code.to_string(),
            cause,
            blockers,
            pause_ms: pause.as_millis() as u64,
        });
        std::thread::sleep(pause);
    }
    unreachable!("the loop returns on its last attempt")
}

/// The SQLSTATE of a server error that a retry can cure, and what it means.
pub fn lost_race(err: &anyhow::Error) -> Option<(&'static str, &'static str)> {
    match sqlstate(err)?.as_str() {
        "55P03" => Some(("55P03", "timed out waiting for a lock (lock_timeout)")),
        "40P01" => Some(("40P01", "was chosen as the victim of a deadlock")),
        "40001" => Some(("40001", "hit a serialization failure")),
        _ => None,
    }
}

/// Whether the server refused a statement because views depend on what it drops or retypes:
/// 2BP01 (dependent objects still exist), or 0A000 ("cannot alter type of a column used by a
/// view or rule").
pub fn views_in_the_way(err: &anyhow::Error) -> bool {
    matches!(sqlstate(err).as_deref(), Some("2BP01" | "0A000"))
}

/// The SQLSTATE of the server error behind `err`, if a server error caused it.
pub fn sqlstate(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(source) = cause.downcast_ref::<SourceError>() {
            return Some(source.code.clone());
        }
        cause
            .downcast_ref::<postgres::Error>()
            .and_then(|e| e.code())
            .map(|c| c.code().to_string())
    })
}

/// The pause after failed attempt `number` (1-based): 0.5 s doubling up to 5 s, each drawn
/// between half and all of that, so that two runs retrying together drift apart.
pub fn backoff(number: u32) -> Duration {
    let ceiling_ms = (500u64 << number.saturating_sub(1).min(4)).min(5_000);
    let floor_ms = ceiling_ms / 2;
    Duration::from_millis(floor_ms + jitter(ceiling_ms - floor_ms + 1))
}

/// A number in `0..below` that differs between processes and calls; not for cryptography.
fn jitter(below: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // splitmix64 over the clock and the pid.
    let mut x = u64::from(nanos) ^ (u64::from(std::process::id()) << 32);
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    x % below.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_five_seconds_with_jitter() {
        for (number, low, high) in [(1, 250, 500), (2, 500, 1_000), (4, 2_000, 4_000)] {
            for _ in 0..20 {
                let pause = backoff(number).as_millis() as u64;
                assert!((low..=high).contains(&pause), "{number}: {pause}");
            }
        }
        for number in [5, 9, 40, u32::MAX] {
            let pause = backoff(number).as_millis() as u64;
            assert!((2_500..=5_000).contains(&pause), "{number}: {pause}");
        }
    }

    #[test]
    fn only_lost_races_are_retried() {
        let located = |code: &str| {
            anyhow::Error::new(SourceError {
                file: "migrations/V1__x.sql".into(),
                location: None,
                code: code.into(),
                severity: "ERROR".into(),
                message: "m".into(),
                detail: None,
                hint: None,
                context: None,
                excerpt: None,
            })
            .context("running it")
        };
        assert_eq!(lost_race(&located("55P03")).map(|r| r.0), Some("55P03"));
        assert_eq!(lost_race(&located("40P01")).map(|r| r.0), Some("40P01"));
        assert_eq!(lost_race(&located("40001")).map(|r| r.0), Some("40001"));
        assert_eq!(lost_race(&located("42P01")), None);
        assert_eq!(lost_race(&located("57014")), None);
        assert_eq!(lost_race(&anyhow::anyhow!("55P03")), None);
    }
}

//! `check`'s temporary database on a server the user named: creating it with a record of who
//! made it, dropping it, and dropping those left by a `check` that was killed (SIGKILL, a
//! crash, a lost machine) before it could drop its own.
//!
//! The record is the database's comment: host name, boot id, pid namespace, pid and the
//! process's start time. A leftover is dropped only when its maker is provably gone: the
//! record was made under this boot, in this pid namespace (so the pid means the same process
//! here), and that pid no longer runs or runs with another start time; and nobody is
//! connected to it. A database made on another host, in another container, before a reboot or
//! without a record is never dropped: whether its maker still runs cannot be known from here.
//! This module never prints: it returns what it did.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use postgres::Client;

use crate::conninfo::ConnInfo;
use crate::db::quote_ident;
use crate::scratch::process::{self, Pid};

/// Every temporary database's name starts with this.
pub const PREFIX: &str = "pgstrata_check_";

const LIST: &str = include_str!("queries/check_databases.sql");
const COMMENT: &str = include_str!("queries/check_comment.sql");
/// The first word of a maker record.
const RECORD_TAG: &str = "pgstrata-check";

/// Who made a temporary database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maker {
    pub host: String,
    pub boot_id: String,
    pub pid_namespace: String,
    pub pid: Pid,
    /// Clock ticks after boot.
    pub started: u64,
}

impl Maker {
    /// This process, or `None` where `/proc` does not tell (then no record is written and the
    /// database can only be dropped by hand if this run is killed).
    pub fn current() -> Option<Maker> {
        let pid = Pid::current();
        Some(Maker {
            host: process::hostname(),
            boot_id: process::boot_id()?,
            pid_namespace: process::pid_namespace()?,
            pid,
            started: pid.start_time()?,
        })
    }

    /// The record, as stored in the database's comment: words of `key=value` after a tag.
    pub fn record(&self) -> String {
        format!(
            "{RECORD_TAG} host={} boot={} pidns={} pid={} started={}",
            self.host.replace(char::is_whitespace, "_"),
            self.boot_id,
            self.pid_namespace,
            self.pid,
            self.started
        )
    }

    /// Reads a record back; `None` for anything else (another tool's comment, none at all).
    pub fn parse(record: &str) -> Option<Maker> {
        let mut words = record.split_whitespace();
        if words.next() != Some(RECORD_TAG) {
            return None;
        }
        let (mut host, mut boot, mut pidns, mut pid, mut started) = (None, None, None, None, None);
        for word in words {
            match word.split_once('=')? {
                ("host", v) => host = Some(v.to_string()),
                ("boot", v) => boot = Some(v.to_string()),
                ("pidns", v) => pidns = Some(v.to_string()),
                ("pid", v) => pid = Pid::parse(v),
                ("started", v) => started = v.parse().ok(),
                _ => {}
            }
        }
        Some(Maker {
            host: host?,
            boot_id: boot?,
            pid_namespace: pidns?,
            pid: pid?,
            started: started?,
        })
    }

    /// Whether this maker is provably gone, judged by `here` (the current process's maker).
    pub fn is_gone(&self, here: &Maker) -> bool {
        let same_processes =
            self.boot_id == here.boot_id && self.pid_namespace == here.pid_namespace;
        same_processes && self.pid != here.pid && !self.pid.runs(Some(self.started))
    }
}

/// Creates a temporary database for `check` through `admin` (a connection to the named
/// server) and records who made it. Returns its name.
pub fn create(admin: &mut Client, server: &ConnInfo) -> Result<String> {
    let name = format!(
        "{PREFIX}{}_{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            quote_ident(&name)
        ))
        .with_context(|| {
            format!(
                "creating the temporary database {name} for check on {} (the role needs \
                 CREATEDB; or name no server for check, and it uses a scratch server)",
                server.describe()
            )
        })?;
    if let Some(maker) = Maker::current() {
        let recorded = admin
            .query_one(COMMENT, &[&name, &maker.record()])
            .and_then(|row| admin.batch_execute(row.get::<_, &str>(0)));
        if let Err(err) = recorded {
            // Without the record a later check cannot clean up after a killed one; the check
            // itself is unaffected, so drop what was made and say why.
            let _ = drop_database(server, &name);
            return Err(err).with_context(|| {
                format!("recording who made the temporary database {name} (its comment)")
            });
        }
    }
    Ok(name)
}

/// Drops a temporary database, whoever is still connected to it.
pub fn drop_database(server: &ConnInfo, name: &str) -> Result<()> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    server.connect()?.batch_execute(&sql)?;
    Ok(())
}

/// What the clean-up of leftovers did.
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    /// Dropped: their makers are provably gone.
    pub dropped: Vec<String>,
    /// Kept although nobody is connected: made on another host or container, before a
    /// reboot, or without a record, so whether the maker runs cannot be known here.
    pub unknown: Vec<(String, Option<Maker>)>,
}

/// Drops the temporary databases on `admin`'s server whose maker is provably gone and that
/// nobody is connected to. A database that cannot be dropped (another role's, or someone
/// connected meanwhile) is left as it is.
pub fn remove_leftovers(admin: &mut Client) -> Result<Leftovers> {
    let mut leftovers = Leftovers::default();
    let Some(here) = Maker::current() else {
        return Ok(leftovers);
    };
    let rows = admin
        .query(LIST, &[])
        .context("listing check's temporary databases")?;
    for row in rows {
        let name: String = row.get("name");
        let sessions: i64 = row.get("sessions");
        let maker = row
            .get::<_, Option<String>>("maker")
            .as_deref()
            .and_then(Maker::parse);
        if sessions > 0 {
            continue;
        }
        match maker {
            Some(maker) if maker.is_gone(&here) => {
                // Without FORCE: should anyone connect meanwhile, the server refuses, and the
                // database stays.
                let sql = format!("DROP DATABASE {}", quote_ident(&name));
                if admin.batch_execute(&sql).is_ok() {
                    leftovers.dropped.push(name);
                }
            }
            Some(maker) if maker.pid == here.pid && maker.boot_id == here.boot_id => {}
            other => leftovers.unknown.push((name, other)),
        }
    }
    Ok(leftovers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back() {
        let maker = Maker::current().unwrap();
        assert_eq!(Maker::parse(&maker.record()), Some(maker));
        assert_eq!(Maker::parse("made by hand"), None);
        assert_eq!(Maker::parse("pgstrata-check host=a pid=4294967295"), None);
    }

    #[test]
    fn only_a_maker_of_this_boot_and_namespace_that_no_longer_runs_is_gone() {
        let here = Maker::current().unwrap();
        assert!(!here.is_gone(&here), "this process runs");
        let restarted = Maker {
            started: here.started + 1,
            pid: Pid::new(1).unwrap(),
            ..here.clone()
        };
        assert!(
            restarted.is_gone(&here),
            "pid 1 runs, but started at another time"
        );
        let elsewhere = Maker {
            pid_namespace: "pid:[1]".into(),
            ..restarted.clone()
        };
        assert!(!elsewhere.is_gone(&here), "another container: unknown");
        let other_boot = Maker {
            boot_id: "another".into(),
            ..restarted
        };
        assert!(!other_boot.is_gone(&here), "another boot or host: unknown");
    }
}

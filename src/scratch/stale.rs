//! Leftovers of a pgstrata that was killed before it could clean up (SIGKILL, a crash, a power
//! cut): scratch server directories under the scratch parent and half-copied clusters
//! (`.partial-*`) in the cluster cache. The next start of a scratch server removes them.
//!
//! The scratch parent is usually world-writable (`/dev/shm`, `/tmp`), so anyone can plant a
//! directory there that looks like ours. Only a directory that is provably ours is touched: a
//! real directory (not a symlink) owned by the account our servers run as, with mode 0700, whose
//! creator (pid and start time, from its name) no longer runs. A server still running in one is
//! stopped only when the pid in its `postmaster.pid` is a `postgres` process working in that
//! very data directory and started when the file says; anything else is never signalled.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::scratch::process::{Pid, canonical, effective_uid};

/// Deletes the scratch directories under `parent` whose pgstrata is gone, stopping a server
/// still running in one. `owner_uid` is the account our scratch servers run as.
pub(super) fn remove_stale_directories(parent: &Path, prefix: &str, owner_uid: u32) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let path = entry.path();
        if !creator_is_gone(rest) || !provably_ours(&path, owner_uid) {
            continue;
        }
        if let Some(postmaster) = postmaster_of(&path.join("data")) {
            stop(postmaster);
        }
        // remove_dir_all does not follow symlinks inside the directory.
        let _ = fs::remove_dir_all(&path);
    }
}

/// Deletes `.partial-*` directories in the cluster cache left by a process killed while it
/// copied a fresh cluster there.
pub(super) fn remove_stale_partials(cache: &Path) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PARTIAL_PREFIX)) else {
            continue;
        };
        let path = entry.path();
        // Copied by this process's own account, with the cluster's mode (0700).
        if creator_is_gone(rest) && provably_ours(&path, effective_uid()) {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

pub(super) const PARTIAL_PREFIX: &str = ".partial-";

/// The name of a leftover made by this process: `<pid>-<start time>-<serial>`.
pub(super) fn name_part(serial: u32) -> String {
    let me = Pid::current();
    format!("{me}-{}-{serial}", me.start_time().unwrap_or(0))
}

/// Whether the process that named a leftover `<pid>-<start time>-<serial>` (or, before
/// pgstrata recorded start times, `<pid>-<serial>`) is provably gone. An unreadable name is
/// not ours: false.
fn creator_is_gone(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let (pid, started) = match parts.as_slice() {
        [pid, started, serial] if is_number(serial) => (pid, Some(started.parse::<u64>())),
        [pid, serial] if is_number(serial) => (pid, None),
        _ => return false,
    };
    let Some(pid) = Pid::parse(pid) else {
        return false;
    };
    match started {
        _ if pid == Pid::current() => false,
        Some(Ok(0)) | None => !pid.alive(),
        Some(Ok(started)) => !pid.runs(Some(started)),
        Some(Err(_)) => false,
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A real directory (not a symlink), owned by `uid`, that only its owner may enter (0700):
/// what pgstrata creates, and what another user cannot plant.
fn provably_ours(path: &Path, uid: u32) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| {
        meta.file_type().is_dir() && meta.uid() == uid && meta.mode() & 0o7777 == 0o700
    })
}

/// The running postmaster of `data`, proved from the process itself rather than the file's
/// word: the pid in `postmaster.pid` (a regular file of a sane size) is in range, runs a
/// command named `postgres`, works in `data` (the postmaster changes into its data directory)
/// and started when the file says.
fn postmaster_of(data: &Path) -> Option<Pid> {
    let file = data.join("postmaster.pid");
    let meta = fs::symlink_metadata(&file).ok()?;
    if !meta.file_type().is_file() || meta.len() > 64 * 1024 {
        return None;
    }
    let mut text = String::new();
    fs::File::open(&file)
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    let mut lines = text.lines();
    let pid = Pid::parse(lines.next()?)?;
    let started: u64 = lines.nth(1)?.trim().parse().ok()?;
    if pid == Pid::current() || pid.command().as_deref() != Some("postgres") {
        return None;
    }
    if canonical(&pid.cwd()?) != canonical(data) {
        return None;
    }
    let actual = pid.started_at_epoch()?;
    (actual.abs_diff(started) <= 2).then_some(pid)
}

/// Immediate shutdown (SIGQUIT), then a short wait for the server to go.
fn stop(postmaster: Pid) {
    if !postmaster.signal(libc::SIGQUIT) {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while postmaster.alive() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_ours_or_whose_creator_runs_are_kept() {
        let me = Pid::current();
        let started = me.start_time().unwrap();
        for kept in [
            format!("{me}-{started}-0"),
            format!("{me}-0"),
            "4294967295-0".to_string(),
            "0-0".to_string(),
            "-1-0".to_string(),
            "1-x-0".to_string(),
            "1".to_string(),
            "abc-1".to_string(),
            // pid 1 runs (init): kept whatever its start time, unless it differs.
            "1-0".to_string(),
        ] {
            assert!(!creator_is_gone(&kept), "{kept}");
        }
    }

    #[test]
    fn a_reused_pid_is_gone_when_its_start_time_differs() {
        // pid 1 runs, but not the process started at tick 1 that the name records... unless
        // init really started at tick 1; pick a tick it cannot have.
        let init_started = Pid::new(1).unwrap().start_time().unwrap_or(0);
        assert!(creator_is_gone(&format!(
            "1-{}-0",
            init_started + 1_000_000
        )));
    }

    #[test]
    fn a_postmaster_pid_file_naming_no_postmaster_of_that_directory_is_ignored() {
        let dir = std::env::temp_dir().join(format!("pgstrata-stale-unit-{}", Pid::current()));
        fs::create_dir_all(&dir).unwrap();
        let me = Pid::current();
        for content in [
            "4294967295\n/x\n1\n".to_string(),
            "0\n/x\n1\n".to_string(),
            "-1\n/x\n1\n".to_string(),
            // A live process that is not a postgres working in `dir`.
            format!("{me}\n{}\n1\n", dir.display()),
            "1\n/\n1\n".to_string(),
        ] {
            fs::write(dir.join("postmaster.pid"), &content).unwrap();
            assert_eq!(postmaster_of(&dir), None, "{content:?}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

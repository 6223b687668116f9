//! Who a process is, as Linux's `/proc` tells it: whether a pid runs, when it started, where
//! it works; and which host, boot and pid namespace this process lives in.
//!
//! Clean-up code uses this to prove that whoever made a leftover (a scratch directory, a
//! half-copied cache entry, `check`'s temporary database) is gone before removing it, and that
//! a pid read from a file is the process it claims to be before signalling it. A pid is only
//! ever a [`Pid`]: in 1..=i32::MAX, so that no value read from a file can become `kill(0)` or
//! `kill(-1)` (every process the caller may signal). This module signals nothing itself but
//! through [`Pid::signal`] and never prints.

use std::fs;
use std::path::{Path, PathBuf};

/// A process id that can only name one process: 1..=i32::MAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(libc::pid_t);

impl Pid {
    /// The id, if it names exactly one process (never 0, negative or past `pid_t`).
    pub fn new(pid: u64) -> Option<Pid> {
        libc::pid_t::try_from(pid)
            .ok()
            .filter(|pid| *pid > 0)
            .map(Pid)
    }

    /// A decimal pid as written in a file or a name ("4294967295", "0", "-1", "+5" or " 5"
    /// are not pids).
    pub fn parse(text: &str) -> Option<Pid> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Pid::new(text.parse::<u64>().ok()?)
    }

    /// This process.
    pub fn current() -> Pid {
        Pid(std::process::id() as libc::pid_t)
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn get(self) -> libc::pid_t {
        self.0
    }

    /// Sends `signal`; false when the process is gone or may not be signalled.
    pub fn signal(self, signal: libc::c_int) -> bool {
        // SAFETY: kill has no memory effects; self.0 > 0 names one process, never a group.
        unsafe { libc::kill(self.0, signal) == 0 }
    }

    /// Whether the process exists and is not a zombie (a zombie still answers `kill(0)`).
    pub fn alive(self) -> bool {
        match fs::read_to_string(format!("/proc/{}/stat", self.0)) {
            Ok(stat) => stat_fields(&stat).is_some_and(|fields| fields.first() != Some(&"Z")),
            // No /proc: ask the kernel.
            Err(_) => self.signal(0),
        }
    }

    /// When the process started, in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    /// With the boot id, a pid and its start time name one process for ever: a pid reused
    /// later has another start time.
    pub fn start_time(self) -> Option<u64> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.0)).ok()?;
        // Field 22 is the 20th after the command name's closing parenthesis.
        stat_fields(&stat)?.get(19)?.parse().ok()
    }

    /// Whether this very process (this pid, started at `started` when known) still runs.
    pub fn runs(self, started: Option<u64>) -> bool {
        self.alive() && started.is_none_or(|started| self.start_time() == Some(started))
    }

    /// The process's working directory (needs the right to inspect it: same user or root).
    pub fn cwd(self) -> Option<PathBuf> {
        fs::read_link(format!("/proc/{}/cwd", self.0)).ok()
    }

    /// The process's command name (`/proc/<pid>/comm`), e.g. `postgres`.
    pub fn command(self) -> Option<String> {
        let comm = fs::read_to_string(format!("/proc/{}/comm", self.0)).ok()?;
        Some(comm.trim_end().to_string())
    }

    /// When the process started, in seconds since the Unix epoch (boot time plus its start).
    pub fn started_at_epoch(self) -> Option<u64> {
        let ticks = self.start_time()?;
        // SAFETY: sysconf has no preconditions.
        let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
        Some(boot_time()? + ticks / per_second.max(1))
    }
}

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The fields of `/proc/<pid>/stat` after the command name, which may itself hold spaces and
/// parentheses: the state is the first.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

/// Seconds since the epoch at which the machine booted (`btime` in `/proc/stat`).
fn boot_time() -> Option<u64> {
    fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The kernel's id of this boot: it changes at every reboot, so a pid recorded under another
/// boot id says nothing about the processes running now.
pub fn boot_id() -> Option<String> {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_string()).filter(|id| !id.is_empty())
}

/// The pid namespace this process lives in (`pid:[4026531836]`): a pid means something only
/// inside its namespace, and two containers on one host share the boot id but not this.
pub fn pid_namespace() -> Option<String> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_string_lossy().into_owned())
}

/// The host name, for people reading a record of who made something.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".to_string()
    }
}

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// The canonical form of a path, or the path itself when it cannot be resolved.
pub fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_process_ids_are_pids() {
        for bad in [
            "4294967295",
            "2147483648",
            "0",
            "-1",
            "+5",
            " 5",
            "",
            "5x",
            "99999999999999999999",
        ] {
            assert_eq!(Pid::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Pid::parse("2147483647").map(Pid::get), Some(i32::MAX));
        assert_eq!(Pid::parse("17").map(Pid::get), Some(17));
        assert_eq!(Pid::new(u64::from(u32::MAX)), None);
        assert_eq!(Pid::new(0), None);
    }

    #[test]
    fn this_process_runs_and_has_a_start_time() {
        let me = Pid::current();
        assert!(me.alive());
        let started = me.start_time().expect("a start time");
        assert!(me.runs(Some(started)));
        assert!(
            !me.runs(Some(started + 1)),
            "another start time is another process"
        );
        assert_eq!(me.cwd(), std::env::current_dir().ok());
    }

    #[test]
    fn a_command_name_with_parentheses_does_not_shift_the_fields() {
        let stat = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 0";
        let fields = stat_fields(stat).unwrap();
        assert_eq!(fields[0], "S");
        assert_eq!(fields[19], "12345");
    }
}

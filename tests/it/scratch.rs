//! The scratch server: it starts, serves, and leaves nothing behind; leftovers of a killed run
//! are removed by the next, and nothing planted in the shared scratch parent is touched.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use pgstrata::scratch::ScratchServer;

use crate::harness::{TempDir, pgstrata, run, wait_until};

#[test]
fn scratch_server_serves_queries_on_a_private_socket_and_is_removed_on_drop() {
    let server = ScratchServer::start().expect("starting");
    let dir = server.dir().to_path_buf();
    assert!(
        dir.join(".s.PGSQL.5432").exists(),
        "socket in the private directory"
    );
    let mut client = server.connect("postgres").expect("connecting");
    let fsync: String = client.query_one("SHOW fsync", &[]).unwrap().get(0);
    assert_eq!(fsync, "off");
    let listen: String = client
        .query_one("SHOW listen_addresses", &[])
        .unwrap()
        .get(0);
    assert_eq!(listen, "", "no TCP listener");
    let app: String = client
        .query_one(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(app, "pgstrata");
    drop(client);
    drop(server);
    assert!(!dir.exists(), "directory {} deleted", dir.display());
}

/// The account scratch servers run as: `postgres` when we are root (PostgreSQL refuses to run
/// as root), else ourselves.
fn server_account() -> (u32, u32) {
    // SAFETY: geteuid has no preconditions; getpwnam returns static storage or null.
    unsafe {
        if libc::geteuid() != 0 {
            return (libc::geteuid(), libc::getegid());
        }
        let entry = libc::getpwnam(c"postgres".as_ptr());
        assert!(!entry.is_null(), "no postgres account");
        ((*entry).pw_uid, (*entry).pw_gid)
    }
}

/// A pid that no process has any more.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Plants `<parent>/<name>` as a directory owned by `owner` with `mode`, holding
/// `data/postmaster.pid` with `pid_file`.
fn plant(parent: &Path, name: &str, owner: (u32, u32), mode: u32, pid_file: &str) -> PathBuf {
    let dir = parent.join(name);
    fs::create_dir_all(dir.join("data")).unwrap();
    fs::write(dir.join("data/postmaster.pid"), pid_file).unwrap();
    for path in [
        dir.join("data/postmaster.pid"),
        dir.join("data"),
        dir.clone(),
    ] {
        chown(&path, Some(owner.0), Some(owner.1)).unwrap();
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// `pgstrata --scratch status` on a one-migration project, with scratch servers under
/// `parent`: starting the server is what removes stale leftovers.
fn scratch_status(parent: &Path) -> Command {
    let project = TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a ();\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ]);
    let mut command = pgstrata();
    command
        .env("PGSTRATA_SCRATCH_DIR", parent)
        .arg("--dir")
        .arg(&project.path)
        .args(["--scratch", "status"])
        // Its own process group: were a pid 0 ever signalled, it would not reach the tests.
        .process_group(0);
    // The project must outlive the command: keep it with the test's temporary files.
    std::mem::forget(project);
    command
}

fn alive(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_none()
}

/// Regression: the clean-up read a pid from any `pgstrata-scratch-*` directory under the
/// world-writable parent and sent it SIGQUIT, so a planted file could kill any process.
#[test]
fn planted_scratch_directories_are_left_alone_and_their_pids_never_signalled() {
    let parent = TempDir::new();
    let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
    let dead = dead_pid();
    let ours = server_account();
    let pointing_at_victim = format!("{}\n/x\n1\n", victim.id());
    // Ours and stale, but its pid file names an unrelated live process: removed, not signalled.
    let stale = plant(
        &parent.path,
        &format!("pgstrata-scratch-{dead}-0"),
        ours,
        0o700,
        &pointing_at_victim,
    );
    let zero = plant(
        &parent.path,
        &format!("pgstrata-scratch-{dead}-1"),
        ours,
        0o700,
        "0\n/x\n1\n",
    );
    // Open to everyone: anybody could have made it.
    let open = plant(
        &parent.path,
        &format!("pgstrata-scratch-{dead}-2"),
        ours,
        0o777,
        &pointing_at_victim,
    );
    // A symlink to a directory that is not ours to delete.
    let target = plant(
        &parent.path,
        "not-scratch",
        ours,
        0o700,
        &pointing_at_victim,
    );
    let link = parent.path.join(format!("pgstrata-scratch-{dead}-3"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // Made by a live process (the victim): in use.
    let in_use = plant(
        &parent.path,
        &format!("pgstrata-scratch-{}-4", victim.id()),
        ours,
        0o700,
        "",
    );
    // Owned by another account than the servers'.
    let foreign = (ours.0 != 0).then(|| {
        plant(
            &parent.path,
            &format!("pgstrata-scratch-{dead}-5"),
            (0, 0),
            0o700,
            &pointing_at_victim,
        )
    });

    let (code, out, err) = run(&mut scratch_status(&parent.path));
    assert_eq!(code, 0, "{out}{err}");
    assert!(alive(&mut victim), "the unrelated process was signalled");
    assert!(
        !stale.exists() && !zero.exists(),
        "stale directories of ours are removed"
    );
    assert!(open.exists(), "a directory anyone could have made is kept");
    assert!(fs::symlink_metadata(&link).is_ok() && target.join("data/postmaster.pid").exists());
    assert!(in_use.exists(), "a directory whose maker runs is kept");
    if let Some(foreign) = foreign {
        assert!(foreign.exists(), "another account's directory is kept");
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    // Only the planted ones remain: the run's own server directory went with it.
    let left = fs::read_dir(&parent.path).unwrap().count();
    assert_eq!(
        left,
        4 + usize::from(ours.0 != 0),
        "{:?}",
        fs::read_dir(&parent.path).unwrap().collect::<Vec<_>>()
    );
}

/// A planted pid file saying 4294967295 once became `kill(-1, SIGQUIT)`: every process the
/// caller may signal. Run in a pid namespace of its own, so that a regression kills only the
/// canary beside it, not the machine.
#[test]
fn a_planted_pid_of_4294967295_signals_nobody() {
    if Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status()
        .map_or(true, |s| !s.success())
    {
        eprintln!("skipped: cannot make a pid namespace here (unshare --pid)");
        return;
    }
    let parent = TempDir::new();
    let dead = dead_pid();
    let planted = plant(
        &parent.path,
        &format!("pgstrata-scratch-{dead}-0"),
        server_account(),
        0o700,
        "4294967295\n/x\n1\n",
    );
    let status = scratch_status(&parent.path);
    let mut script = format!("sleep 60 & canary=$!; {:?}", status.get_program());
    for arg in status.get_args() {
        script.push_str(&format!(" '{}'", arg.to_string_lossy()));
    }
    script.push_str("; code=$?; kill -0 $canary && echo canary-alive; kill $canary; exit $code");
    let (code, out, err) = run(Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "sh", "-c", &script])
        .env("PGSTRATA_SCRATCH_DIR", &parent.path)
        .process_group(0));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("canary-alive"), "{out}{err}");
    assert!(!planted.exists(), "the stale directory is removed");
}

/// A pgstrata killed outright (SIGKILL) leaves its scratch directory; the next run removes it,
/// stopping a server still running in it.
#[test]
fn a_scratch_server_left_by_a_killed_run_is_stopped_and_removed_by_the_next() {
    let parent = TempDir::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__sleeps.sql", "SELECT pg_sleep(60);\n"),
        ("rollbacks/V1__sleeps.sql", "SELECT 1;\n"),
    ]);
    let mut child = pgstrata()
        .env("PGSTRATA_SCRATCH_DIR", &parent.path)
        .arg("--dir")
        .arg(&project.path)
        .arg("check")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut left = None;
    wait_until("the scratch server to run", || {
        left = fs::read_dir(&parent.path)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|dir| dir.join(".s.PGSQL.5432").exists());
        left.is_some()
    });
    let left = left.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    // Its server went with it (PR_SET_PDEATHSIG); start one again in the leftover, as if that
    // had not happened, to prove a running stale server is stopped too.
    wait_until("the orphaned server to stop", || !postgres_runs_in(&left));
    let _ = fs::remove_file(left.join("data/postmaster.pid"));
    let account = server_account();
    let mut server = Command::new(bindir().join("postgres"));
    server
        .arg("-D")
        .arg(left.join("data"))
        .arg("-k")
        .arg(&left)
        .args(["-c", "listen_addresses="])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("HOME")
        .process_group(0);
    if account.0 != unsafe { libc::geteuid() } {
        server.uid(account.0).gid(account.1);
    }
    let mut server = server.spawn().unwrap();
    wait_until("the stale server to be ready", || {
        fs::read_to_string(left.join("data/postmaster.pid"))
            .is_ok_and(|text| text.lines().nth(7).is_some_and(|s| s.trim() == "ready"))
    });
    let (code, out, err) = run(&mut scratch_status(&parent.path));
    assert_eq!(code, 0, "{out}{err}");
    wait_until("the stale server to be stopped", || {
        alive_child_exited(&mut server)
    });
    assert!(!left.exists(), "{} is left", left.display());
    assert_eq!(fs::read_dir(&parent.path).unwrap().count(), 0);
}

fn alive_child_exited(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_some()
}

fn postgres_runs_in(dir: &Path) -> bool {
    let dir = dir.to_string_lossy();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| fs::read(entry.path().join("cmdline")).ok())
        .any(|cmdline| String::from_utf8_lossy(&cmdline).contains(&*dir))
}

/// The directory of the PostgreSQL binaries the scratch server uses.
fn bindir() -> PathBuf {
    ScratchServer::start().unwrap().bindir().to_path_buf()
}

/// A killed run's half-copied cluster in the cache (`.partial-*`) is removed by the next run;
/// one whose maker still runs is kept.
#[test]
fn partial_cache_copies_of_a_killed_run_are_removed() {
    let parent = TempDir::new();
    let cache = TempDir::new();
    let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
    let me = (unsafe { libc::geteuid() }, unsafe { libc::getegid() });
    let dead = plant(
        &cache.path,
        &format!(".partial-{}-0", dead_pid()),
        me,
        0o700,
        "",
    );
    let running = plant(
        &cache.path,
        &format!(".partial-{}-0", victim.id()),
        me,
        0o700,
        "",
    );
    let (code, out, err) = run(scratch_status(&parent.path).env("PGSTRATA_CACHE_DIR", &cache.path));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!dead.exists(), "the killed run's partial copy is removed");
    assert!(running.exists(), "a partial copy whose maker runs is kept");
    victim.kill().unwrap();
    victim.wait().unwrap();
}

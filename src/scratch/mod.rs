//! The throwaway PostgreSQL server behind `check`, `--scratch` and the test suite.
//!
//! A server lives in a private directory (in /dev/shm when it has room): its data directory,
//! its Unix socket (no TCP listener) and its log. It runs with fsync off and is stopped and
//! deleted when dropped, when a signal stops the run and at process exit; what a killed run
//! leaves is removed by the next (`stale`). As root it runs as the `postgres` account, because
//! `initdb` and `postgres` refuse to run as root. A freshly initialised data directory is kept
//! per PostgreSQL build in a cache directory and copied, because `initdb` takes 0.5-1.5 s and
//! a copy a fraction of that. This module starts and stops servers; it knows nothing of
//! migrations.

use std::ffi::CString;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use crate::conninfo::ConnInfo;
use crate::scratch::process::Pid;

pub mod process;
mod stale;

/// Arguments given to `initdb`; part of the cache key.
const INITDB_ARGS: &[&str] = &[
    "--username=postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
    // 1 MB instead of 16 MB of zero-filled WAL to copy at every start.
    "--wal-segsize=1",
];

/// How long a server may take to accept connections before we give up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

const DIR_PREFIX: &str = "pgstrata-scratch-";

/// A running throwaway server. Dropping it stops the server and deletes its directory.
pub struct ScratchServer {
    dir: PathBuf,
    pid: u32,
    port: u16,
    version: String,
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    bindir: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    keeper: Option<thread::JoinHandle<()>>,
}

/// Where the PostgreSQL binaries are and who should run them.
struct Installation {
    bindir: PathBuf,
    version: String,
}

impl ScratchServer {
    /// Starts a new server and waits until it accepts connections.
    pub fn start() -> Result<ScratchServer> {
        ScratchServer::start_with(&[])
    }

    /// Starts a server with extra settings (`-c name=value`, after and so over the defaults),
    /// e.g. `[("listen_addresses", "127.0.0.1"), ("port", "54321")]` for a TCP listener, which
    /// TLS tests need: PostgreSQL never uses TLS on a Unix socket. Pick a port with
    /// [`free_tcp_port`].
    pub fn start_with(settings: &[(&str, &str)]) -> Result<ScratchServer> {
        let port = match settings.iter().rev().find(|(name, _)| *name == "port") {
            Some((_, port)) => port
                .parse::<u16>()
                .with_context(|| format!("port setting {port:?} for the scratch server"))?,
            None => 5432,
        };
        let install = find_installation()?;
        let owner = server_owner()?;
        let owner_uid = owner.map_or_else(crate::scratch::process::effective_uid, |(uid, _)| uid);
        stale::remove_stale_directories(&scratch_parent(), DIR_PREFIX, owner_uid);
        let dir = make_private_dir(owner)?;
        // From here on a failure must not leave the directory behind.
        match start_in(&install, owner, &dir, settings) {
            Ok((pid, stop, keeper)) => Ok(ScratchServer {
                dir,
                pid,
                port,
                version: install.version,
                bindir: install.bindir,
                stop: Some(stop),
                keeper: Some(keeper),
            }),
            Err(err) => {
                let _ = fs::remove_dir_all(&dir);
                Err(err)
            }
        }
    }

    /// A `key=value` connection string for `dbname` on this server (superuser `postgres`).
    pub fn conninfo(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.dir.display(),
            self.port
        )
    }

    /// Opens a connection to `dbname` on this server.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn connect(&self, dbname: &str) -> Result<postgres::Client> {
        ConnInfo::parse(&self.conninfo(dbname))?.connect()
    }

    /// The server's version line, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The directory of the PostgreSQL binaries this server runs (psql and pg_dump of the
    /// same build are there too).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The server's private directory (holds the socket, the data directory and `server.log`).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The port: 5432 unless `start_with` set another (the socket is `.s.PGSQL.<port>`).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it), for `start_with`.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn free_tcp_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("finding a free TCP port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl Drop for ScratchServer {
    fn drop(&mut self) {
        // Dropping the sender wakes the keeper, which stops the server and reaps it.
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        crate::interrupt::unregister_server(self.pid);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Stops a server by pid (immediate shutdown) and deletes its directory. Used on a signal and at
/// exit, when the owning `ScratchServer` will never be dropped; `pid` is one we started.
pub(crate) fn kill_and_remove(pid: u32, dir: &Path) {
    if let Some(pid) = Pid::new(u64::from(pid))
        && pid.signal(libc::SIGQUIT)
    {
        let deadline = Instant::now() + Duration::from_secs(5);
        while pid.alive() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = fs::remove_dir_all(dir);
}

fn start_in(
    install: &Installation,
    owner: Option<(u32, u32)>,
    dir: &Path,
    settings: &[(&str, &str)],
) -> Result<(u32, mpsc::Sender<()>, thread::JoinHandle<()>)> {
    let data = dir.join("data");
    prepare_data_directory(install, owner, &data)?;
    let log_path = dir.join("server.log");
    let log = fs::File::create(&log_path).context("creating the scratch server's log file")?;
    if let Some((uid, gid)) = owner {
        chown(&log_path, Some(uid), Some(gid))?;
    }
    let mut command = Command::new(install.bindir.join("postgres"));
    command
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(dir)
        .args(["-p", "5432", "-c", "listen_addresses="])
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
        .args(
            settings
                .iter()
                .flat_map(|(name, value)| ["-c".into(), format!("{name}={value}")]),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: Ctrl-C or a hang-up in the terminal reaches us, and we stop the
        // server after cancelling what runs on it.
        .process_group(0);
    run_as(&mut command, owner);
    // SAFETY: prctl and getppid are async-signal-safe; the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            // If pgstrata dies without cleaning up (SIGKILL), the server goes too.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (pid, stop, keeper) = spawn_with_keeper(command)?;
    crate::interrupt::register_server(pid, dir.to_path_buf());
    if let Err(err) = wait_until_ready(pid, &data, &log_path) {
        crate::interrupt::unregister_server(pid);
        drop(stop);
        let _ = keeper.join();
        return Err(err);
    }
    Ok((pid, stop, keeper))
}

/// Spawns the server from a thread that lives as long as the server: `PR_SET_PDEATHSIG` fires
/// when the spawning *thread* ends, and a test thread that starts the shared server ends long
/// before the test binary does. The thread stops the server when `stop` is dropped.
fn spawn_with_keeper(
    mut command: Command,
) -> Result<(u32, mpsc::Sender<()>, thread::JoinHandle<()>)> {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (pid_tx, pid_rx) = mpsc::channel::<std::io::Result<u32>>();
    let keeper = thread::Builder::new()
        .name("pgstrata-scratch".into())
        .spawn(move || {
            let mut child: Child = match command.spawn() {
                Ok(child) => child,
                Err(err) => {
                    let _ = pid_tx.send(Err(err));
                    return;
                }
            };
            let _ = pid_tx.send(Ok(child.id()));
            // Blocks until the owner drops its sender.
            let _ = stop_rx.recv();
            if let Some(pid) = Pid::new(u64::from(child.id())) {
                pid.signal(libc::SIGQUIT);
            }
            let _ = child.wait();
        })
        .context("starting the scratch server's keeper thread")?;
    let pid = pid_rx
        .recv()
        .map_err(|_| anyhow!("the scratch server's keeper thread ended early"))?
        .context("starting postgres")?;
    Ok((pid, stop_tx, keeper))
}

/// Waits for `postmaster.pid` to report "ready", as `pg_ctl -w` does.
fn wait_until_ready(pid: u32, data: &Path, log_path: &Path) -> Result<()> {
    let started = Instant::now();
    let pid_file = data.join("postmaster.pid");
    loop {
        if let Ok(text) = fs::read_to_string(&pid_file) {
            // Line 8 is the status: "ready" once connections are accepted (PostgreSQL >= 10).
            if text.lines().nth(7).is_some_and(|s| s.trim() == "ready") {
                return Ok(());
            }
        }
        if !process_alive(pid) {
            bail!(
                "the scratch PostgreSQL server exited during start-up; its log says:\n{}",
                tail(log_path)
            );
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!(
                "the scratch PostgreSQL server did not become ready within {} s; its log says:\n{}",
                READY_TIMEOUT.as_secs(),
                tail(log_path)
            );
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// Fills `data` with an initialised cluster: a copy of the cached one when there is one,
/// otherwise a fresh `initdb` whose result is then cached.
fn prepare_data_directory(
    install: &Installation,
    owner: Option<(u32, u32)>,
    data: &Path,
) -> Result<()> {
    let cache = crate::cache_dir::cache_dir();
    if let Some(cache) = &cache {
        stale::remove_stale_partials(cache);
    }
    let cached = cache.map(|dir| dir.join(format!("initdb-{}", cache_key(install, owner))));
    if let Some(cached) = cached.as_deref().filter(|c| c.join("PG_VERSION").is_file()) {
        copy_tree(cached, data, owner)
            .with_context(|| format!("copying the cached cluster {}", cached.display()))?;
        return Ok(());
    }
    run_initdb(install, owner, data)?;
    if let Some(cached) = cached {
        // Best effort: a cache we cannot write only costs time.
        let _ = store_in_cache(data, &cached);
    }
    Ok(())
}

fn run_initdb(install: &Installation, owner: Option<(u32, u32)>, data: &Path) -> Result<()> {
    fs::create_dir(data).with_context(|| format!("creating {}", data.display()))?;
    fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner {
        chown(data, Some(uid), Some(gid))?;
    }
    let mut command = Command::new(install.bindir.join("initdb"));
    command.arg("-D").arg(data).args(INITDB_ARGS);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run_as(&mut command, owner);
    let output = command
        .output()
        .with_context(|| format!("running {}", install.bindir.join("initdb").display()))?;
    if !output.status.success() {
        bail!(
            "initdb failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Copies a fresh cluster into the cache under a temporary name and renames it into place,
/// so that concurrent processes never see half a copy.
fn store_in_cache(data: &Path, cached: &Path) -> Result<()> {
    let parent = cached.parent().expect("cache entries live in a directory");
    fs::create_dir_all(parent)?;
    // Named after this process (pid and start time), so that a later run can tell that a
    // partial copy's maker was killed and remove it.
    let partial = parent.join(format!(
        "{}{}",
        stale::PARTIAL_PREFIX,
        stale::name_part(next_serial())
    ));
    copy_tree(data, &partial, None)?;
    // postmaster.opts and the like are not written by initdb; nothing to scrub.
    if fs::rename(&partial, cached).is_err() {
        // Another process cached the same build first.
        let _ = fs::remove_dir_all(&partial);
    }
    Ok(())
}

/// Recursive copy keeping permission bits, owned by `owner` when given.
fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    fs::create_dir(to).with_context(|| format!("creating {}", to.display()))?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    if let Some((uid, gid)) = owner {
        chown(to, Some(uid), Some(gid))?;
    }
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, owner)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            if let Some((uid, gid)) = owner {
                chown(&target, Some(uid), Some(gid))?;
            }
        }
    }
    Ok(())
}

/// The cache key: PostgreSQL build, initdb arguments and the account the server runs as.
fn cache_key(install: &Installation, owner: Option<(u32, u32)>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(install.bindir.as_os_str().as_encoded_bytes());
    hasher.update(b"\0");
    hasher.update(install.version.as_bytes());
    for arg in INITDB_ARGS {
        hasher.update(b"\0");
        hasher.update(arg.as_bytes());
    }
    hasher.update(format!("\0{owner:?}").as_bytes());
    crate::checksum::hex(&hasher.finalize()[..8])
}

/// Finds `initdb` and `postgres`: `PGSTRATA_PG_BIN`, `pg_config --bindir`, `PATH`, then the
/// newest `/usr/lib/postgresql/*/bin`.
fn find_installation() -> Result<Installation> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("PGSTRATA_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if !has_server_binaries(&dir) {
            bail!(
                "PGSTRATA_PG_BIN={} does not contain both initdb and postgres",
                dir.display()
            );
        }
        candidates.push(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        candidates.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.extend(debian_bindirs());
    let bindir = first_with_server_binaries(candidates)?;
    let output = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bindir.join("postgres").display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(Installation { bindir, version })
}

/// The first directory holding `initdb` and `postgres`, or an error saying how to install them.
fn first_with_server_binaries(candidates: Vec<PathBuf>) -> Result<PathBuf> {
    candidates
        .into_iter()
        .find(|dir| has_server_binaries(dir))
        .ok_or_else(|| {
            anyhow!(
                "no PostgreSQL server binaries (initdb, postgres) found: looked in \
                 PGSTRATA_PG_BIN, `pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin; \
                 install them (Debian/Ubuntu: `apt-get install -y postgresql`) or set \
                 PGSTRATA_PG_BIN to their directory"
            )
        })
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// `/usr/lib/postgresql/*/bin`, newest major version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// `None` when we may run the server ourselves; the `postgres` account's uid and gid when we
/// are root (initdb and postgres refuse to run as root).
fn server_owner() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").expect("no NUL in a literal");
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy out at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        bail!(
            "running as root, but PostgreSQL refuses to run as root and there is no `postgres` \
             account to run the scratch server as; create it (`useradd --system postgres`) or \
             run pgstrata as an unprivileged user"
        );
    }
    // SAFETY: entry is non-null and points at a valid passwd record.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some((uid, gid)))
}

fn run_as(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
        // HOME of root is not readable by postgres; initdb and postgres do not need one.
        command.env_remove("HOME");
    }
}

/// Creates `$TMPDIR/pgstrata-scratch-<pid>-<start time>-<n>` (mode 0700) owned by the
/// server's account: the name says who made it, so a later run can prove its maker gone.
fn make_private_dir(owner: Option<(u32, u32)>) -> Result<PathBuf> {
    let dir = scratch_parent().join(format!("{DIR_PREFIX}{}", stale::name_part(next_serial())));
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner {
        chown(&dir, Some(uid), Some(gid))?;
    }
    Ok(dir)
}

/// Where scratch servers live: `PGSTRATA_SCRATCH_DIR`, else `/dev/shm` when it is a memory
/// file system with room to spare (copying the cluster there takes ~50 ms instead of
/// 100-500 ms on disk, and a throwaway server needs no disk), else the temporary directory.
fn scratch_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os("PGSTRATA_SCRATCH_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if free_bytes(shm).is_some_and(|free| free >= 2 << 30) {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

/// Bytes free to unprivileged users on the file system holding `dir`, if it is writable.
fn free_bytes(dir: &Path) -> Option<u64> {
    let path = CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is valid; statvfs and access only read the path.
    unsafe {
        if libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) != 0 {
            return None;
        }
        let mut stats: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut stats) != 0 {
            return None;
        }
        Some(stats.f_bavail as u64 * stats.f_frsize as u64)
    }
}

fn next_serial() -> u32 {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

fn process_alive(pid: u32) -> bool {
    Pid::new(u64::from(pid)).is_some_and(Pid::alive)
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(4000)));
        let _ = file.read_to_string(&mut text);
    }
    if text.trim().is_empty() {
        "(the log is empty)".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_server_binaries_is_an_error_saying_how_to_install_them() {
        let empty = std::env::temp_dir();
        let err = first_with_server_binaries(vec![empty.clone(), empty.join("nowhere")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("apt-get install -y postgresql"), "{err}");
        assert!(err.contains("PGSTRATA_PG_BIN"), "{err}");
    }

    #[test]
    fn the_first_directory_with_both_binaries_wins() {
        let root = std::env::temp_dir().join(format!("pgstrata-bindirs-{}", std::process::id()));
        let (half, whole) = (root.join("half"), root.join("whole"));
        fs::create_dir_all(&half).unwrap();
        fs::create_dir_all(&whole).unwrap();
        fs::write(half.join("postgres"), "").unwrap();
        fs::write(whole.join("postgres"), "").unwrap();
        fs::write(whole.join("initdb"), "").unwrap();
        let found = first_with_server_binaries(vec![half, whole.clone()]);
        let _ = fs::remove_dir_all(&root);
        assert_eq!(found.unwrap(), whole);
    }
}

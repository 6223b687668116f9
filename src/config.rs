//! Settings: flag, then environment, then `pgstrata.toml`, then default, resolved once into
//! one [`Settings`] value. Unknown keys in the file are an error.
//!
//! Most flags and environment variables arrive already merged by clap (a flag beats its
//! variable); this module adds the file and the defaults. The database is the exception:
//! `check` must know whether a server was named for it on its command line or by a
//! check-specific setting, or only by the deployment's ambient `DATABASE_URL`, which must never
//! send it to a server (that server is production in a deployment environment). So this module
//! reads `DATABASE_URL` and `PGSTRATA_CHECK_DATABASE_URL` itself. It never connects to
//! anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::project::is_name;

/// The name of the settings file looked for in the project root.
pub const FILE_NAME: &str = "pgstrata.toml";

/// Settings that a command-line run resolved from every source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Project root: holds migrations/, rollbacks/, views/, schema-snapshots/.
    pub dir: PathBuf,
    /// The database to work on, as given (URL or key=value): `--database-url`, else
    /// DATABASE_URL, else `database_url` in the file; `None` when none was given.
    pub database_url: Option<String>,
    /// The server `check` works on (in a temporary database): `--database-url`, else
    /// PGSTRATA_CHECK_DATABASE_URL, else `check_database_url` in the file; `None`: a scratch
    /// server. Never DATABASE_URL, `database_url` or libpq's PG* variables.
    pub check_database_url: Option<String>,
    /// Work on a throwaway server instead.
    pub scratch: bool,
    /// Schema of pgstrata's own tables.
    pub history_schema: String,
    /// How long to wait for another run's lock.
    pub lock_wait: Duration,
    /// Schemas a snapshot covers; `None`: every schema but the system ones and pgstrata's.
    pub schemas: Option<Vec<String>>,
    /// Lock and statement time limits every migration, rollback and view rebuild runs under.
    pub limits: Limits,
}

/// How long a file may wait for a lock and run, and how often it is retried after losing a
/// lock race. A file's `-- pgstrata:lock-timeout` / `statement-timeout` override these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// PostgreSQL's `lock_timeout` (zero: none).
    pub lock_timeout: Duration,
    /// Retries after a lock timeout, a deadlock or a serialization failure.
    pub lock_retries: u32,
    /// PostgreSQL's `statement_timeout` (zero: none).
    pub statement_timeout: Duration,
}

/// 1 s: while a migration waits for a lock, every later reader and writer of the table queues
/// behind it, so the wait is an outage for them. A second is long enough to get a lock between
/// the short transactions of a busy application, and short enough for a web request behind
/// it to stay well inside a typical 3-5 s timeout; longer waits are retried instead.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// 10 retries with a backoff growing to 5 s: about 40 s of trying before giving up.
pub const DEFAULT_LOCK_RETRIES: u32 = 10;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_retries: DEFAULT_LOCK_RETRIES,
            statement_timeout: Duration::ZERO,
        }
    }
}

/// Values given as flags or environment variables (clap merges the two, but for the database:
/// `database_url` is the flag alone).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// `--database-url` as given on the command line.
    pub database_url: Option<String>,
    pub scratch: bool,
    pub history_schema: Option<String>,
    pub lock_wait: Option<u64>,
    pub lock_timeout: Option<Duration>,
    pub lock_retries: Option<u32>,
    pub statement_timeout: Option<Duration>,
}

/// `pgstrata.toml`. Every key is optional; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Connection string; prefer DATABASE_URL for anything with a password in it.
    pub database_url: Option<String>,
    /// The server `check` works on; without it `check` uses a scratch server.
    pub check_database_url: Option<String>,
    pub history_schema: Option<String>,
    /// Seconds.
    pub lock_wait: Option<u64>,
    pub schemas: Option<Vec<String>>,
    /// A duration: `"2s"`.
    pub lock_timeout: Option<String>,
    pub lock_retries: Option<u32>,
    /// A duration: `"10min"`.
    pub statement_timeout: Option<String>,
}

pub const DEFAULT_HISTORY_SCHEMA: &str = "pgstrata";
pub const DEFAULT_LOCK_WAIT_S: u64 = 60;

/// The environment variable naming the database of every command but `check`.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";
/// The environment variable naming the server `check` works on.
pub const CHECK_DATABASE_URL_ENV: &str = "PGSTRATA_CHECK_DATABASE_URL";

/// Resolves the settings: overrides, then the process environment, then the file, then
/// defaults.
pub fn resolve(overrides: Overrides) -> Result<Settings> {
    resolve_with(overrides, &|name| std::env::var(name).ok())
}

/// [`resolve`] with the environment as an input.
pub fn resolve_with(
    overrides: Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let dir = overrides.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let file = match &overrides.config {
        Some(path) => read_file(path)?,
        None if dir.join(FILE_NAME).is_file() => read_file(&dir.join(FILE_NAME))?,
        None => FileSettings::default(),
    };
    let history_schema = overrides
        .history_schema
        .or(file.history_schema)
        .unwrap_or_else(|| DEFAULT_HISTORY_SCHEMA.to_string());
    if history_schema.is_empty() || history_schema.len() > 63 {
        bail!("history_schema `{history_schema}` must be 1 to 63 characters");
    }
    let lock_wait = overrides
        .lock_wait
        .or(file.lock_wait)
        .unwrap_or(DEFAULT_LOCK_WAIT_S);
    let file_duration = |key: &str, value: &Option<String>| -> Result<Option<Duration>> {
        value
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|why| anyhow::anyhow!("{}: {key}: {why}", FILE_NAME))
    };
    let defaults = Limits::default();
    let limits = Limits {
        lock_timeout: match overrides.lock_timeout {
            Some(flag) => flag,
            None => {
                file_duration("lock_timeout", &file.lock_timeout)?.unwrap_or(defaults.lock_timeout)
            }
        },
        lock_retries: overrides
            .lock_retries
            .or(file.lock_retries)
            .unwrap_or(defaults.lock_retries),
        statement_timeout: match overrides.statement_timeout {
            Some(flag) => flag,
            None => file_duration("statement_timeout", &file.statement_timeout)?
                .unwrap_or(defaults.statement_timeout),
        },
    };
    if let Some(bad) = file.schemas.iter().flatten().find(|s| !is_name(s)) {
        bail!("schemas: `{bad}` is not a schema name (letters, digits and _)");
    }
    let given = |value: Option<String>| value.filter(|u| !u.trim().is_empty());
    let flag = given(overrides.database_url);
    Ok(Settings {
        dir,
        database_url: flag
            .clone()
            .or_else(|| given(env(DATABASE_URL_ENV)))
            .or(file.database_url),
        check_database_url: flag
            .or_else(|| given(env(CHECK_DATABASE_URL_ENV)))
            .or(given(file.check_database_url)),
        scratch: overrides.scratch,
        history_schema,
        lock_wait: Duration::from_secs(lock_wait),
        schemas: file.schemas,
        limits,
    })
}

/// Parses a duration the way PostgreSQL reads `lock_timeout` and `statement_timeout`: a number
/// (fractions allowed) and a unit, `us`, `ms`, `s`, `min`, `h` or `d` (`500ms`, `2s`,
/// `1.5 min`), or `0` for no limit. A bare number other than 0 is refused: PostgreSQL would
/// read it as milliseconds, and `--lock-timeout 2` meaning 2 ms would surprise anyone.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim_start());
    let bad = || {
        format!(
            "`{text}` is not a duration; give a number and a unit, like 500ms, 2s or 10min \
             (units: us, ms, s, min, h, d), or 0 for no limit"
        )
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "" if value == 0.0 => 0.0,
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(bad()),
    };
    let ms = value * unit_ms;
    // PostgreSQL keeps these settings as an int of milliseconds.
    if !ms.is_finite() || ms > f64::from(i32::MAX) {
        return Err(format!(
            "`{text}` is too long; PostgreSQL accepts at most {} ms (about 24 days)",
            i32::MAX
        ));
    }
    if ms > 0.0 && ms < 1.0 {
        return Err(format!(
            "`{text}` is shorter than PostgreSQL's 1 ms resolution"
        ));
    }
    Ok(Duration::from_millis(ms.round() as u64))
}

fn read_file(path: &Path) -> Result<FileSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_file(&text).with_context(|| format!("reading {}", path.display()))
}

/// Parses the settings file's text.
pub fn parse_file(text: &str) -> Result<FileSettings> {
    // toml's messages name the key and the line; keep them whole.
    toml::from_str(text).map_err(|err| anyhow::anyhow!("{}", err.to_string().trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_postgresql() {
        for (text, ms) in [
            ("500ms", 500),
            ("2s", 2_000),
            ("10min", 600_000),
            ("1.5 s", 1_500),
            ("1h", 3_600_000),
            ("0", 0),
            ("0s", 0),
            ("1000us", 1),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "",
            "2",
            "-1s",
            "2 seconds",
            "s",
            "1.2.3s",
            "30d",
            "10us",
            "1e3ms",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse_file("database_url = \"x\"\nlockwait = 3\n").unwrap_err();
        assert!(format!("{err:#}").contains("lockwait"), "{err:#}");
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = std::env::temp_dir().join(format!("pgstrata-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "history_schema = \"from_file\"\nlock_wait = 5\ndatabase_url = \"host=file\"\n",
        )
        .unwrap();
        let from_file = resolve(Overrides {
            dir: Some(dir.clone()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(from_file.history_schema, "from_file");
        assert_eq!(from_file.lock_wait, Duration::from_secs(5));
        assert_eq!(from_file.database_url.as_deref(), Some("host=file"));
        let flagged = resolve(Overrides {
            dir: Some(dir.clone()),
            history_schema: Some("from_flag".into()),
            database_url: Some("host=flag".into()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(flagged.history_schema, "from_flag");
        assert_eq!(flagged.database_url.as_deref(), Some("host=flag"));
        std::fs::remove_dir_all(&dir).unwrap();
        let defaults = resolve(Overrides {
            dir: Some(dir),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(defaults.history_schema, DEFAULT_HISTORY_SCHEMA);
        assert_eq!(defaults.lock_wait, Duration::from_secs(DEFAULT_LOCK_WAIT_S));
        assert_eq!(defaults.database_url, None);
    }

    #[test]
    fn check_follows_only_a_server_named_for_it() {
        let dir =
            std::env::temp_dir().join(format!("pgstrata-config-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), "database_url = \"host=file\"\n").unwrap();
        let deployment = |name: &str| (name == DATABASE_URL_ENV).then(|| "host=prod".to_string());
        let at = |url: Option<&str>| Overrides {
            dir: Some(dir.clone()),
            database_url: url.map(str::to_string),
            ..Overrides::default()
        };
        let ambient = resolve_with(at(None), &deployment).unwrap();
        assert_eq!(ambient.database_url.as_deref(), Some("host=prod"));
        assert_eq!(
            ambient.check_database_url, None,
            "DATABASE_URL and database_url are not for check"
        );
        let flagged = resolve_with(at(Some("host=flag")), &deployment).unwrap();
        assert_eq!(flagged.check_database_url.as_deref(), Some("host=flag"));
        let both = |name: &str| match name {
            CHECK_DATABASE_URL_ENV => Some("host=check_env".to_string()),
            _ => deployment(name),
        };
        std::fs::write(
            dir.join(FILE_NAME),
            "check_database_url = \"host=check_file\"\n",
        )
        .unwrap();
        let from_file = resolve_with(at(None), &deployment).unwrap();
        assert_eq!(
            from_file.check_database_url.as_deref(),
            Some("host=check_file")
        );
        let from_env = resolve_with(at(None), &both).unwrap();
        assert_eq!(
            from_env.check_database_url.as_deref(),
            Some("host=check_env")
        );
        let from_flag = resolve_with(at(Some("host=flag")), &both).unwrap();
        assert_eq!(from_flag.check_database_url.as_deref(), Some("host=flag"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

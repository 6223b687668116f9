//! Settings: flag, then environment, then the chosen profile of `pgstrata.toml`, then its top
//! level, then default, resolved once into one [`Settings`] value. Unknown keys in the file
//! (and in its profiles) are an error.
//!
//! A profile is a `[env.NAME]` table holding any of the file's settings, chosen with `--env
//! NAME` or `PGSTRATA_ENV`: `[env.staging]` / `[env.production]` name their own database,
//! lock timeout, and so on, over the settings the environments share.
//!
//! Most flags and environment variables arrive already merged by clap (a flag beats its
//! variable); this module adds the file and the defaults. The database is the exception:
//! `check` must know whether a server was named for it on its command line or by a
//! check-specific setting, or only by the deployment's ambient `DATABASE_URL`, which must never
//! send it to a server (that server is production in a deployment environment). So this module
//! reads `DATABASE_URL` and `PGSTRATA_CHECK_DATABASE_URL` itself. It never connects to
//! anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::files;
use crate::migrate::project::is_name;
use crate::secrets;

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
    /// How `new` numbers migrations.
    pub versioning: Versioning,
    /// `allow_out_of_order` in the file: `up` applies a pending migration older than an
    /// applied one (`up --allow-out-of-order` turns it on for one run).
    pub allow_out_of_order: bool,
    /// The profile of the settings file in force (`--env NAME` or `PGSTRATA_ENV`), if any.
    pub environment: Option<String>,
    /// Whether that profile names a database (`database_url` in its table): `--targets`
    /// refuses it, as it refuses `--database-url`.
    pub profile_names_database: bool,
    /// How long `check` runs `sync verify`'s random writers for each sync migration it
    /// checks (`sync_verify_seconds`); 0 turns that part of check off.
    pub sync_verify_seconds: f64,
}

/// How `new` numbers a migration: `versioning` in `pgstrata.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Versioning {
    /// One more than the highest version (1, 2, 3…): the default when the key is absent, so
    /// projects made before the setting existed keep their numbering.
    #[default]
    Sequential,
    /// The UTC time of `new` as `YYYYMMDDHHMMSS`: two branches adding a migration each do not
    /// pick the same number. `pgstrata init` writes it for new projects.
    Timestamp,
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

#[cfg(feature = "cli")]
impl Settings {
    /// What snapshots cover: the listed schemas (every one when none are listed), never the
    /// history schema.
    pub fn snapshot_options(&self) -> crate::snapshot::SnapshotOptions {
        crate::snapshot::SnapshotOptions {
            exclude_schemas: vec![self.history_schema.clone()],
            include_schemas: self.schemas.clone(),
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
    /// The profile chosen with `--env NAME` or `PGSTRATA_ENV`.
    pub profile: Option<String>,
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
    pub versioning: Option<Versioning>,
    pub allow_out_of_order: Option<bool>,
    /// Seconds (fractions allowed); 0: check does not run sync verify.
    pub sync_verify_seconds: Option<f64>,
    /// Profiles: `[env.NAME]` tables of the settings above, laid over the top level when
    /// chosen. Read with the same rules (unknown keys refused); they do not nest.
    #[serde(default)]
    pub env: BTreeMap<String, FileSettings>,
}

pub const DEFAULT_HISTORY_SCHEMA: &str = "pgstrata";
pub const DEFAULT_LOCK_WAIT_S: u64 = 60;
pub const DEFAULT_SYNC_VERIFY_SECONDS: f64 = 2.0;

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
    let profile = overrides.profile.clone().filter(|p| !p.trim().is_empty());
    let (file, profile_servers) = match &overrides.config {
        Some(path) => read_file(path, profile.as_deref())?,
        // Anything there (a FIFO, a dangling symlink) is read and refused with the reason,
        // rather than skipped as `is_file()` would, silently dropping the settings.
        None if files::exists(&dir.join(FILE_NAME)) => {
            read_file(&dir.join(FILE_NAME), profile.as_deref())?
        }
        None => match &profile {
            Some(name) => bail!(
                "environment {} chosen (--env or PGSTRATA_ENV) but there is no {} to hold \
                 it; add an [env.NAME] table there, or unset PGSTRATA_ENV",
                shown_profile(name, &[]),
                dir.join(FILE_NAME).display()
            ),
            None => (FileSettings::default(), ProfileServers::default()),
        },
    };
    let history_schema = overrides
        .history_schema
        .or(file.history_schema)
        .unwrap_or_else(|| DEFAULT_HISTORY_SCHEMA.to_string());
    if history_schema.is_empty() || history_schema.len() > 63 {
        bail!(
            "history_schema must be 1 to 63 characters (PostgreSQL's limit), not {}",
            history_schema.len()
        );
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
            // The value is not quoted back: the settings file may hold secrets.
            .map_err(|_| {
                anyhow::anyhow!(
                    "{FILE_NAME}: {key} is not a duration; give a number and a unit, like \
                     500ms, 2s or 10min (units: us, ms, s, min, h, d), or 0 for no limit"
                )
            })
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
    if let Some(at) = file.schemas.iter().flatten().position(|s| !is_name(s)) {
        // Not quoted: whatever is there is not a name, and may be anything.
        bail!(
            "schemas: entry {} is not a schema name; use letters, digits and _",
            at + 1
        );
    }
    let sync_verify_seconds = file
        .sync_verify_seconds
        .unwrap_or(DEFAULT_SYNC_VERIFY_SECONDS);
    if !(0.0..=3600.0).contains(&sync_verify_seconds) {
        bail!("{FILE_NAME}: sync_verify_seconds must be from 0 (off) to 3600");
    }
    let given = |value: Option<String>| value.filter(|u| !u.trim().is_empty());
    let flag = given(overrides.database_url);
    let (environment_url, environment_check_url) = (
        given(env(DATABASE_URL_ENV)),
        given(env(CHECK_DATABASE_URL_ENV)),
    );
    if let (Some(name), None) = (&profile, &flag) {
        let shown = shown_profile(name, &[]);
        if profile_servers.database_url {
            refuse_two_servers(
                &shown,
                "database_url",
                DATABASE_URL_ENV,
                file.database_url.as_ref(),
                environment_url.as_ref(),
            )?;
        }
        if profile_servers.check_database_url {
            refuse_two_servers(
                &shown,
                "check_database_url",
                CHECK_DATABASE_URL_ENV,
                file.check_database_url.as_ref(),
                environment_check_url.as_ref(),
            )?;
        }
    }
    Ok(Settings {
        dir,
        database_url: flag.clone().or(environment_url).or(file.database_url),
        check_database_url: flag
            .or(environment_check_url)
            .or(given(file.check_database_url)),
        scratch: overrides.scratch,
        history_schema,
        lock_wait: Duration::from_secs(lock_wait),
        schemas: file.schemas,
        limits,
        versioning: file.versioning.unwrap_or_default(),
        allow_out_of_order: file.allow_out_of_order.unwrap_or(false),
        environment: profile,
        profile_names_database: profile_servers.database_url,
        sync_verify_seconds,
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

/// Reads the settings file, with the profile `profile` laid over its top level when one is
/// chosen.
fn read_file(path: &Path, profile: Option<&str>) -> Result<(FileSettings, ProfileServers)> {
    let text = files::read_regular_text(path, files::MAX_SETTINGS_BYTES)
        .with_context(|| format!("reading {}", path.display()))?;
    let settings = parse_file(&text).with_context(|| format!("reading {}", path.display()))?;
    let Some(name) = profile else {
        return Ok((settings, ProfileServers::default()));
    };
    if !settings.env.contains_key(name) {
        let known: Vec<&str> = settings.env.keys().map(String::as_str).collect();
        let listed = if known.is_empty() {
            "it has none".to_string()
        } else {
            format!("known: {}", known.join(", "))
        };
        bail!(
            "{}: no environment {} ([env.NAME] tables; {listed})",
            path.display(),
            shown_profile(name, &known)
        );
    }
    let chosen = &settings.env[name];
    let servers = ProfileServers {
        database_url: chosen.database_url.is_some(),
        check_database_url: chosen.check_database_url.is_some(),
    };
    let merged =
        with_profile(&text, name).with_context(|| format!("reading {}", path.display()))?;
    Ok((merged, servers))
}

/// Which servers the chosen profile names itself: a profile chosen to reach its database must
/// not be overridden in silence by a `DATABASE_URL` left in the shell or in `.env`.
#[derive(Debug, Default, Clone, Copy)]
struct ProfileServers {
    database_url: bool,
    check_database_url: bool,
}

/// Refuses a run where the chosen profile names a server (`key`) and the environment variable
/// `variable` names another: which one was meant cannot be known, and the wrong one may be
/// production. The flag beats both, so it is the way out, with unsetting either.
fn refuse_two_servers(
    profile: &str,
    key: &str,
    variable: &str,
    from_profile: Option<&String>,
    from_environment: Option<&String>,
) -> Result<()> {
    match (from_profile, from_environment) {
        (Some(a), Some(b)) if a.trim() != b.trim() => bail!(
            "environment {profile} names a database with {key} in its [env.NAME] table, and \
             {variable} (from the shell or the project's .env) names another one; pgstrata does \
             not guess which was meant: unset {variable} for this run (or run with \
             --no-dotenv), remove {key} from the profile, or give --database-url"
        ),
        _ => Ok(()),
    }
}

/// The file's settings with the `[env.NAME]` table's keys replacing the top level's: a key a
/// profile sets is the profile's whole value (a `schemas` list is replaced, not extended).
/// Done on the TOML table so that every key the file accepts works in a profile as it is.
fn with_profile(text: &str, name: &str) -> Result<FileSettings> {
    let mut table: toml::Table = toml::from_str(text)?;
    let profiles = table.remove("env");
    let profile = profiles
        .as_ref()
        .and_then(|p| p.get(name))
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    table.extend(profile);
    // Both parts passed `parse_file`: what fails here is described without quoting them.
    FileSettings::deserialize(toml::Value::Table(table))
        .map_err(|err| anyhow::anyhow!("{}", sanitize_message(err.message(), &known_keys())))
}

/// A profile name for an error message: quoted when it cannot be a password (shaped like a
/// settings key, or a typo of a profile the file has).
fn shown_profile(name: &str, known: &[&str]) -> String {
    secrets::quoted_if(
        name,
        secrets::looks_like_option_name(name) || secrets::near_miss(name, known).is_some(),
    )
}

/// Parses the settings file's text. An error says where (line and column, and the key when
/// it is a known one) and what, but quotes nothing from the file: toml's own message shows the
/// offending line, and a line of this file may hold a password (`database_url`).
pub fn parse_file(text: &str) -> Result<FileSettings> {
    let settings: FileSettings = toml::from_str(text)
        .map_err(|err| anyhow::anyhow!("{}", describe_toml_error(text, &err)))?;
    if let Some((name, _)) = settings.env.iter().find(|(_, p)| !p.env.is_empty()) {
        bail!(
            "[env.{}] holds an `env` table of its own; profiles do not nest",
            shown_profile(name, &[])
        );
    }
    Ok(settings)
}

/// `line 3, column 11 (key schemas): invalid type: a string, expected a sequence`.
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let mut known = known_keys();
    // The values of `versioning`, ours to quote: `expected `sequential` or `timestamp``.
    known.extend(["sequential", "timestamp"]);
    let mut out = String::new();
    if let Some(span) = err.span() {
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        out.push_str(&format!("line {line}, column {column}"));
        let line_text = text[line_start..].lines().next().unwrap_or("");
        if let Some((key, _)) = line_text.split_once('=')
            && known.contains(&key.trim())
        {
            out.push_str(&format!(" (key {})", key.trim()));
        }
        out.push_str(": ");
    }
    out.push_str(&sanitize_message(err.message(), &known));
    out
}

/// toml's (and serde's) message with every piece of the file it quotes replaced by `…`:
/// strings (`invalid type: string "…"`) always; backquoted text unless it is a known key,
/// a typo of one (`unknown field `lockwait``), or a bit of TOML syntax.
pub(crate) fn sanitize_message(message: &str, known: &[&'static str]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest.as_bytes()[open] as char;
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            out.push('…');
            return out;
        };
        let inner = &after[..close];
        let keep = quote == '`'
            && (inner.chars().count() <= 2
                || known.contains(&inner)
                || (secrets::looks_like_option_name(inner)
                    && secrets::near_miss(inner, known).is_some()));
        out.push(quote);
        out.push_str(if keep { inner } else { "…" });
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The keys `pgstrata.toml` accepts, as serde sees them: asked of `FileSettings` itself, so
/// the list cannot fall behind the struct.
pub(crate) fn known_keys() -> Vec<&'static str> {
    struct Fields(Vec<&'static str>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields.to_vec();
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields = Fields(Vec::new());
    let _ = FileSettings::deserialize(&mut fields);
    fields.0
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
        assert!(
            format!("{err:#}").starts_with("line 2, column 1: "),
            "{err:#}"
        );
    }

    #[test]
    fn known_keys_come_from_the_struct() {
        assert_eq!(
            known_keys(),
            [
                "database_url",
                "check_database_url",
                "history_schema",
                "lock_wait",
                "schemas",
                "lock_timeout",
                "lock_retries",
                "statement_timeout",
                "versioning",
                "allow_out_of_order",
                "sync_verify_seconds",
                "env"
            ]
        );
    }

    #[test]
    fn versioning_defaults_to_sequential_and_names_its_values_when_wrong() {
        assert_eq!(parse_file("").unwrap().versioning, None);
        assert_eq!(
            parse_file("versioning = \"timestamp\"\n")
                .unwrap()
                .versioning,
            Some(Versioning::Timestamp)
        );
        assert_eq!(Versioning::default(), Versioning::Sequential);
        let err = parse_file("versioning = \"dates\"\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("expected `sequential` or `timestamp`"),
            "{err:#}"
        );
    }

    #[test]
    fn parse_errors_say_where_and_what_but_quote_nothing_of_the_file() {
        for (text, expected) in [
            (
                "database_url = postgres://u:s3cr3t-pw@h/db\n",
                "line 1, column 16 (key database_url): string values must be quoted",
            ),
            (
                "schemas = \"s3cr3t-pw\"\n",
                "line 1, column 11 (key schemas): invalid type: string \"…\", expected a sequence",
            ),
            (
                "s3cr3t-pw = 1\n",
                "line 1, column 1: unknown field `…`, expected one of `database_url`",
            ),
            (
                "database_url = \"postgres://u:s3cr3t-pw@h/db\n",
                "line 1, column 44",
            ),
            (
                "database_url = 12345678\n",
                "invalid type: integer `…`, expected a string",
            ),
            (
                "\n\ns3cr3t-pw\n",
                "line 3, column 10: key with no value, expected `=`",
            ),
        ] {
            let err = format!("{:#}", parse_file(text).unwrap_err());
            assert!(
                !err.contains("s3cr3t-pw") && !err.contains("12345678"),
                "{err}"
            );
            assert!(
                err.starts_with(expected) || err.contains(expected),
                "{text:?}: {err}"
            );
        }
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

    /// A settings file in a directory of its own, for the profile tests.
    fn project_with(name: &str, settings: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pgstrata-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), settings).unwrap();
        dir
    }

    const PROFILES: &str = "lock_wait = 5\nhistory_schema = \"top\"\nschemas = [\"a\", \"b\"]\n\
        database_url = \"host=top\"\n\n[env.staging]\nlock_wait = 7\nschemas = [\"c\"]\n\
        database_url = \"host=staging\"\n\n[env.production]\nlock_timeout = \"3s\"\n";

    #[test]
    fn a_profile_overrides_the_top_level_and_flags_and_environment_override_it() {
        let dir = project_with("profiles", PROFILES);
        let with = |profile: Option<&str>, lock_wait: Option<u64>| Overrides {
            dir: Some(dir.clone()),
            profile: profile.map(str::to_string),
            lock_wait,
            ..Overrides::default()
        };
        let none = |_: &str| None;
        let top = resolve_with(with(None, None), &none).unwrap();
        assert_eq!(top.lock_wait, Duration::from_secs(5));
        assert_eq!(top.environment, None);
        assert_eq!(top.schemas, Some(vec!["a".into(), "b".into()]));
        let staging = resolve_with(with(Some("staging"), None), &none).unwrap();
        assert_eq!(staging.environment.as_deref(), Some("staging"));
        // The profile's value, a list replaced whole; keys it does not set come from the top.
        assert_eq!(staging.lock_wait, Duration::from_secs(7));
        assert_eq!(staging.schemas, Some(vec!["c".into()]));
        assert_eq!(staging.history_schema, "top");
        assert_eq!(staging.database_url.as_deref(), Some("host=staging"));
        assert_eq!(staging.limits.lock_timeout, DEFAULT_LOCK_TIMEOUT);
        // A flag (or its environment variable, merged by clap) beats the profile.
        let flagged = resolve_with(with(Some("staging"), Some(9)), &none).unwrap();
        assert_eq!(flagged.lock_wait, Duration::from_secs(9));
        // A DATABASE_URL naming another database than the profile's own is refused (the
        // shell's or .env's URL may be another environment's); the same one is fine; the
        // flag beats both.
        let deployed = |name: &str| (name == DATABASE_URL_ENV).then(|| "host=env".to_string());
        let err = resolve_with(with(Some("staging"), None), &deployed).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("DATABASE_URL") && message.contains("database_url"),
            "{message}"
        );
        assert!(!message.contains("host="), "{message}");
        let same = |name: &str| (name == DATABASE_URL_ENV).then(|| "host=staging".to_string());
        let agreed = resolve_with(with(Some("staging"), None), &same).unwrap();
        assert_eq!(agreed.database_url.as_deref(), Some("host=staging"));
        let flagged_url = Overrides {
            database_url: Some("host=flag".into()),
            ..with(Some("staging"), None)
        };
        let by_flag = resolve_with(flagged_url, &deployed).unwrap();
        assert_eq!(by_flag.database_url.as_deref(), Some("host=flag"));
        // A profile that names no database leaves DATABASE_URL beating the top level's.
        let production = resolve_with(with(Some("production"), None), &none).unwrap();
        assert_eq!(production.limits.lock_timeout, Duration::from_secs(3));
        assert_eq!(production.database_url.as_deref(), Some("host=top"));
        let production = resolve_with(with(Some("production"), None), &deployed).unwrap();
        assert_eq!(production.database_url.as_deref(), Some("host=env"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unknown_profile_is_an_error_listing_the_known_ones() {
        let dir = project_with("unknown-profile", PROFILES);
        let err = resolve(Overrides {
            dir: Some(dir.clone()),
            profile: Some("stagign".into()),
            ..Overrides::default()
        })
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("no environment \"stagign\"")
                && message.contains("known: production, staging"),
            "{message}"
        );
        std::fs::write(dir.join(FILE_NAME), "lock_wait = 5\n").unwrap();
        let err = resolve(Overrides {
            dir: Some(dir.clone()),
            profile: Some("staging".into()),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("it has none"), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
        let err = resolve(Overrides {
            dir: Some(dir),
            profile: Some("staging".into()),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("there is no"), "{err:#}");
    }

    #[test]
    fn profiles_follow_the_rules_of_the_top_level() {
        let err = parse_file("[env.staging]\nlockwait = 3\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("line 2, column 1: unknown field `lockwait`"),
            "{err:#}"
        );
        let err = parse_file("[env.staging]\nlock_wait = \"s3cr3t\"\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("line 2, column 13 (key lock_wait)")
                && !format!("{err:#}").contains("s3cr3t"),
            "{err:#}"
        );
        let err = parse_file("[env.staging.env.eu]\nlock_wait = 3\n").unwrap_err();
        assert!(format!("{err:#}").contains("do not nest"), "{err:#}");
        let err = parse_file("[env]\nstaging = 3\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
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

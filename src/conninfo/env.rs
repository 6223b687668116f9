//! What libpq takes from outside the connection string: `PG*` environment variables, the OS
//! user name, the home directory (for `~/.pgpass` and `~/.postgresql/`) and the default socket
//! directory, gathered into one [`Environment`] value.
//!
//! Everything that reads the real process environment is in [`Environment::from_process`];
//! the rest takes an `Environment` as input, so tests build one from a map and never read or
//! change the real environment.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::keywords::{self, IGNORED_ENV, KEYWORDS};
use super::parse::Pairs;

/// Variables whose presence means "the environment names a server or database".
const NAMING_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGSERVICE",
    "PGSERVICEFILE",
];

/// libpq's inputs besides the connection string.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    os_user: Option<String>,
    home: Option<PathBuf>,
    socket_dir: PathBuf,
}

impl Environment {
    /// The real one: this process's variables, its effective user, `$HOME` (else the
    /// account's home directory) and `/var/run/postgresql` if it exists, else `/tmp`.
    pub fn from_process() -> Environment {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("PG"))
            .collect();
        let account = current_account();
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| account.as_ref().map(|(_, home)| home.clone()));
        Environment {
            vars,
            os_user: account.map(|(name, _)| name),
            home,
            socket_dir: default_socket_dir(),
        }
    }

    /// An environment holding exactly `vars`, with no OS user, no home directory and `/tmp`
    /// as the default socket directory; see the `with_*` methods.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Environment {
        Environment {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            os_user: None,
            home: None,
            socket_dir: PathBuf::from("/tmp"),
        }
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn with_os_user(mut self, user: impl Into<String>) -> Environment {
        self.os_user = Some(user.into());
        self
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Environment {
        self.home = Some(home.into());
        self
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn with_socket_dir(mut self, dir: impl Into<PathBuf>) -> Environment {
        self.socket_dir = dir.into();
        self
    }

    /// A variable's value; an empty one counts as unset, as libpq mostly treats it.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Whether `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE` or `PGSERVICE[FILE]` is set:
    /// the user pointed libpq tools at a server, so a command may connect without a URL.
    pub fn names_database(&self) -> bool {
        NAMING_VARS.iter().any(|v| self.var(v).is_some())
    }
}

/// [`Environment::names_database`] for this process.
pub fn env_names_database() -> bool {
    Environment::from_process().names_database()
}

/// libpq's compiled-in default on Debian, else the upstream default.
pub(crate) fn default_socket_dir() -> PathBuf {
    let debian = Path::new("/var/run/postgresql");
    if debian.is_dir() {
        debian.to_path_buf()
    } else {
        PathBuf::from("/tmp")
    }
}

/// Fills keywords the string left unset from their `PG*` variables, then applies libpq's
/// defaults for host, port, user and dbname. Returns notes on variables it ignored.
pub(crate) fn fill(pairs: &mut Pairs, env: &Environment) -> Result<Vec<String>> {
    if env.var("PGSERVICE").is_some() {
        bail!(
            "PGSERVICE is set, but pgstrata does not read service files (pg_service.conf); \
             unset it and give the connection parameters instead"
        );
    }
    for keyword in KEYWORDS {
        let Some(var) = keyword.env else { continue };
        if has(pairs, keyword.name) {
            continue;
        }
        if let Some(value) = env.var(var) {
            if keyword.name != "password" {
                keywords::validate(keyword.name, value)
                    .with_context(|| format!("in the environment variable {var}"))?;
            }
            pairs.push((keyword.name, value.to_string()));
        }
    }
    let notes = IGNORED_ENV
        .iter()
        .filter(|(var, _)| env.var(var).is_some())
        .map(|(var, why)| format!("{var} is set but ignored: {why}"))
        .collect();
    if !has(pairs, "host") && !has(pairs, "hostaddr") {
        pairs.push(("host", env.socket_dir.display().to_string()));
    }
    if !has(pairs, "port") {
        pairs.push(("port", "5432".to_string()));
    }
    if !has(pairs, "user") {
        let Some(user) = env.os_user.clone() else {
            bail!("could not tell which user to connect as: set user= or PGUSER");
        };
        pairs.push(("user", user));
    }
    if !has(pairs, "dbname") {
        let user = get(pairs, "user").unwrap_or_default().to_string();
        pairs.push(("dbname", user));
    }
    Ok(notes)
}

fn has(pairs: &Pairs, name: &str) -> bool {
    pairs.iter().any(|(k, _)| *k == name)
}

fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

/// The effective user's name and home directory from the password database, as libpq's
/// `pg_get_user_name` (it does not trust `$USER`).
pub(crate) fn current_account() -> Option<(String, PathBuf)> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid out-parameter for getpwuid_r.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buf outlives the call and the strings it points into are copied out below.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: on success pw_name and pw_dir are NUL-terminated strings inside buf.
    let (name, dir) = unsafe { (CStr::from_ptr(pwd.pw_name), CStr::from_ptr(pwd.pw_dir)) };
    Some((
        name.to_string_lossy().into_owned(),
        PathBuf::from(dir.to_string_lossy().into_owned()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::from_vars(vars.iter().copied()).with_os_user("osuser")
    }

    #[test]
    fn variables_fill_only_what_the_string_left_unset() {
        let mut pairs: Pairs = vec![("host", "db.example".into())];
        let e = env(&[
            ("PGHOST", "ignored.example"),
            ("PGPORT", "6543"),
            ("PGSSLMODE", "verify-full"),
            ("PGAPPNAME", "ci"),
        ]);
        fill(&mut pairs, &e).unwrap();
        assert_eq!(get(&pairs, "host"), Some("db.example"));
        assert_eq!(get(&pairs, "port"), Some("6543"));
        assert_eq!(get(&pairs, "sslmode"), Some("verify-full"));
        assert_eq!(get(&pairs, "application_name"), Some("ci"));
        assert_eq!(get(&pairs, "user"), Some("osuser"));
        assert_eq!(
            get(&pairs, "dbname"),
            Some("osuser"),
            "dbname defaults to the user"
        );
    }

    #[test]
    fn defaults_are_the_socket_directory_port_5432_and_the_os_user() {
        let mut pairs = Pairs::new();
        fill(&mut pairs, &env(&[]).with_socket_dir("/run/pg")).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("host", "/run/pg".to_string()),
                ("port", "5432".to_string()),
                ("user", "osuser".to_string()),
                ("dbname", "osuser".to_string()),
            ]
        );
    }

    #[test]
    fn an_explicitly_empty_value_is_not_overridden_by_the_environment() {
        // libpq only fills keywords that are absent, not ones set to "".
        let mut pairs: Pairs = vec![("host", String::new())];
        fill(&mut pairs, &env(&[("PGHOST", "elsewhere")])).unwrap();
        assert_eq!(get(&pairs, "host"), Some(""));
    }

    #[test]
    fn a_bad_variable_is_named_and_pgservice_is_refused() {
        let err = fill(&mut Pairs::new(), &env(&[("PGSSLMODE", "sometimes")])).unwrap_err();
        assert!(format!("{err:#}").contains("PGSSLMODE"), "{err:#}");
        let err = fill(&mut Pairs::new(), &env(&[("PGSERVICE", "prod")])).unwrap_err();
        assert!(err.to_string().contains("service files"), "{err}");
    }

    #[test]
    fn ignored_variables_leave_a_note() {
        let notes = fill(&mut Pairs::new(), &env(&[("PGSSLCRL", "/x.crl")])).unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("PGSSLCRL is set but ignored"));
    }

    #[test]
    fn a_password_variable_is_used_and_no_user_is_an_error() {
        let mut pairs = Pairs::new();
        fill(&mut pairs, &env(&[("PGPASSWORD", "pw")])).unwrap();
        assert_eq!(get(&pairs, "password"), Some("pw"));
        let err = fill(&mut Pairs::new(), &Environment::from_vars::<&str, &str>([])).unwrap_err();
        assert!(err.to_string().contains("PGUSER"));
    }

    #[test]
    fn names_database_looks_at_host_database_and_service_variables() {
        assert!(!env(&[]).names_database());
        assert!(!env(&[("PGUSER", "ann"), ("PGPASSWORD", "x")]).names_database());
        assert!(
            !env(&[("PGHOST", "")]).names_database(),
            "empty counts as unset"
        );
        for var in ["PGHOST", "PGDATABASE", "PGSERVICE", "PGPORT", "PGHOSTADDR"] {
            assert!(env(&[(var, "x")]).names_database(), "{var}");
        }
    }

    #[test]
    fn the_process_environment_has_an_os_user() {
        assert!(Environment::from_process().os_user.is_some());
    }
}

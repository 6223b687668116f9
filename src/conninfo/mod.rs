//! Connection parameters as every libpq tool reads them: a URL or `key=value` string, the
//! `PG*` environment variables, the password file and libpq's defaults, then a connection
//! with TLS chosen by `sslmode`.
//!
//! [`ConnInfo::parse`] reads only the string it is given (pgstrata's own scratch server uses
//! it, so a user's `PGHOST` cannot redirect it); [`ConnInfo::parse_with_env`] adds what libpq
//! adds for a target the user named. This module never prints, and nothing it returns for
//! display or in an error holds a password: use [`ConnInfo::masked`] or
//! [`ConnInfo::describe`] to name a target.

mod connect;
mod env;
mod keywords;
mod parse;
mod pgpass;
mod render;
mod target;
mod tls;

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use postgres::Client;

pub(crate) use connect::Connecting;
pub use env::{Environment, env_names_database};
use parse::{Pairs, Style};
use target::Target;

/// A parsed connection string, ready to connect. Its `Debug` form is the masked string.
#[derive(Clone)]
pub struct ConnInfo {
    /// Keyword/value pairs in the order given; the environment's and the defaults after them.
    params: Pairs,
    style: Style,
    display: String,
    /// For `~/.postgresql/*` files; only set by `parse_with`, so `parse` reads no such file.
    home: Option<PathBuf>,
    socket_dir: PathBuf,
    /// Passwords from the password file, one per target (`None`: no matching line).
    file_passwords: Vec<Option<String>>,
    notes: Vec<String>,
}

impl ConnInfo {
    /// Parses a URL (`postgres://user:pw@host:port/db?k=v`) or `key=value` string, using
    /// nothing but the string: no `PG*` variables, no password file. A missing host means
    /// the default socket directory, a missing user the OS user (both decided on connect).
    pub fn parse(conninfo: &str) -> Result<ConnInfo> {
        let (style, params) = read(conninfo)?;
        ConnInfo::build(style, params, None, env::default_socket_dir(), Vec::new())
    }

    /// Parses a connection string a user gave, as libpq would: `PG*` variables fill what it
    /// leaves out, a password still missing comes from the password file, and libpq's
    /// defaults apply (socket directory, port 5432, OS user, dbname = user).
    pub fn parse_with_env(conninfo: &str) -> Result<ConnInfo> {
        ConnInfo::parse_with(conninfo, &Environment::from_process())
    }

    /// [`ConnInfo::parse_with_env`] with the environment as an input.
    pub fn parse_with(conninfo: &str, env: &Environment) -> Result<ConnInfo> {
        let (style, mut params) = read(conninfo)?;
        let notes = env::fill(&mut params, env)?;
        let home = env.home().map(PathBuf::from);
        let mut info = ConnInfo::build(style, params, home, env.socket_dir().to_path_buf(), notes)?;
        // libpq treats an empty password as none and still looks in the file.
        if info.get("password").is_none_or(str::is_empty) {
            info.read_password_file();
        }
        Ok(info)
    }

    fn build(
        style: Style,
        params: Pairs,
        home: Option<PathBuf>,
        socket_dir: PathBuf,
        notes: Vec<String>,
    ) -> Result<ConnInfo> {
        let info = ConnInfo {
            display: render::masked(&style, &params),
            params,
            style,
            home,
            socket_dir,
            file_passwords: Vec::new(),
            notes,
        };
        info.targets()?;
        if info.get("sslrootcert") == Some("system") && info.sslmode() != "verify-full" {
            bail!(
                "sslmode={} may not be used with sslrootcert=system: any public CA can sign a \
                 certificate for a name it does not own, so use sslmode=verify-full (libpq \
                 16 refuses this too)",
                info.sslmode()
            );
        }
        Ok(info)
    }

    /// The same target with another database, for `check`, which works in a temporary
    /// database on the server the user named. The password already found is kept.
    pub fn with_dbname(&self, dbname: &str) -> ConnInfo {
        let mut info = self.clone();
        info.params.retain(|(keyword, _)| *keyword != "dbname");
        info.params.push(("dbname", dbname.to_string()));
        info.display = render::masked(&info.style, &info.params);
        info
    }

    /// A parameter's value as given (or filled in by `parse_with`).
    pub fn get(&self, keyword: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| *k == keyword)
            .map(|(_, v)| v.as_str())
    }

    /// The connection string with its password replaced by `***`, in the form it was given
    /// (URL or key=value), including what the environment and defaults filled in.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn masked(&self) -> &str {
        &self.display
    }

    /// A short name for messages: `app on db.example:5432 as ann`.
    pub fn describe(&self) -> String {
        let hosts = match self.targets() {
            Ok(targets) => targets
                .iter()
                .map(Target::label)
                .collect::<Vec<_>>()
                .join(", "),
            Err(_) => "?".to_string(),
        };
        let user = self.user().unwrap_or_else(|| "?".to_string());
        format!(
            "{} on {hosts} as {user}",
            self.dbname().unwrap_or(user.clone())
        )
    }

    /// Things the caller may want to show: variables and files that were ignored, and why.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// `sslmode` as it applies: given, else `verify-full` with `sslrootcert=system`, else
    /// libpq's default `prefer`.
    pub fn sslmode(&self) -> &str {
        match self.get("sslmode") {
            Some(mode) => mode,
            None if self.get("sslrootcert") == Some("system") => "verify-full",
            None => "prefer",
        }
    }

    /// Opens a connection, trying each host in turn, with TLS as `sslmode` says. Errors name
    /// the target with [`ConnInfo::describe`] and, for TLS failures, what to change.
    pub fn connect(&self) -> Result<Client> {
        connect::connect(self, None)
    }

    /// [`ConnInfo::connect`], delivering the server's notices to `notices`.
    pub fn connect_with_notices(&self, notices: &crate::notices::Notices) -> Result<Client> {
        connect::connect(self, Some(notices))
    }

    pub(crate) fn targets(&self) -> Result<Vec<Target>> {
        target::targets(
            self.get("host"),
            self.get("hostaddr"),
            self.get("port"),
            &self.socket_dir,
        )
    }

    /// The user: given, else the OS user (libpq's default).
    pub(crate) fn user(&self) -> Option<String> {
        match self.get("user").filter(|u| !u.is_empty()) {
            Some(user) => Some(user.to_string()),
            None => env::current_account().map(|(name, _)| name),
        }
    }

    /// The database: given, else the user name (libpq's default).
    pub(crate) fn dbname(&self) -> Option<String> {
        match self.get("dbname").filter(|d| !d.is_empty()) {
            Some(dbname) => Some(dbname.to_string()),
            None => self.user(),
        }
    }

    /// The password for the `index`th target: given (string or PGPASSWORD), else the
    /// password file's.
    pub(crate) fn password_for(&self, index: usize) -> Option<&str> {
        self.get("password")
            .filter(|p| !p.is_empty())
            .or_else(|| self.file_passwords.get(index)?.as_deref())
    }

    pub(crate) fn home(&self) -> Option<&std::path::Path> {
        self.home.as_deref()
    }

    /// Looks each target up in the password file; an unusable file leaves a note.
    fn read_password_file(&mut self) {
        let path = match (self.get("passfile"), &self.home) {
            (Some(path), _) => PathBuf::from(path),
            (None, Some(home)) => home.join(".pgpass"),
            (None, None) => return,
        };
        let text = match pgpass::read(&path) {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(reason) => {
                self.notes.push(reason);
                return;
            }
        };
        let (Ok(targets), Some(user), Some(dbname)) = (self.targets(), self.user(), self.dbname())
        else {
            return;
        };
        self.file_passwords = targets
            .iter()
            .map(|target| {
                let host = pgpass::lookup_host(target, &self.socket_dir);
                let port = target.port.to_string();
                let lookup = pgpass::Lookup {
                    host: &host,
                    port: &port,
                    dbname: &dbname,
                    user: &user,
                };
                pgpass::find(&text, &lookup)
            })
            .collect();
    }
}

impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ConnInfo").field(&self.display).finish()
    }
}

/// Parses and validates, later keywords replacing earlier ones in place (as libpq does).
fn read(conninfo: &str) -> Result<(Style, Pairs)> {
    let (style, raw) = parse::parse(conninfo)?;
    let quiet = parse::may_hold_secret(conninfo);
    let mut params = Pairs::new();
    for (keyword, value) in raw {
        if keyword != "password" {
            keywords::validate(keyword, &value).map_err(|err| {
                if quiet {
                    anyhow!(
                        "invalid value for connection option \"{keyword}\" (not shown: the URL \
                         has an \"@\" after its user:password part, so it may hold part of a \
                         password; percent-encode \"@\" and \"/\" in a password as %40 and %2F)"
                    )
                } else {
                    err
                }
            })?;
        }
        match params.iter_mut().find(|(k, _)| *k == keyword) {
            Some(slot) => slot.1 = value,
            None => params.push((keyword, value)),
        }
    }
    Ok((style, params))
}

/// Replaces the password in a connection string with `***`. A string that does not parse
/// is not echoed at all, since where its password ends cannot be known.
pub fn mask_password(conninfo: &str) -> String {
    match ConnInfo::parse(conninfo) {
        Ok(info) => info.display,
        Err(_) => "(a connection string that does not parse; not shown)".to_string(),
    }
}

/// Whether `client`'s connection is encrypted, as the server sees it (`pg_stat_ssl`).
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn ssl_is_used(client: &mut Client) -> Result<bool> {
    let row = client.query_one(
        "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
        &[],
    )?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests;

//! Opening a connection from a [`ConnInfo`]: each host in turn, TLS or not as `sslmode`
//! says (with libpq's fall-backs for `allow` and `prefer`), then the `target_session_attrs`
//! check.
//!
//! Errors name targets by their label and the whole by `describe()`; they never contain a
//! password (the driver's errors do not carry one, and nothing here adds it).

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use postgres::config::{ChannelBinding, SslMode};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use super::ConnInfo;
use super::target::Target;
use super::tls;
use crate::notices::Notices;

pub(crate) fn connect(info: &ConnInfo, notices: Option<&Notices>) -> Result<Client> {
    let targets = info.targets()?;
    let attrs = info.get("target_session_attrs").unwrap_or("any");
    // libpq: prefer-standby looks for a standby first, then takes any server.
    let passes: &[&str] = match attrs {
        "prefer-standby" => &["standby", "any"],
        other => &[other],
    };
    let mut failures = Vec::new();
    for pass in passes {
        for (index, target) in targets.iter().enumerate() {
            let attempt = connect_target(info, index, target, notices).and_then(|mut client| {
                check_session(&mut client, pass)?;
                Ok(client)
            });
            match attempt {
                Ok(client) => return Ok(client),
                Err(err) => failures.push((target.label(), err)),
            }
        }
    }
    Err(report(info, failures))
}

/// One error naming the target, with every host's failure when there were several.
fn report(info: &ConnInfo, mut failures: Vec<(String, anyhow::Error)>) -> anyhow::Error {
    let mut notes = String::new();
    for note in info.notes() {
        notes.push_str(&format!(" (note: {note})"));
    }
    let context = format!(
        "connecting to {} (sslmode={}){notes}",
        info.describe(),
        info.sslmode()
    );
    if failures.len() == 1 {
        let (_, err) = failures.remove(0);
        return err.context(Connecting(context));
    }
    let lines: Vec<String> = failures
        .iter()
        .map(|(label, err)| format!("{label}: {err:#}"))
        .collect();
    anyhow!("no host accepted the connection:\n  {}", lines.join("\n  "))
        .context(Connecting(context))
}

/// The context of every failure to open a connection (`connecting to …`): it tells a
/// connection failure apart from a statement's error whatever the server answered (a wrong
/// password is an error from the server too). See `crate::api::ErrorKind`.
#[derive(Debug)]
pub(crate) struct Connecting(String);

impl std::fmt::Display for Connecting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Connects to one target with the TLS behaviour of `sslmode`. libpq never uses TLS on a
/// Unix-domain socket, whatever the mode.
fn connect_target(
    info: &ConnInfo,
    index: usize,
    target: &Target,
    notices: Option<&Notices>,
) -> Result<Client> {
    let mode = info.sslmode();
    let mut config = base_config(info, index, target)?;
    if let Some(notices) = notices {
        notices.attach(&mut config);
    }
    if target.is_socket() || mode == "disable" {
        return plain(&mut config);
    }
    if mode == "verify-full" && target.host.is_empty() {
        anyhow::bail!(
            "sslmode=verify-full needs a host name to check the certificate against, but only \
             hostaddr is set; set host to the name in the server's certificate"
        );
    }
    match mode {
        // Plaintext first; TLS only if the server turned that down.
        "allow" => match plain(&mut config) {
            Err(err) if refused_by_server(&err) => encrypted(info, &mut config, target, "allow"),
            other => other,
        },
        // TLS if the server offers it; plaintext if it does not, if the handshake fails, or
        // if the server turns the encrypted connection down (a `hostnossl` line).
        "prefer" => match encrypted(info, &mut config, target, "prefer") {
            Err(err) if failed_in_tls(&err) || refused_by_server(&err) => plain(&mut config),
            other => other,
        },
        _ => encrypted(info, &mut config, target, mode),
    }
}

fn plain(config: &mut Config) -> Result<Client> {
    config.ssl_mode(SslMode::Disable);
    config.connect(NoTls).map_err(driver_error)
}

fn encrypted(info: &ConnInfo, config: &mut Config, target: &Target, mode: &str) -> Result<Client> {
    let plan = tls::plan(info, mode)?;
    let (connector, failure) = tls::connector(&plan)?;
    config.ssl_mode(if mode == "prefer" {
        SslMode::Prefer
    } else {
        SslMode::Require
    });
    config.connect(connector).map_err(|err| {
        let host = if target.host.is_empty() {
            target.hostaddr.map(|a| a.to_string()).unwrap_or_default()
        } else {
            target.host.clone()
        };
        match tls::explain(&err, &failure, mode, &host, plan.roots.as_ref()) {
            Some(advice) => anyhow::Error::new(TlsFailed { advice }),
            None => driver_error(err),
        }
    })
}

/// A TLS failure explained (the explanation carries OpenSSL's reason); also what `prefer`
/// falls back on. The driver's error is not kept as a source: OpenSSL's text would repeat.
#[derive(Debug)]
struct TlsFailed {
    advice: String,
}

impl std::fmt::Display for TlsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.advice)
    }
}

impl std::error::Error for TlsFailed {}

fn failed_in_tls(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<TlsFailed>())
}

/// The server turned the connection down (not a network failure, not a wrong password):
/// libpq then retries `allow` with TLS and `prefer` without.
fn refused_by_server(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<postgres::Error>()
            .and_then(|pe| pe.as_db_error())
            .is_some_and(|db| *db.code() != SqlState::INVALID_PASSWORD)
    })
}

/// The driver's error, with advice when it is about a missing password.
fn driver_error(err: postgres::Error) -> anyhow::Error {
    if tls::full_text(&err).contains("password missing") {
        return anyhow::Error::new(err).context(
            "the server asked for a password and none was given: put it in the connection \
             string, PGPASSWORD or the password file (~/.pgpass or PGPASSFILE)",
        );
    }
    anyhow::Error::new(err)
}

/// Everything but TLS, for one target.
fn base_config(info: &ConnInfo, index: usize, target: &Target) -> Result<Config> {
    let mut config = Config::new();
    if target.host.is_empty() {
        // Only hostaddr: it is also the name TLS checks.
        let addr = target.hostaddr.expect("a target has a host or a hostaddr");
        config.host(&addr.to_string()).hostaddr(addr);
    } else {
        config.host(&target.host);
        if let Some(addr) = target.hostaddr {
            config.hostaddr(addr);
        }
    }
    config.port(target.port);
    let user = info
        .user()
        .context("could not tell which user to connect as: set user= or PGUSER")?;
    config.dbname(&info.dbname().unwrap_or_else(|| user.clone()));
    config.user(&user);
    if let Some(password) = info.password_for(index) {
        config.password(password);
    }
    let app = info
        .get("application_name")
        .or(info.get("fallback_application_name"))
        .unwrap_or("pgstrata");
    config.application_name(app);
    if let Some(options) = info.get("options").filter(|o| !o.is_empty()) {
        config.options(options);
    }
    apply_timeouts(info, &mut config);
    config.channel_binding(match info.get("channel_binding") {
        Some("disable") => ChannelBinding::Disable,
        Some("require") => ChannelBinding::Require,
        _ => ChannelBinding::Prefer,
    });
    Ok(config)
}

fn apply_timeouts(info: &ConnInfo, config: &mut Config) {
    let int = |name: &str| info.get(name).and_then(|v| v.trim().parse::<i64>().ok());
    let secs = |n: i64| Duration::from_secs(n.max(0) as u64);
    // libpq: zero or negative waits forever, and the shortest wait is 2 s.
    if let Some(timeout) = int("connect_timeout").filter(|t| *t > 0) {
        config.connect_timeout(secs(timeout.max(2)));
    }
    config.keepalives(int("keepalives") != Some(0));
    if let Some(idle) = int("keepalives_idle").filter(|t| *t > 0) {
        config.keepalives_idle(secs(idle));
    }
    if let Some(interval) = int("keepalives_interval").filter(|t| *t > 0) {
        config.keepalives_interval(secs(interval));
    }
    if let Some(count) = int("keepalives_count").filter(|t| *t > 0) {
        config.keepalives_retries(count.min(u32::MAX as i64) as u32);
    }
    if let Some(ms) = int("tcp_user_timeout").filter(|t| *t > 0) {
        config.tcp_user_timeout(Duration::from_millis(ms as u64));
    }
}

/// libpq's `target_session_attrs` check on an open connection.
fn check_session(client: &mut Client, attrs: &str) -> Result<()> {
    let (sql, want, refusal) = match attrs {
        "read-write" => (
            "SELECT current_setting('transaction_read_only') = 'off'",
            true,
            "the server only allows read-only transactions",
        ),
        "read-only" => (
            "SELECT current_setting('transaction_read_only') = 'on'",
            true,
            "the server allows read-write transactions",
        ),
        "primary" => (
            "SELECT pg_is_in_recovery()",
            false,
            "the server is a standby",
        ),
        "standby" => (
            "SELECT pg_is_in_recovery()",
            true,
            "the server is not a standby",
        ),
        _ => return Ok(()),
    };
    let got: bool = client
        .query_one(sql, &[])
        .context("checking target_session_attrs")?
        .get(0);
    if got != want {
        anyhow::bail!("{refusal} (target_session_attrs={attrs})");
    }
    Ok(())
}

//! The list of servers a connection string names: `host`, `hostaddr` and `port`, each possibly
//! a comma-separated list, paired up as libpq pairs them.
//!
//! Pure: it reads parameters and returns targets; it neither resolves names nor connects.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Result, bail};

use super::keywords::parse_port;

/// One server to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The host as given (a name, an address or a socket directory); empty when only
    /// `hostaddr` names the server. TLS checks the certificate against it.
    pub host: String,
    /// The numeric address to connect to instead of looking `host` up.
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
}

impl Target {
    /// A Unix-domain socket directory (libpq: a host starting with `/`), with no `hostaddr`.
    pub fn is_socket(&self) -> bool {
        self.hostaddr.is_none() && self.host.starts_with('/')
    }

    /// `db.example:5432`, `[::1]:5432`, `db.example (10.0.0.5):5432` or the socket file.
    pub fn label(&self) -> String {
        if self.is_socket() {
            return format!("{}/.s.PGSQL.{}", self.host.trim_end_matches('/'), self.port);
        }
        let bracket = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_string()
            }
        };
        match (&self.hostaddr, self.host.is_empty()) {
            (Some(addr), true) => format!("{}:{}", bracket(&addr.to_string()), self.port),
            (Some(addr), false) => format!("{} ({addr}):{}", self.host, self.port),
            (None, _) => format!("{}:{}", bracket(&self.host), self.port),
        }
    }
}

/// Pairs the `host`, `hostaddr` and `port` lists. An empty host (or none at all) means the
/// default socket directory; an empty port means 5432. One port applies to every host.
pub(crate) fn targets(
    host: Option<&str>,
    hostaddr: Option<&str>,
    port: Option<&str>,
    default_socket_dir: &Path,
) -> Result<Vec<Target>> {
    let split = |v: Option<&str>| -> Vec<String> {
        v.filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let hosts = split(host);
    let addrs = split(hostaddr);
    let ports = split(port);
    if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
        bail!(
            "could not match {} host names to {} hostaddr values",
            hosts.len(),
            addrs.len()
        );
    }
    let count = hosts.len().max(addrs.len()).max(1);
    if ports.len() > 1 && ports.len() != count {
        bail!(
            "could not match {} port numbers to {count} hosts",
            ports.len()
        );
    }
    let mut targets = Vec::with_capacity(count);
    for i in 0..count {
        let addr = addrs.get(i).filter(|a| !a.is_empty());
        let hostaddr = match addr {
            Some(a) => match a.parse() {
                Ok(ip) => Some(ip),
                Err(_) => bail!(
                    "invalid hostaddr {}: it must be a numeric IP address",
                    crate::secrets::quoted_if(
                        a,
                        a.bytes()
                            .all(|b| b.is_ascii_hexdigit() || b":.%".contains(&b))
                    )
                ),
            },
            None => None,
        };
        let mut host = hosts.get(i).cloned().unwrap_or_default();
        if host.is_empty() && hostaddr.is_none() {
            host = default_socket_dir.display().to_string();
        }
        let port_text = ports.get(i).or(ports.first()).filter(|p| !p.is_empty());
        let port = match port_text {
            None => 5432,
            Some(p) => match parse_port(p) {
                Some(port) => port,
                None => bail!(
                    "invalid port number {}",
                    crate::secrets::quoted_if(p, crate::secrets::looks_like_number(p))
                ),
            },
        };
        targets.push(Target {
            host,
            hostaddr,
            port,
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, hostaddr: Option<&str>, port: u16) -> Target {
        Target {
            host: host.to_string(),
            hostaddr: hostaddr.map(|a| a.parse().unwrap()),
            port,
        }
    }

    #[test]
    fn no_host_means_the_default_socket_directory_on_port_5432() {
        let got = targets(None, None, None, Path::new("/run/pg")).unwrap();
        assert_eq!(got, vec![t("/run/pg", None, 5432)]);
        assert!(got[0].is_socket());
        assert_eq!(got[0].label(), "/run/pg/.s.PGSQL.5432");
    }

    #[test]
    fn one_port_applies_to_every_host_and_empty_entries_take_defaults() {
        let got = targets(Some("a,b"), None, Some("6000"), Path::new("/tmp")).unwrap();
        assert_eq!(got, vec![t("a", None, 6000), t("b", None, 6000)]);
        let got = targets(Some("a,,c"), None, Some("1,,3"), Path::new("/tmp")).unwrap();
        assert_eq!(
            got,
            vec![t("a", None, 1), t("/tmp", None, 5432), t("c", None, 3)]
        );
    }

    #[test]
    fn hostaddr_pairs_with_host_and_can_stand_alone() {
        let got = targets(
            Some("db.example"),
            Some("10.0.0.5"),
            None,
            Path::new("/tmp"),
        )
        .unwrap();
        assert_eq!(got, vec![t("db.example", Some("10.0.0.5"), 5432)]);
        assert_eq!(got[0].label(), "db.example (10.0.0.5):5432");
        let got = targets(None, Some("::1"), Some("5433"), Path::new("/tmp")).unwrap();
        assert_eq!(got, vec![t("", Some("::1"), 5433)]);
        assert_eq!(got[0].label(), "[::1]:5433");
        assert!(!got[0].is_socket());
    }

    #[test]
    fn mismatched_lists_are_errors() {
        let err = targets(Some("a,b"), None, Some("1,2,3"), Path::new("/tmp")).unwrap_err();
        assert_eq!(err.to_string(), "could not match 3 port numbers to 2 hosts");
        let err = targets(Some("a,b"), Some("::1"), None, Path::new("/tmp")).unwrap_err();
        assert!(err.to_string().contains("2 host names to 1 hostaddr"));
    }
}

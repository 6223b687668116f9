//! Writing parameters back as a connection string, with the password replaced by `***`: the
//! form every message uses.
//!
//! The output is a valid connection string of the same form as the input (URL or key=value),
//! but it can never carry the real password.

use super::parse::{Pairs, Style};

pub(crate) const MASK: &str = "***";

/// Renders `pairs` in `style` with any password masked.
pub(crate) fn masked(style: &Style, pairs: &Pairs) -> String {
    match style {
        Style::KeyValue => key_value(pairs),
        Style::Url { scheme } => url(scheme, pairs),
    }
}

fn key_value(pairs: &Pairs) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            if *key == "password" {
                format!("{key}={MASK}")
            } else {
                format!("{key}={}", quote(value))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
    if plain {
        return value.to_string();
    }
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("'{escaped}'")
}

fn url(scheme: &str, pairs: &Pairs) -> String {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut out = scheme.to_string();
    let user = get("user");
    let has_password = get("password").is_some();
    if user.is_some() || has_password {
        out.push_str(&encode(user.unwrap_or(""), b":@/?#%"));
        if has_password {
            out.push(':');
            out.push_str(MASK);
        }
        out.push('@');
    }
    let mut in_netloc = vec!["user", "password"];
    if let Some(netloc) = netloc(get("host"), get("port")) {
        out.push_str(&netloc);
        in_netloc.extend(["host", "port"]);
    }
    if let Some(dbname) = get("dbname") {
        out.push('/');
        out.push_str(&encode(dbname, b"/?#%@"));
        in_netloc.push("dbname");
    }
    let query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !in_netloc.contains(k))
        .map(|(k, v)| format!("{k}={}", encode(v, b"&=#%")))
        .collect();
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// `h1:p1,h2:p2` when hosts and ports can be written there; socket directories and port lists
/// that do not pair up go in the query instead.
fn netloc(host: Option<&str>, port: Option<&str>) -> Option<String> {
    let hosts: Vec<&str> = host.map(|h| h.split(',').collect()).unwrap_or_default();
    let ports: Vec<&str> = port.map(|p| p.split(',').collect()).unwrap_or_default();
    if hosts.is_empty() && ports.is_empty() {
        return Some(String::new());
    }
    if hosts.is_empty()
        || hosts
            .iter()
            .any(|h| h.starts_with('/') || h.contains(['@', '/']))
    {
        return None;
    }
    if ports.len() > 1 && ports.len() != hosts.len() {
        return None;
    }
    let items: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = if h.contains(':') {
                format!("[{h}]")
            } else {
                encode(h, b",?#%")
            };
            match ports.get(i).or(if ports.len() == 1 {
                ports.first()
            } else {
                None
            }) {
                Some(p) if !p.is_empty() => format!("{host}:{p}"),
                _ => host,
            }
        })
        .collect();
    Some(items.join(","))
}

/// Percent-encodes `special`, spaces and anything outside printable ASCII.
fn encode(text: &str, special: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_graphic() && !special.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

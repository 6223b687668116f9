//! The connection keywords pgstrata accepts, their `PG*` environment variables, and the checks
//! on their values.
//!
//! This is the one list of what a connection string may say. It checks values but never opens
//! anything, and its errors never quote a password: the `password` keyword's value is not
//! validated here at all.

use anyhow::{Result, bail};

use crate::secrets;

/// A keyword pgstrata implements, with the environment variable libpq reads for it.
pub(crate) struct Keyword {
    pub name: &'static str,
    pub env: Option<&'static str>,
}

const fn kw(name: &'static str, env: Option<&'static str>) -> Keyword {
    Keyword { name, env }
}

/// Implemented keywords, in libpq's documentation order.
pub(crate) const KEYWORDS: &[Keyword] = &[
    kw("host", Some("PGHOST")),
    kw("hostaddr", Some("PGHOSTADDR")),
    kw("port", Some("PGPORT")),
    kw("dbname", Some("PGDATABASE")),
    kw("user", Some("PGUSER")),
    kw("password", Some("PGPASSWORD")),
    kw("passfile", Some("PGPASSFILE")),
    kw("channel_binding", Some("PGCHANNELBINDING")),
    kw("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    kw("client_encoding", Some("PGCLIENTENCODING")),
    kw("options", Some("PGOPTIONS")),
    kw("application_name", Some("PGAPPNAME")),
    kw("fallback_application_name", None),
    kw("keepalives", None),
    kw("keepalives_idle", None),
    kw("keepalives_interval", None),
    kw("keepalives_count", None),
    kw("tcp_user_timeout", None),
    kw("sslmode", Some("PGSSLMODE")),
    kw("sslcert", Some("PGSSLCERT")),
    kw("sslkey", Some("PGSSLKEY")),
    kw("sslrootcert", Some("PGSSLROOTCERT")),
    kw("sslsni", Some("PGSSLSNI")),
    kw("gssencmode", Some("PGGSSENCMODE")),
    kw("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
];

/// libpq keywords pgstrata knows but does not implement. Refusing them beats connecting in a
/// way the user did not ask for.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "service",
        "service files (pg_service.conf) are not read; give host, port, dbname and user instead",
    ),
    (
        "sslpassword",
        "encrypted client keys are not supported; store the key decrypted with mode 0600",
    ),
    ("sslcrl", "certificate revocation lists are not checked"),
    ("sslcrldir", "certificate revocation lists are not checked"),
    (
        "sslcompression",
        "TLS compression is obsolete and never used",
    ),
    (
        "sslcertmode",
        "the client certificate is sent whenever one is configured",
    ),
    (
        "sslnegotiation",
        "only PostgreSQL's standard TLS negotiation is used",
    ),
    (
        "ssl_min_protocol_version",
        "OpenSSL's default TLS versions apply",
    ),
    (
        "ssl_max_protocol_version",
        "OpenSSL's default TLS versions apply",
    ),
    ("requiressl", "it is deprecated; use sslmode=require"),
    ("requirepeer", "peer credential checks are not supported"),
    (
        "require_auth",
        "the server chooses the authentication method",
    ),
    (
        "krbsrvname",
        "GSSAPI/Kerberos authentication is not supported",
    ),
    ("gsslib", "GSSAPI/Kerberos authentication is not supported"),
    (
        "gssdelegation",
        "GSSAPI/Kerberos authentication is not supported",
    ),
    ("replication", "replication connections are not supported"),
    ("load_balance_hosts", "hosts are tried in the order given"),
    ("min_protocol_version", "the protocol version is fixed"),
    ("max_protocol_version", "the protocol version is fixed"),
];

/// `PG*` variables libpq reads for keywords pgstrata does not implement. When one is set, a
/// note says it was ignored (PGSERVICE is refused instead: see `env`).
pub(crate) const IGNORED_ENV: &[(&str, &str)] = &[
    ("PGSSLCRL", "certificate revocation lists are not checked"),
    (
        "PGSSLCRLDIR",
        "certificate revocation lists are not checked",
    ),
    ("PGREQUIRESSL", "it is deprecated; use PGSSLMODE=require"),
    (
        "PGSSLNEGOTIATION",
        "only the standard TLS negotiation is used",
    ),
    (
        "PGREQUIREAUTH",
        "the server chooses the authentication method",
    ),
    (
        "PGKRBSRVNAME",
        "GSSAPI/Kerberos authentication is not supported",
    ),
    ("PGLOADBALANCEHOSTS", "hosts are tried in the order given"),
];

pub(crate) const SSLMODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

pub(crate) const SESSION_ATTRS: &[&str] = &[
    "any",
    "read-write",
    "read-only",
    "primary",
    "standby",
    "prefer-standby",
];

/// The canonical spelling of a keyword, or an error naming it (when a name is quoted at all:
/// see `crate::secrets`).
pub(crate) fn lookup(name: &str) -> Result<&'static str> {
    if let Some(keyword) = KEYWORDS.iter().find(|k| k.name == name) {
        return Ok(keyword.name);
    }
    if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == name) {
        bail!("connection option \"{name}\" is not supported by pgstrata: {why}");
    }
    if let Some(meant) = near_keyword(name) {
        bail!("invalid connection option \"{name}\" (did you mean \"{meant}\"?)");
    }
    if !secrets::looks_like_option_name(name) {
        bail!("invalid connection option {}", secrets::NOT_SHOWN);
    }
    bail!("invalid connection option \"{name}\" (libpq does not know it either)")
}

/// The keyword (implemented or not) that `name` is, or is a typo of.
pub(crate) fn near_keyword(name: &str) -> Option<&'static str> {
    let known: Vec<&'static str> = KEYWORDS
        .iter()
        .map(|k| k.name)
        .chain(UNSUPPORTED.iter().map(|(k, _)| *k))
        .collect();
    secrets::near_miss(name, &known)
}

/// Checks a value the way libpq does before it connects. Never called for `password`.
pub(crate) fn validate(name: &str, value: &str) -> Result<()> {
    match name {
        "port" => each(name, value, |p| p.is_empty() || parse_port(p).is_some()),
        "hostaddr" => each(name, value, |a| {
            a.is_empty() || a.parse::<std::net::IpAddr>().is_ok()
        }),
        "sslmode" => one_of(name, value, SSLMODES),
        "target_session_attrs" => one_of(name, value, SESSION_ATTRS),
        "channel_binding" => one_of(name, value, &["disable", "prefer", "require"]),
        "gssencmode" => {
            if value == "require" {
                bail!(
                    "gssencmode=require cannot be met: pgstrata does not support GSSAPI \
                     encryption; use sslmode for encryption"
                );
            }
            one_of(name, value, &["disable", "prefer"])
        }
        "keepalives" | "sslsni" => one_of(name, value, &["0", "1"]),
        "connect_timeout"
        | "keepalives_idle"
        | "keepalives_interval"
        | "keepalives_count"
        | "tcp_user_timeout" => {
            if value.trim().is_empty() || value.trim().parse::<i64>().is_ok() {
                Ok(())
            } else {
                bail!(
                    "invalid integer value {} for connection option \"{name}\"",
                    shown(value, secrets::looks_like_number(value))
                )
            }
        }
        "client_encoding" => {
            let v = value.to_ascii_lowercase();
            if ["utf8", "utf-8", "unicode", "auto"].contains(&v.as_str()) {
                Ok(())
            } else {
                bail!(
                    "client_encoding={} is not supported: pgstrata always talks UTF8 to the \
                     server",
                    shown(value, is_encoding_name(value))
                )
            }
        }
        _ => Ok(()),
    }
}

/// A value as an error may quote it: only when it cannot be a password (see
/// `crate::secrets`); the option's name says what is wrong either way.
fn shown(value: &str, harmless: bool) -> String {
    secrets::quoted_if(value, harmless)
}

/// One of PostgreSQL's encoding names (any case): quoting it back cannot show a password.
fn is_encoding_name(value: &str) -> bool {
    const ENCODINGS: &[&str] = &[
        "BIG5",
        "EUC_CN",
        "EUC_JP",
        "EUC_JIS_2004",
        "EUC_KR",
        "EUC_TW",
        "GB18030",
        "GBK",
        "ISO_8859_5",
        "ISO_8859_6",
        "ISO_8859_7",
        "ISO_8859_8",
        "JOHAB",
        "KOI8R",
        "KOI8U",
        "LATIN1",
        "LATIN2",
        "LATIN3",
        "LATIN4",
        "LATIN5",
        "LATIN6",
        "LATIN7",
        "LATIN8",
        "LATIN9",
        "LATIN10",
        "MULE_INTERNAL",
        "SJIS",
        "SHIFT_JIS_2004",
        "SQL_ASCII",
        "UHC",
        "WIN866",
        "WIN874",
        "WIN1250",
        "WIN1251",
        "WIN1252",
        "WIN1253",
        "WIN1254",
        "WIN1255",
        "WIN1256",
        "WIN1257",
        "WIN1258",
        "UTF16",
        "UTF32",
        "UCS2",
    ];
    ENCODINGS.iter().any(|e| e.eq_ignore_ascii_case(value))
}

/// A port number, 1 to 65535.
pub(crate) fn parse_port(text: &str) -> Option<u16> {
    text.trim().parse::<u16>().ok().filter(|p| *p != 0)
}

/// Each comma-separated item (ports, addresses) must be `ok`; a bad one is quoted when it is
/// made of the characters such items are made of.
fn each(name: &str, value: &str, ok: impl Fn(&str) -> bool) -> Result<()> {
    match value.split(',').find(|item| !ok(item)) {
        None => Ok(()),
        Some(bad) => {
            let harmless = bad.len() <= 60
                && bad
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b" :.%+-".contains(&b));
            bail!(
                "invalid value {} for connection option \"{name}\"",
                shown(bad, harmless)
            )
        }
    }
}

/// The value must be one of `allowed`; a wrong one is quoted when it is a typo of one of them.
fn one_of(name: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        let typo = secrets::near_miss(value, allowed);
        bail!(
            "invalid value {} for connection option \"{name}\" (expected one of {})",
            shown(value, typo.is_some()),
            allowed.join(", ")
        )
    }
}

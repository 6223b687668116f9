//! Reading a connection string: libpq's URL form (`postgres://`, `postgresql://`) and its
//! `key=value` form, into keyword/value pairs in the order given.
//!
//! This module only reads text: it does not consult the environment, apply defaults or open
//! anything. Its errors never quote a password, nor any part of the string that could be one
//! (a word after `password=`, anything before an `@` that may end a password).

use anyhow::{Result, anyhow, bail};

use super::keywords;
use crate::secrets;

/// Which form a connection string was written in; `masked()` answers in the same form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Url { scheme: &'static str },
    KeyValue,
}

/// Keyword/value pairs in the order given, keywords in their canonical spelling.
pub(crate) type Pairs = Vec<(&'static str, String)>;

const SCHEMES: &[&str] = &["postgresql://", "postgres://"];

const ENCODE_HINT: &str = "percent-encode \"@\", \"/\", \":\" and \"?\" in a user name or \
                           password (%40, %2F, %3A, %3F)";

/// Parses either form; a string is a URL when it starts with one of libpq's two schemes.
pub(crate) fn parse(input: &str) -> Result<(Style, Pairs)> {
    for scheme in SCHEMES {
        if let Some(rest) = input.strip_prefix(scheme) {
            return Ok((Style::Url { scheme }, parse_url(rest)?));
        }
    }
    refuse_other_urls(input)?;
    Ok((Style::KeyValue, parse_key_value(input)?))
}

/// A string whose first word has a ":", "/" or "@" before any "=" is a URL, but not one of
/// libpq's (`postgresql+psycopg2://`, `mysql://`, `jdbc:postgresql://`, the typo
/// `postgres//`): refused saying which scheme it has, and never quoted, since such URLs carry
/// their password like ours.
fn refuse_other_urls(input: &str) -> Result<()> {
    let trimmed = input.trim_start();
    let first = trimmed.split_whitespace().next().unwrap_or("");
    match first
        .find(['=', ':', '/', '@'])
        .map(|i| first.as_bytes()[i])
    {
        None | Some(b'=') => return Ok(()),
        Some(_) => {}
    }
    if SCHEMES.iter().any(|scheme| trimmed.starts_with(scheme)) {
        bail!("the connection string has blanks before its postgres:// scheme; remove them");
    }
    let lower = first.to_ascii_lowercase();
    if let Some((scheme, _)) = first.split_once("://").filter(|(s, _)| is_scheme(s)) {
        let scheme_lower = scheme.to_ascii_lowercase();
        if scheme_lower == "postgres" || scheme_lower == "postgresql" {
            bail!(
                "the URL scheme \"{scheme}\" must be written in lower case: postgres:// or postgresql://"
            );
        }
        let hint = if scheme_lower.starts_with("postgres") && scheme.contains('+') {
            "; drop the driver part after \"+\" (a SQLAlchemy URL): postgresql://user:password@host/db"
        } else {
            "; pgstrata connects to PostgreSQL only, with libpq's postgres:// or postgresql:// \
             URLs or key=value strings"
        };
        bail!(
            "unsupported URL scheme \"{scheme}\" in the connection string (the rest is not shown: it may hold a password){hint}"
        );
    }
    if lower.starts_with("jdbc:") {
        bail!(
            "the connection string is a JDBC URL (jdbc:...), which libpq does not read; drop \
             the leading jdbc: (the rest is not shown: it may hold a password)"
        );
    }
    let hint = if lower.starts_with("postgres") {
        " (it starts like one: check the \"://\" after the scheme)"
    } else {
        ""
    };
    bail!(
        "the connection string is neither a postgres:// or postgresql:// URL{hint} nor \
         key=value pairs; it is not shown, since it may hold a password"
    )
}

/// A URL scheme as RFC 3986 spells it, short enough to quote.
fn is_scheme(text: &str) -> bool {
    text.len() <= 40
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
}

/// `key=value` pairs separated by whitespace, as libpq's `conninfo_parse`: spaces around `=`
/// are allowed, a value may be single-quoted, and `\` escapes the next character.
fn parse_key_value(input: &str) -> Result<Pairs> {
    let chars: Vec<char> = input.chars().collect();
    let mut pairs = Vec::new();
    let mut i = 0;
    let mut after_password = false;
    loop {
        skip_whitespace(&chars, &mut i);
        if i >= chars.len() {
            return Ok(pairs);
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        skip_whitespace(&chars, &mut i);
        let keyword = if i < chars.len() && chars[i] == '=' {
            keywords::lookup(&name)
        } else {
            // A bare word is where a stray password lands (`user=ann s3cret`): quoted only
            // when it is (a typo of) a keyword.
            let word = if keywords::near_keyword(&name).is_some() {
                format!("\"{name}\"")
            } else {
                format!("a word that is no connection option {}", secrets::NOT_SHOWN)
            };
            Err(anyhow!(
                "missing \"=\" after {word} in the connection string (expected key=value pairs \
                 like dbname=app, or a postgres:// URL)"
            ))
        };
        let keyword = match keyword {
            Ok(keyword) => keyword,
            // The word may be the rest of a password that contains a space (unless it is a
            // keyword itself, such as the unsupported `service`).
            Err(_) if after_password && keywords::near_keyword(&name) != Some(name.as_str()) => {
                bail!(
                    "the word after password=... is not a key=value pair; quote a password that \
                 contains spaces: password='...'"
                )
            }
            Err(err) => return Err(err),
        };
        i += 1;
        skip_whitespace(&chars, &mut i);
        let value = if chars.get(i) == Some(&'\'') {
            i += 1;
            read_quoted(&chars, &mut i)?
        } else {
            read_unquoted(&chars, &mut i)
        };
        after_password = keyword == "password";
        pairs.push((keyword, value));
    }
}

fn skip_whitespace(chars: &[char], i: &mut usize) {
    while *i < chars.len() && chars[*i].is_whitespace() {
        *i += 1;
    }
}

fn read_quoted(chars: &[char], i: &mut usize) -> Result<String> {
    let mut value = String::new();
    while *i < chars.len() {
        match chars[*i] {
            '\\' if *i + 1 < chars.len() => {
                value.push(chars[*i + 1]);
                *i += 2;
            }
            '\'' => {
                *i += 1;
                return Ok(value);
            }
            c => {
                value.push(c);
                *i += 1;
            }
        }
    }
    bail!(
        "unterminated quoted string in the connection string (a value that opens with ' must close with ')"
    )
}

fn read_unquoted(chars: &[char], i: &mut usize) -> String {
    let mut value = String::new();
    while *i < chars.len() && !chars[*i].is_whitespace() {
        if chars[*i] == '\\' {
            *i += 1;
            if *i >= chars.len() {
                break;
            }
        }
        value.push(chars[*i]);
        *i += 1;
    }
    value
}

/// The part of a URL after its scheme, as libpq's `conninfo_uri_parse_options`:
/// `[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`.
fn parse_url(rest: &str) -> Result<Pairs> {
    let mut pairs = Pairs::new();
    let (userinfo, rest) = split_userinfo(rest);
    if let Some(userinfo) = userinfo {
        read_userinfo(userinfo, &mut pairs)?;
    }
    let may_hold_secret = rest.contains('@');
    let (location, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let (netloc, dbname) = match location.find('/') {
        Some(slash) => (&location[..slash], Some(&location[slash + 1..])),
        None => (location, None),
    };
    if netloc.contains('@') || dbname.is_some_and(|d| d.contains('@')) {
        bail!("the URL has an \"@\" after its user:password part; {ENCODE_HINT}");
    }
    read_netloc(netloc, may_hold_secret, &mut pairs)?;
    if let Some(dbname) = dbname.filter(|d| !d.is_empty()) {
        pairs.push(("dbname", decode(dbname, "database name")?));
    }
    if let Some(query) = query {
        read_query(query, may_hold_secret, &mut pairs)?;
    }
    Ok(pairs)
}

/// libpq ends the user:password part at the first "@" before any "/".
fn split_userinfo(rest: &str) -> (Option<&str>, &str) {
    match rest
        .find(['@', '/'])
        .filter(|&i| rest.as_bytes()[i] == b'@')
    {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    }
}

/// Whether errors about this string must quote nothing from it: a URL with a raw "@" past
/// its user:password part had a password holding "@" or "/", and any part may hold the rest.
pub(crate) fn may_hold_secret(input: &str) -> bool {
    SCHEMES
        .iter()
        .find_map(|scheme| input.strip_prefix(scheme))
        .is_some_and(|rest| split_userinfo(rest).1.contains('@'))
}

fn read_userinfo(userinfo: &str, pairs: &mut Pairs) -> Result<()> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    if !user.is_empty() {
        pairs.push(("user", decode(user, "user name")?));
    }
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        pairs.push(("password", decode(password, "password")?));
    }
    Ok(())
}

/// `host[:port]` items separated by commas; an IPv6 address goes in brackets.
fn read_netloc(netloc: &str, may_hold_secret: bool, pairs: &mut Pairs) -> Result<()> {
    if netloc.is_empty() {
        return Ok(());
    }
    // Only what cannot be a password is quoted: numbers and address characters. Text that is
    // not (`postgres://ann:s3cret/db` has "s3cret" where the port goes) is described.
    let shown = |text: &str, harmless: bool| {
        if may_hold_secret {
            format!("(not shown: it may be part of a password; {ENCODE_HINT})")
        } else if harmless {
            format!("\"{text}\"")
        } else {
            format!(
                "{} (a password goes after the user name: postgres://user:password@host/db)",
                secrets::NOT_SHOWN
            )
        }
    };
    let address = |text: &str| {
        text.len() <= 60
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b":.%".contains(&b))
    };
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for item in netloc.split(',') {
        let (host, port) = if let Some(bracketed) = item.strip_prefix('[') {
            let Some((host, after)) = bracketed.split_once(']') else {
                bail!(
                    "missing \"]\" after an IPv6 address in the URL {}",
                    shown(item, address(bracketed))
                );
            };
            match after {
                "" => (host, ""),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, port),
                    None => bail!(
                        "unexpected text after an IPv6 address in the URL {}",
                        shown(after, address(after))
                    ),
                },
            }
        } else {
            item.split_once(':').unwrap_or((item, ""))
        };
        let port = decode(port, "port")?;
        if !port.is_empty() && keywords::parse_port(&port).is_none() {
            bail!(
                "invalid port {} in the URL",
                shown(&port, secrets::looks_like_number(&port))
            );
        }
        hosts.push(decode(host, "host name")?);
        ports.push(port);
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        pairs.push(("host", hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        pairs.push(("port", ports.join(",")));
    }
    Ok(())
}

fn read_query(query: &str, may_hold_secret: bool, pairs: &mut Pairs) -> Result<()> {
    // Parameter names are quoted when they look like one; values never are (keywords
    // quotes the harmless ones when it refuses them).
    let shown = |text: &str| {
        if may_hold_secret {
            format!("(not shown: it may be part of a password; {ENCODE_HINT})")
        } else {
            secrets::quoted_if(text, secrets::looks_like_option_name(text))
        }
    };
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let Some((key, value)) = param.split_once('=') else {
            bail!("missing \"=\" in the URL query parameter {}", shown(param));
        };
        let key = decode(key, "query parameter name")?;
        if value.contains('=') {
            bail!(
                "extra \"=\" in the value of the URL query parameter {}",
                shown(&key)
            );
        }
        let value = decode(value, "query parameter value")?;
        // libpq accepts JDBC's ssl=true as sslmode=require.
        if key == "ssl" && value == "true" {
            pairs.push(("sslmode", "require".to_string()));
            continue;
        }
        let keyword = match keywords::lookup(&key) {
            Ok(keyword) => keyword,
            Err(_) if may_hold_secret => bail!("invalid URL query parameter {}", shown(&key)),
            Err(err) if secrets::looks_like_option_name(&key) => {
                bail!("invalid URL query parameter \"{key}\": {err}")
            }
            Err(err) => bail!("invalid URL query parameter: {err}"),
        };
        pairs.push((keyword, value));
    }
    Ok(())
}

/// Percent-decoding as libpq's `conninfo_uri_decode`: `%XX` only (`+` stays `+`), no `%00`.
/// Errors name the part, never its text.
pub(crate) fn decode(text: &str, part: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(0) => bail!("the URL's {part} contains %00, which is not allowed"),
            Some(byte) => out.push(byte),
            None => bail!(
                "invalid percent-encoding in the URL's {part} (a \"%\" must be followed by two \
                 hex digits; write a literal \"%\" as %25)"
            ),
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| anyhow!("the URL's {part} does not decode to valid UTF-8"))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

//! Database plumbing shared by every command: opening a connection, quoting identifiers, and
//! telling a lost connection from an error in a statement.
//!
//! `quote_ident` is the one way a name reaches SQL text; values travel as `$n` parameters,
//! or through `quote_literal` in the few multi-statement batches that cannot carry them.
//! Nothing here knows about migrations.

use anyhow::Result;
use postgres::Client;

use crate::conninfo::ConnInfo;

/// Opens a connection described by a libpq-style connection string (URL or `key=value`).
/// The error names the target with its password masked.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn connect(conninfo: &str) -> Result<Client> {
    let info = ConnInfo::parse(conninfo)?;
    info.connect()
}

/// A connection the server ended or that broke, found in an error's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostConnection {
    /// The server's reason (`FATAL 57P01: terminating connection due to administrator
    /// command`), when it sent one before closing.
    pub reason: Option<String>,
}

/// Whether `err` says the connection is gone (the server ended the session, or the socket
/// broke), rather than that a statement failed on a working connection. A statement error is
/// a finding for `check`; a lost connection is not: nothing after it can be trusted.
pub fn connection_lost(err: &anyhow::Error) -> Option<LostConnection> {
    let fatal = |severity: &str| matches!(severity, "FATAL" | "PANIC");
    for cause in err.chain() {
        if let Some(source) = cause.downcast_ref::<crate::source_error::SourceError>()
            && fatal(&source.severity)
        {
            let reason = format!("{} {}: {}", source.severity, source.code, source.message);
            return Some(LostConnection {
                reason: Some(reason),
            });
        }
        if let Some(pg) = cause.downcast_ref::<postgres::Error>() {
            if let Some(db) = pg.as_db_error() {
                let reason = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
                return fatal(db.severity()).then_some(LostConnection {
                    reason: Some(reason),
                });
            }
            // The driver's kinds are private; its I/O kind (a socket that broke after the
            // connection was made) displays as this, unlike a failure to connect at all.
            let broken = pg.is_closed() || pg.to_string() == "error communicating with the server";
            return broken.then_some(LostConnection { reason: None });
        }
    }
    None
}

/// Quotes an identifier the way PostgreSQL's `quote_ident` does, always: `a"b` -> `"a""b"`.
/// Quoting every name keeps case and reserved words exactly as given.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Quotes a string literal: `it's` -> `'it''s'`. Backslashes stay as they are, which is
/// right where `standard_conforming_strings` is on: pgstrata refuses sessions where it is not
/// (see `migrate::session`). Values travel as `$n` parameters wherever the protocol allows; this is for
/// the few statements sent in a multi-statement batch, which cannot carry parameters.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Fills a SQL template's `{schema}` placeholders with the history schema's name, through
/// [`quote_ident`].
pub fn with_schema(template: &str, schema: &str) -> String {
    template.replace("{schema}", &quote_ident(schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_doubles_quotes_and_keeps_case() {
        assert_eq!(quote_ident("simple"), "\"simple\"");
        assert_eq!(quote_ident("MixedCase"), "\"MixedCase\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(""), "\"\"");
    }

    #[test]
    fn with_schema_quotes_every_placeholder() {
        assert_eq!(
            with_schema(
                "CREATE SCHEMA {schema}; SELECT 1 FROM {schema}.t",
                "we\"ird"
            ),
            "CREATE SCHEMA \"we\"\"ird\"; SELECT 1 FROM \"we\"\"ird\".t"
        );
    }
}

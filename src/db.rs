//! Database plumbing shared by every command: opening a connection and quoting identifiers.
//!
//! `quote_ident` is the one way a name reaches SQL text; values travel as `$n` parameters,
//! or through `quote_literal` in the few multi-statement batches that cannot carry them.
//! Nothing here knows about migrations.

use anyhow::Result;
use postgres::Client;

use crate::conninfo::ConnInfo;

/// Opens a connection described by a libpq-style connection string (URL or `key=value`).
/// The error names the target with its password masked.
pub fn connect(conninfo: &str) -> Result<Client> {
    let info = ConnInfo::parse(conninfo)?;
    info.connect()
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
/// (see `session`). Values travel as `$n` parameters wherever the protocol allows; this is for
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

//! Connection parameters: parsing a libpq-style connection string and masking its password.
//!
//! This module turns user input into a `postgres::Config` and opens the connection. It never
//! prints; anything it returns for display has the password masked.

use std::str::FromStr;

use anyhow::{Context, Result};
use postgres::{Client, NoTls};

/// A parsed connection string, kept with its masked display form.
#[derive(Clone)]
pub struct ConnInfo {
    config: postgres::Config,
    display: String,
}

impl ConnInfo {
    /// Parses a URL (`postgres://user:pw@host/db`) or `key=value` connection string.
    pub fn parse(conninfo: &str) -> Result<Self> {
        let display = mask_password(conninfo);
        let mut config = postgres::Config::from_str(conninfo)
            .with_context(|| format!("parsing connection string {display}"))?;
        if config.get_application_name().is_none() {
            config.application_name("pgstrata");
        }
        Ok(ConnInfo { config, display })
    }

    /// The connection string with its password replaced by `***`, safe to print.
    pub fn masked(&self) -> &str {
        &self.display
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<Client> {
        self.config
            .connect(NoTls)
            .with_context(|| format!("connecting to {}", self.display))
    }
}

/// Replaces the password in a URL (`user:pw@`) or `password=` pair with `***`.
pub fn mask_password(conninfo: &str) -> String {
    if let Some(scheme_end) = conninfo.find("://") {
        let rest = &conninfo[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                return format!(
                    "{}{}:***{}",
                    &conninfo[..scheme_end + 3],
                    &rest[..colon],
                    &rest[at..]
                );
            }
        }
        return conninfo.to_string();
    }
    let mut out = Vec::new();
    for pair in conninfo.split_whitespace() {
        match pair.split_once('=') {
            Some((key, _)) if key.trim() == "password" => out.push(format!("{key}=***")),
            _ => out.push(pair.to_string()),
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_password_hides_url_and_keyword_passwords() {
        assert_eq!(
            mask_password("postgres://ann:s3cret@db.example:5432/app?sslmode=require"),
            "postgres://ann:***@db.example:5432/app?sslmode=require"
        );
        assert_eq!(
            mask_password("host=/tmp user=ann password=s3cret dbname=app"),
            "host=/tmp user=ann password=*** dbname=app"
        );
        assert_eq!(
            mask_password("postgres://ann@db/app"),
            "postgres://ann@db/app"
        );
    }
}

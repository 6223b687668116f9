//! The file `--targets FILE` names: the databases of a fleet, in the order they are worked on.
//!
//! Two forms. Plain text: one connection string (URL or key=value) per line; blank lines and
//! lines starting with `#` are skipped. TOML (a `.toml` file): `[[target]]` tables with `url`
//! (or `database_url`, as in pgstrata.toml) and optionally `name` and `history_schema`. A line
//! of either may hold a password, so this module never quotes one back: errors give the file
//! and line, and a target without a name is shown as its connection string with the password
//! masked. Pure: it reads text and returns targets; it neither connects nor prints.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::conninfo::{ConnInfo, mask_password};
use crate::files;

/// One database of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// How every line and report names it: the TOML `name`, else the connection string as
    /// written with its password masked.
    pub name: String,
    /// The connection string as written. May hold a password: never shown.
    pub conninfo: String,
    /// The TOML `history_schema`: this target's own (one schema per tenant, each with its own
    /// history and lock), over the run's `--history-schema`.
    pub history_schema: Option<String>,
}

/// Reads and checks the targets file: every entry a connection string that parses, names
/// unique, at least one target.
pub fn read(path: &Path) -> Result<Vec<Target>> {
    let shown = path.display();
    let text = files::read_regular_text(path, files::MAX_SETTINGS_BYTES)
        .with_context(|| format!("reading the targets file {shown}"))?;
    let toml = path.extension().is_some_and(|e| e == "toml");
    let targets = if toml {
        parse_toml(&text)
    } else {
        parse_lines(&text)
    }
    .with_context(|| format!("reading the targets file {shown}"))?;
    if targets.is_empty() {
        bail!(
            "the targets file {shown} lists no database: give one connection string per line \
             (or [[target]] tables with url in a .toml file)"
        );
    }
    Ok(targets)
}

/// One connection string per line.
pub fn parse_lines(text: &str) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        targets.push(target(line, None, None, &format!("line {}", index + 1))?);
    }
    unique(targets)
}

/// `[[target]]` tables.
pub fn parse_toml(text: &str) -> Result<Vec<Target>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        target: Vec<Entry>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        name: Option<String>,
        // `database_url` as in pgstrata.toml.
        #[serde(alias = "database_url")]
        url: String,
        history_schema: Option<String>,
    }
    const KEYS: &[&str] = &["target", "name", "url", "database_url", "history_schema"];
    let file: File = toml::from_str(text).map_err(|err| {
        // toml's message may quote a line, and a line may hold a password.
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = crate::config::sanitize_message(err.message(), KEYS);
        match line {
            Some(line) => anyhow::anyhow!("line {line}: {message}"),
            None => anyhow::anyhow!("{message}"),
        }
    })?;
    let mut targets = Vec::new();
    for (index, entry) in file.target.into_iter().enumerate() {
        let place = format!("[[target]] number {}", index + 1);
        if let Some(name) = &entry.name
            && (name.trim().is_empty() || name.chars().any(char::is_control))
        {
            bail!("{place}: name must be printable text, not empty");
        }
        if let Some(schema) = &entry.history_schema
            && !crate::migrate::project::is_name(schema)
        {
            bail!("{place}: history_schema is not a schema name; use letters, digits and _");
        }
        targets.push(target(
            &entry.url,
            entry.name,
            entry.history_schema,
            &place,
        )?);
    }
    unique(targets)
}

fn target(
    conninfo: &str,
    name: Option<String>,
    history_schema: Option<String>,
    place: &str,
) -> Result<Target> {
    if conninfo.trim().is_empty() {
        bail!("{place}: the connection string is empty");
    }
    // Checked as written, without the environment: what libpq adds (PG* variables, the
    // password file) is added by each target's own run. The error never quotes a password.
    ConnInfo::parse(conninfo).with_context(|| format!("{place}: not a connection string"))?;
    Ok(Target {
        name: name.unwrap_or_else(|| mask_password(conninfo)),
        conninfo: conninfo.to_string(),
        history_schema,
    })
}

/// Refuses a name given twice: its lines and reports could not be told apart (and the same
/// database twice in one run is a mistake).
fn unique(targets: Vec<Target>) -> Result<Vec<Target>> {
    let mut seen = BTreeSet::new();
    for target in &targets {
        if !seen.insert(target.name.as_str()) {
            bail!(
                "{} is listed twice; list each database once (in a .toml file, give each \
                 [[target]] its own name)",
                crate::shown::escape(&target.name)
            );
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_comments_and_mask_passwords() {
        let text =
            "# the fleet\n\npostgres://app:s3cr3t@db1/app\n  host=db2 dbname=app password=pw2  \n";
        let targets = parse_lines(text).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].name, "postgres://app:***@db1/app");
        assert_eq!(targets[0].conninfo, "postgres://app:s3cr3t@db1/app");
        assert_eq!(targets[1].name, "host=db2 dbname=app password=***");
        assert!(targets.iter().all(|t| !t.name.contains("s3cr3t")));
    }

    #[test]
    fn a_bad_line_is_named_by_number_and_not_quoted() {
        let err = parse_lines("host=a\nhost=b port=s3cr3t\n").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.starts_with("line 2: "), "{message}");
        let err = parse_lines("host=a\nhost=a\n").unwrap_err();
        assert!(format!("{err:#}").contains("listed twice"));
    }

    #[test]
    fn toml_tables_carry_names_and_history_schemas() {
        let text = "[[target]]\nname = \"eu\"\nurl = \"postgres://u:pw@eu/app\"\n\n\
                    [[target]]\nurl = \"host=us dbname=app\"\nhistory_schema = \"tenant_7\"\n";
        let targets = parse_toml(text).unwrap();
        assert_eq!(targets[0].name, "eu");
        assert_eq!(targets[1].name, "host=us dbname=app");
        assert_eq!(targets[1].history_schema.as_deref(), Some("tenant_7"));
        let err = parse_toml("[[target]]\nurl = \"postgres://u:s3cr3t@h/db\"\nnmae = \"x\"\n")
            .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("line 3"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        let err = parse_toml("[[target]]\nname = \"a\"\nurl = \"host=a\"\n[[target]]\nname = \"a\"\nurl = \"host=b\"\n")
            .unwrap_err();
        assert!(format!("{err:#}").contains("listed twice"));
    }
}

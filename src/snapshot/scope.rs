//! Refusing snapshot settings that would make `check`, `drift` and `snapshot` blind: a
//! comparison of two empty texts always passes, so a scope that covers nothing must be an
//! error, not a green run.
//!
//! [`refuse_blind_spots`] judges the settings alone (no database): `schemas = []`, a system
//! schema listed, the history schema listed or, when every schema is covered, `public` as the
//! history schema. [`refuse_blind_spots_in`] adds what only the database knows: a listed
//! schema that does not exist, and objects that are not pgstrata's in the history schema
//! (which snapshots leave out). `check` calls the second after applying its migrations, so
//! that schemas the migrations create count. Nothing here prints or changes the database.

use anyhow::{Context, Result, bail};
use postgres::Client;
use postgres::types::Type;

use super::SnapshotOptions;

/// What the settings alone show to be blind; see the module documentation.
pub fn refuse_blind_spots(options: &SnapshotOptions) -> Result<()> {
    let history = options
        .exclude_schemas
        .first()
        .map_or("pgstrata", String::as_str);
    let Some(include) = &options.include_schemas else {
        if options.exclude_schemas.iter().any(|s| s == "public") {
            bail!(
                "the history schema is public, and snapshots leave the history schema out: \
                 check and drift would not see anything in public; give pgstrata's tables a \
                 schema of their own (--history-schema NAME or history_schema in pgstrata.toml; \
                 the default is pgstrata)"
            );
        }
        return Ok(());
    };
    if include.is_empty() {
        bail!(
            "schemas = [] in pgstrata.toml covers no schema, so check and drift would compare \
             empty snapshots and see nothing; list the schemas to cover, or remove the key to \
             cover every schema but the system ones and {history}"
        );
    }
    if let Some(system) = include.iter().find(|s| is_system(s)) {
        bail!(
            "schemas in pgstrata.toml lists {system}, a system schema that snapshots always \
             leave out; remove it from the list"
        );
    }
    if let Some(both) = include.iter().find(|s| options.exclude_schemas.contains(s)) {
        bail!(
            "schemas in pgstrata.toml lists {both}, which is also pgstrata's history schema; \
             snapshots leave the history schema out, so check and drift would see nothing in \
             it: give pgstrata's tables a schema of their own (history_schema in pgstrata.toml \
             or --history-schema NAME)"
        );
    }
    Ok(())
}

/// [`refuse_blind_spots`], then what the database shows: listed schemas that do not exist,
/// and objects that are not pgstrata's in the history schema.
pub fn refuse_blind_spots_in(client: &mut Client, options: &SnapshotOptions) -> Result<()> {
    refuse_blind_spots(options)?;
    if let Some(include) = &options.include_schemas {
        let missing: Vec<String> = client
            .query_typed(
                include_str!("queries/scope_missing.sql"),
                &[(include, Type::TEXT_ARRAY)],
            )
            .context("looking up the schemas listed in pgstrata.toml")?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if !missing.is_empty() {
            bail!(
                "schemas in pgstrata.toml lists {}, which {} not exist in the database, so a \
                 snapshot would see nothing of {}; fix the name or remove it from the list",
                missing.join(", "),
                if missing.len() == 1 { "does" } else { "do" },
                if missing.len() == 1 { "it" } else { "them" }
            );
        }
        // Only listed schemas are covered: what else is in the history schema is not ours to
        // judge.
        return Ok(());
    }
    let own: Vec<&str> = crate::migrate::history::TABLES.to_vec();
    for history in &options.exclude_schemas {
        let strangers: Vec<String> = client
            .query_typed(
                include_str!("queries/scope_strangers.sql"),
                &[(history, Type::TEXT), (&own, Type::TEXT_ARRAY)],
            )
            .with_context(|| format!("looking at the history schema {history}"))?
            .iter()
            .map(|row| {
                format!(
                    "{} {history}.{}",
                    row.get::<_, String>(0),
                    row.get::<_, String>(1)
                )
            })
            .collect();
        if !strangers.is_empty() {
            bail!(
                "the history schema {history} also holds objects that are not pgstrata's ({}{}); \
                 snapshots leave the history schema out, so check and drift would not see them: \
                 give pgstrata's tables a schema of their own (--history-schema NAME or \
                 history_schema in pgstrata.toml)",
                strangers
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if strangers.len() > 5 { ", ..." } else { "" }
            );
        }
    }
    Ok(())
}

/// The schemas snapshots always leave out.
pub(crate) fn is_system(schema: &str) -> bool {
    schema == "pg_catalog"
        || schema == "information_schema"
        || schema.starts_with("pg_toast")
        || schema.starts_with("pg_temp_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(history: &str, include: Option<&[&str]>) -> SnapshotOptions {
        SnapshotOptions {
            exclude_schemas: vec![history.to_string()],
            include_schemas: include.map(|list| list.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn settings_that_cover_nothing_are_refused() {
        for (options, expected) in [
            (
                options("pgstrata", Some(&[])),
                "schemas = [] in pgstrata.toml covers no schema",
            ),
            (options("public", None), "the history schema is public"),
            (
                options("app", Some(&["app", "x"])),
                "lists app, which is also pgstrata's history",
            ),
            (
                options("pgstrata", Some(&["pg_catalog"])),
                "lists pg_catalog, a system schema",
            ),
        ] {
            let err = refuse_blind_spots(&options).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        for fine in [
            options("pgstrata", None),
            options("public", Some(&["app"])),
            options("pgstrata", Some(&["public", "app"])),
        ] {
            refuse_blind_spots(&fine).unwrap();
        }
    }
}

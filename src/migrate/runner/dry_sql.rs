//! What a dry run shows of each step: the SQL pgstrata would send for it, its own statements
//! (the session reset, the history row, the file's limits) included, headed by the directives
//! in force. Built from the same pieces the real run sends (see `apply_in_transaction`,
//! `run_in_one_trip`, `no_transaction::run`, `roll_back_in_transaction`), never run.

use std::time::Duration;

use anyhow::Result;

use super::{Direction, Runner};
use crate::db::quote_ident;
use crate::migrate::execute::{FileLimits, one_trip_sql, open_transaction_sql, set_sql};
use crate::migrate::history::RunState;
use crate::migrate::project::{Migration, SqlFile};
use crate::migrate::views::{ViewAction, ViewChange};

impl Runner<'_> {
    /// The SQL the step `direction` of `migration` would send, headed by its directives.
    /// `out_of_order`: an up step applied after a newer migration (recorded so).
    pub(super) fn step_sql(
        &self,
        migration: &Migration,
        direction: Direction,
        out_of_order: bool,
    ) -> Result<String> {
        let file = match direction {
            Direction::Up => &migration.up,
            Direction::Down => &migration.down,
        };
        let limits = FileLimits::of(&self.options.limits, file);
        let reset = self.reset_sql()?;
        let mut sql = directives(file, &limits);
        if file.no_transaction {
            let (before, after) = match direction {
                Direction::Up => (
                    literal(
                        &self
                            .history
                            .sql(include_str!("../queries/history_insert.sql")),
                        &[
                            migration.version.to_string(),
                            quote_literal(&migration.name),
                            quote_literal(&migration.up.checksum),
                            quote_literal(&migration.down.checksum),
                            "0".to_string(),
                            quote_literal(RunState::Running.as_str()),
                            out_of_order.to_string(),
                        ],
                    ),
                    literal(
                        &self
                            .history
                            .sql(include_str!("../queries/history_set_state.sql")),
                        &[
                            migration.version.to_string(),
                            quote_literal(RunState::Applied.as_str()),
                            "<ms>".to_string(),
                        ],
                    ),
                ),
                Direction::Down => (
                    format!(
                        "BEGIN;\n{};\nCOMMIT;",
                        literal(
                            &self
                                .history
                                .sql(include_str!("../queries/history_set_state.sql")),
                            &[
                                migration.version.to_string(),
                                quote_literal(RunState::Reverting.as_str()),
                                "NULL".to_string(),
                            ],
                        )
                    ),
                    literal(
                        &self
                            .history
                            .sql(include_str!("../queries/history_delete.sql")),
                        &[migration.version.to_string()],
                    ),
                ),
            };
            sql.push_str(before.trim_end_matches(';'));
            sql.push_str(";\n");
            sql.push_str(&statement_by_statement(file, &limits));
            sql.push_str(&reset);
            sql.push_str(&after);
            sql.push_str(";\n");
        } else {
            let row = match direction {
                Direction::Up => self.history.record_statement(migration, out_of_order)?,
                Direction::Down => self.history.forget_statement(migration.version),
            };
            let own = limits.set_local();
            if direction == Direction::Down {
                for view in &self.project.views {
                    if !view.requires.contains(&migration.version) {
                        continue;
                    }
                    if let Some(def) = &view.definition {
                        sql.push_str(&format!(
                            "-- managed view {} requires V{}: dropped here, before the rollback\n",
                            def.view, migration.version
                        ));
                    }
                }
            }
            let epilogue = format!("{reset}{own}{};\n", strip_comments(&row));
            if self.report.single_transaction {
                // One transaction for the run: opened before the first file, committed after
                // the view rebuild (see `single`).
                if self.report.steps.is_empty() {
                    sql.push_str("BEGIN;\n");
                }
                sql.push_str(&open_transaction_sql(file, &limits, &epilogue));
            } else {
                sql.push_str(&one_trip_sql(file, &limits, &epilogue));
                sql.push('\n');
            }
        }
        Ok(sql)
    }

    /// The SQL of one planned view change, and the rebuild's whole transaction.
    pub(super) fn view_sql(&self, changes: &[ViewChange]) -> (Vec<String>, String) {
        let each: Vec<String> = changes.iter().map(|c| self.one_view_sql(c)).collect();
        // In one transaction for the whole run, the rebuild is its end.
        let mut whole = if self.report.single_transaction {
            String::new()
        } else {
            String::from("BEGIN;\n")
        };
        if changes.is_empty() {
            whole.push_str("-- no view changes\nCOMMIT;\n");
            return (each, whole);
        }
        for sql in &each {
            whole.push_str(sql);
            if !sql.ends_with('\n') {
                whole.push('\n');
            }
        }
        whole.push_str(&format!(
            "-- and each change recorded in {}\nCOMMIT;\n",
            self.history.sql("{schema}.views")
        ));
        (each, whole)
    }

    fn one_view_sql(&self, change: &ViewChange) -> String {
        let view = self
            .project
            .views
            .iter()
            .find(|v| v.file.path == change.file);
        let materialized = view
            .and_then(|v| v.definition.as_ref())
            .is_some_and(|d| d.materialized);
        let drop = format!(
            "DROP {}VIEW {};\n",
            if materialized { "MATERIALIZED " } else { "" },
            quoted_name(&change.view)
        );
        let file_sql = view.map(|v| {
            let mut sql = v.file.sql.trim_end().to_string();
            if !sql.ends_with(';') {
                sql.push(';');
            }
            sql.push('\n');
            sql
        });
        match change.action {
            ViewAction::Dropped => drop,
            ViewAction::Created | ViewAction::Replaced => file_sql.unwrap_or_default(),
            ViewAction::Recreated => format!("{drop}{}", file_sql.unwrap_or_default()),
            ViewAction::Renamed => format!(
                "-- {} is unchanged; only the file that defines it was renamed\n",
                change.view
            ),
        }
    }
}

/// `-- no-transaction` and the limits in force, as comment lines.
fn directives(file: &SqlFile, limits: &FileLimits) -> String {
    let mut head = String::new();
    if file.no_transaction {
        head.push_str("-- no-transaction: each statement runs and commits on its own\n");
    }
    head.push_str(&format!(
        "-- lock_timeout {}, statement_timeout {}\n",
        duration(limits.lock_timeout),
        duration(limits.statement_timeout)
    ));
    head
}

/// A no-transaction file as `no_transaction::run` sends it: each statement alone, the limits
/// set again whenever the lock timeout in force changes.
fn statement_by_statement(file: &SqlFile, limits: &FileLimits) -> String {
    let mut sql = String::new();
    let mut in_force: Option<Duration> = None;
    for statement in &file.statements {
        let lock_timeout = limits.lock_timeout_for(statement);
        if in_force != Some(lock_timeout) {
            sql.push_str(&set_sql(lock_timeout, limits.statement_timeout, "SET"));
            in_force = Some(lock_timeout);
        }
        let text = statement.text(&file.sql).trim_end();
        sql.push_str(text);
        if !text.ends_with(';') {
            sql.push(';');
        }
        sql.push('\n');
        if statement.class.resets_limits {
            in_force = None;
        }
    }
    sql
}

fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0".to_string(),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// A parameterised query with `$1…` replaced by `values` (already SQL literals).
fn literal(template: &str, values: &[String]) -> String {
    let template = template.trim_end();
    let mut sql = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        sql.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - at - 1);
        let number = &rest[at + 1..at + 1 + digits];
        match number
            .parse::<usize>()
            .ok()
            .and_then(|n| values.get(n.wrapping_sub(1)))
        {
            Some(value) => sql.push_str(value),
            None => sql.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    sql.push_str(rest);
    sql
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A statement without its leading comment lines (those of pgstrata's query files).
fn strip_comments(sql: &str) -> String {
    sql.lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .trim_end_matches(';')
        .to_string()
}

/// `schema.name` (as a `ViewChange` names it) with both parts quoted.
fn quoted_name(view: &str) -> String {
    match view.split_once('.') {
        Some((schema, name)) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(view),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_settings() {
        assert_eq!(duration(Duration::ZERO), "0");
        assert_eq!(duration(Duration::from_secs(2)), "2s");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn parameters_become_literals() {
        assert_eq!(
            literal("VALUES ($1, $2, $10)", &["1".into(), "'a'".into()]),
            "VALUES (1, 'a', $10)"
        );
        assert_eq!(quote_literal("o'k"), "'o''k'");
        assert_eq!(quoted_name("public.v"), "\"public\".\"v\"");
    }
}

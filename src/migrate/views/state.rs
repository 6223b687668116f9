//! What the database holds about managed views, read without panicking: the session's current
//! schema and search path, and the views pgstrata recorded in `<schema>.views` with whether
//! each still exists (queries/views_state.sql). A no-op `up` reads it in one cheap query; every
//! other reader also checks that each recorded view is still a view.

use anyhow::{Context, Result};
use postgres::GenericClient;
use postgres::error::SqlState;

use super::Recorded;
use super::plan::ViewName;
use crate::migrate::history::History;

/// The session's current schema and the recorded views, in one query.
pub struct State {
    pub(super) current_schema: Option<String>,
    /// The schemas of search_path that exist, in order.
    pub(super) search_path: Vec<String>,
    pub(super) recorded: Vec<Recorded>,
}

impl State {
    pub(super) fn current_schema(&self) -> Result<&str> {
        self.current_schema.as_deref().context(
            "the search_path names no existing schema, so unqualified views have nowhere to go; \
             fix search_path or qualify the view's name in its file (CREATE VIEW app.v …)",
        )
    }
}

/// The recorded views, exactly: a recorded view whose name a table (or anything else than a
/// view) took is not present.
pub fn read_state(client: &mut impl GenericClient, history: &History) -> Result<State> {
    let mut state = read_state_quick(client, history)?;
    if state.recorded.iter().any(|r| r.present) {
        let rows = client
            .query_typed(
                &history.sql(include_str!("../queries/views_not_views.sql")),
                &[],
            )
            .context("checking that the managed views are views")?;
        for row in rows {
            let name = ViewName {
                schema: row.try_get(0)?,
                name: row.try_get(1)?,
            };
            for r in state.recorded.iter_mut().filter(|r| r.name == name) {
                r.present = false;
            }
        }
    }
    Ok(state)
}

/// The recorded views in one cheap query, for a no-op `up`: `present` says a relation of that
/// name exists, whatever its kind (a full run reads them exactly, and would say so).
pub fn read_state_quick(client: &mut impl GenericClient, history: &History) -> Result<State> {
    let rows = match client.query_typed(
        &history.sql(include_str!("../queries/views_state.sql")),
        &[],
    ) {
        Ok(rows) => rows,
        Err(err)
            if err.code() == Some(&SqlState::UNDEFINED_TABLE)
                || err.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            // No history yet (a dry run on a fresh database): nothing recorded.
            let row = client
                .query_typed_one(
                    "SELECT current_schema()::text, current_schemas(false)::text[]",
                    &[],
                )
                .context("reading the current schema")?;
            return Ok(State {
                current_schema: row.get(0),
                search_path: row.get(1),
                recorded: Vec::new(),
            });
        }
        Err(err) => {
            return Err(err).with_context(|| {
                format!(
                    "reading the managed views from {}.views (if another tool made that table, \
                     give pgstrata a schema of its own with --history-schema)",
                    history.schema()
                )
            });
        }
    };
    let mut recorded = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let cell = |column: usize| ViewCell {
            row,
            index,
            column,
            history,
        };
        let Some(file) = cell(2).get::<Option<String>>()? else {
            continue;
        };
        recorded.push(Recorded {
            file,
            name: ViewName {
                schema: cell(3).get()?,
                name: cell(4).get()?,
            },
            checksum: cell(5).get()?,
            present: cell(6).get()?,
        });
    }
    recorded.sort_by(|a, b| a.file.cmp(&b.file));
    let (current_schema, search_path) = match rows.first() {
        Some(row) => {
            let cell = |column: usize| ViewCell {
                row,
                index: 0,
                column,
                history,
            };
            (cell(0).get()?, cell(1).get()?)
        }
        None => (None, Vec::new()),
    };
    Ok(State {
        current_schema,
        search_path,
        recorded,
    })
}

/// One value of a row of queries/views_state.sql, read without panicking: a NULL or a value of
/// another type (a table changed by hand, or made by another tool) is an error naming the
/// table, the row and the column, never a guess.
struct ViewCell<'r> {
    row: &'r postgres::Row,
    index: usize,
    column: usize,
    history: &'r History,
}

impl<'r> ViewCell<'r> {
    fn get<T: postgres::types::FromSql<'r>>(&self) -> Result<T> {
        const COLUMNS: &[&str] = &[
            "current_schema()",
            "current_schemas(false)",
            "file",
            "schema_name",
            "view_name",
            "checksum",
            "present",
        ];
        self.row.try_get(self.column).map_err(|err| {
            let file = self
                .row
                .try_get::<_, String>(2)
                .map_or(String::new(), |f| format!(" (file {f})"));
            anyhow::anyhow!(
                "{}.views cannot be read: row {}{file}: column {}: {err}; the table was changed \
                 by hand or made by another tool: restore it, or give pgstrata a schema of its \
                 own with --history-schema",
                self.history.schema(),
                self.index + 1,
                COLUMNS[self.column]
            )
        })
    }
}

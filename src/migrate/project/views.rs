//! What a view file may hold, checked when the project is parsed: exactly one view or
//! materialized view, defined in the file, and statements about that view alone (`COMMENT ON`,
//! `GRANT`/`REVOKE`, `CREATE INDEX` on a materialized view, `ALTER VIEW`). Anything else (a
//! `DELETE`, a `DROP TABLE`, a second definition) would run on every rebuild, so it is a load
//! error at its file:line:col. Two files defining the same view are an error naming both.

use std::collections::BTreeMap;

use super::View;
use super::runnable::unrunnable;
use crate::sql::{self, Definition, RelationName, ViewRole};

/// Fills in each view's definition from its parsed statements, and reports what is wrong.
pub(super) fn define(views: &mut [View], problems: &mut Vec<String>) {
    for view in views.iter_mut() {
        view.definition = definition(view, problems);
    }
    let mut seen: BTreeMap<&RelationName, &str> = BTreeMap::new();
    for view in views.iter() {
        let Some(def) = &view.definition else {
            continue;
        };
        if let Some(first) = seen.insert(&def.view, &view.file.path) {
            problems.push(format!(
                "{}: defines the view {}, which {first} defines too; a view is managed by one \
                 file: delete one of them (renaming a file is fine: the view stays)",
                view.file.path, def.view
            ));
        }
    }
}

/// The one definition in `view`'s file, when the file holds nothing else than statements
/// about it.
fn definition(view: &View, problems: &mut Vec<String>) -> Option<Definition> {
    let file = &view.file;
    let at = |offset: usize| {
        let (line, col) = sql::text::line_col(&file.sql, offset);
        format!("{}:{line}:{col}", file.path)
    };
    let excerpt = |offset: usize| sql::text::excerpt(&file.sql, offset);
    let mut found: Option<Definition> = None;
    let before = problems.len();
    for statement in &file.statements {
        let head = statement.head(&file.sql);
        match &statement.class.view {
            ViewRole::Defines(_) if found.is_some() => problems.push(format!(
                "{}: `{head}` defines a second view; a view file defines exactly one view or \
                 materialized view: move it to a file of its own\n{}",
                at(statement.start),
                excerpt(statement.start)
            )),
            ViewRole::Defines(def) if def.temporary => problems.push(format!(
                "{}: `{head}` defines a temporary view, which would be gone when pgstrata's \
                 session ends; remove TEMP\n{}",
                at(statement.start),
                excerpt(statement.start)
            )),
            ViewRole::Defines(def) => found = Some(def.clone()),
            ViewRole::About(target) | ViewRole::Indexes(target) => match &found {
                Some(def) if target != &def.view => problems.push(format!(
                    "{}: `{head}` is about {target}, but this file manages the view {}; a view \
                     file holds only its view's definition and statements about that view \
                     (COMMENT ON, GRANT, REVOKE, CREATE INDEX, ALTER VIEW), naming it as its \
                     CREATE does (an unqualified name could find another relation)\n{}",
                    at(statement.start),
                    def.view,
                    excerpt(statement.start)
                )),
                Some(def)
                    if matches!(statement.class.view, ViewRole::Indexes(_))
                        && !def.materialized =>
                {
                    problems.push(format!(
                        "{}: `{head}` indexes {target}, which is a view, not a materialized \
                         view; only a materialized view has indexes\n{}",
                        at(statement.start),
                        excerpt(statement.start)
                    ))
                }
                Some(_) => {}
                None => problems.push(format!(
                    "{}: `{head}` comes before the view's definition; put the CREATE VIEW (or \
                     CREATE MATERIALIZED VIEW) first\n{}",
                    at(statement.start),
                    excerpt(statement.start)
                )),
            },
            // Refused already, with a more precise reason (see `runnable`).
            ViewRole::Other if unrunnable(statement, file, "views").is_some() => {}
            ViewRole::Other => problems.push(format!(
                "{}: `{head}` is not allowed in a view file: it would run on every rebuild of \
                 the view; a view file holds one CREATE [OR REPLACE] VIEW or CREATE \
                 MATERIALIZED VIEW and statements about that view (COMMENT ON, GRANT, REVOKE, \
                 CREATE INDEX, ALTER VIEW); put anything else in a migration\n{}",
                at(statement.start),
                excerpt(statement.start)
            )),
        }
    }
    if found.is_none() && problems.len() == before {
        problems.push(format!(
            "{}: defines no view; a view file holds one CREATE [OR REPLACE] VIEW or CREATE \
             MATERIALIZED VIEW",
            file.path
        ));
    }
    found
}

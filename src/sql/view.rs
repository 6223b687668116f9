//! What a statement of a view file means for the view the file manages, read off the parse
//! tree: the definition itself (`CREATE [OR REPLACE] VIEW`, `CREATE MATERIALIZED VIEW`), with
//! the relations its query reads; a companion statement about one relation (`COMMENT ON`,
//! `GRANT`/`REVOKE`, `CREATE INDEX`, `ALTER VIEW`); or anything else. Pure.
//!
//! Names are as the server stores them: the parser folds unquoted identifiers to lower case
//! and truncates every identifier to 63 bytes, exactly as the server does.

use pg_query::protobuf::{self, ObjectType};
use pg_query::{NodeEnum, NodeRef};

/// A relation named in SQL: `schema.name`, or `name` (found through search_path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationName {
    pub schema: Option<String>,
    pub name: String,
}

impl RelationName {
    pub(super) fn of(range: &protobuf::RangeVar) -> RelationName {
        RelationName {
            schema: (!range.schemaname.is_empty()).then(|| range.schemaname.clone()),
            name: range.relname.clone(),
        }
    }

    /// From a dotted name given as a list of strings (`COMMENT ON VIEW s.v`): the last one
    /// or two parts, after dropping `drop_last` trailing parts (a column's name).
    pub(super) fn of_list(items: &[protobuf::Node], drop_last: usize) -> Option<RelationName> {
        let parts: Vec<&str> = items
            .iter()
            .map(|item| match &item.node {
                Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let parts = &parts[..parts.len().checked_sub(drop_last)?];
        match parts {
            [name] => Some(RelationName {
                schema: None,
                name: name.to_string(),
            }),
            [.., schema, name] => Some(RelationName {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            }),
            [] => None,
        }
    }
}

impl RelationName {
    /// Whether two names may be the same relation without knowing the search path: the
    /// same name, and the same schema when both give one.
    pub fn may_be(&self, other: &RelationName) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for RelationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A view definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub view: RelationName,
    pub materialized: bool,
    /// `CREATE OR REPLACE VIEW`: the file can replace the view in place.
    pub or_replace: bool,
    /// `CREATE TEMP VIEW`: gone at the end of the session, so it cannot be managed.
    pub temporary: bool,
    /// Every relation the query names (not its CTEs).
    pub reads: Vec<RelationName>,
}

/// What a statement is to the view file that holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ViewRole {
    Defines(Definition),
    /// `COMMENT ON`, `GRANT`/`REVOKE` or `ALTER VIEW`/`ALTER MATERIALIZED VIEW` about this
    /// relation: allowed when it is the file's own view.
    About(RelationName),
    /// `CREATE INDEX` on this relation: allowed when it is the file's own materialized view.
    Indexes(RelationName),
    /// Anything else, which a view file may not hold.
    #[default]
    Other,
}

/// What `node` is to a view file.
pub fn view_role(node: &NodeEnum) -> ViewRole {
    match node {
        NodeEnum::ViewStmt(stmt) => match &stmt.view {
            Some(view) => ViewRole::Defines(Definition {
                view: RelationName::of(view),
                materialized: false,
                or_replace: stmt.replace,
                temporary: view.relpersistence == "t",
                reads: reads(stmt.query.as_deref()),
            }),
            None => ViewRole::Other,
        },
        NodeEnum::CreateTableAsStmt(stmt) if stmt.objtype == ObjectType::ObjectMatview as i32 => {
            match stmt.into.as_ref().and_then(|into| into.rel.as_ref()) {
                Some(view) => ViewRole::Defines(Definition {
                    view: RelationName::of(view),
                    materialized: true,
                    or_replace: false,
                    temporary: view.relpersistence == "t",
                    reads: reads(stmt.query.as_deref()),
                }),
                None => ViewRole::Other,
            }
        }
        NodeEnum::CommentStmt(stmt) => {
            let drop_last = match ObjectType::try_from(stmt.objtype) {
                Ok(ObjectType::ObjectView | ObjectType::ObjectMatview) => 0,
                Ok(ObjectType::ObjectColumn) => 1,
                _ => return ViewRole::Other,
            };
            match stmt.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::List(list)) => RelationName::of_list(&list.items, drop_last)
                    .map_or(ViewRole::Other, ViewRole::About),
                _ => ViewRole::Other,
            }
        }
        NodeEnum::GrantStmt(stmt)
            if stmt.objtype == ObjectType::ObjectTable as i32 && stmt.objects.len() == 1 =>
        {
            match &stmt.objects[0].node {
                Some(NodeEnum::RangeVar(range)) => ViewRole::About(RelationName::of(range)),
                _ => ViewRole::Other,
            }
        }
        NodeEnum::IndexStmt(stmt) if !stmt.concurrent => stmt
            .relation
            .as_ref()
            .map_or(ViewRole::Other, |r| ViewRole::Indexes(RelationName::of(r))),
        NodeEnum::AlterTableStmt(stmt)
            if stmt.objtype == ObjectType::ObjectView as i32
                || stmt.objtype == ObjectType::ObjectMatview as i32 =>
        {
            stmt.relation
                .as_ref()
                .map_or(ViewRole::Other, |r| ViewRole::About(RelationName::of(r)))
        }
        _ => ViewRole::Other,
    }
}

/// The relations an `ALTER TABLE` (or `ALTER VIEW`, …) changes, or a `DROP TABLE`, `DROP
/// VIEW`, `DROP MATERIALIZED VIEW` or `DROP FOREIGN TABLE` drops: where views reading them may
/// stand in the way. Empty for anything else.
pub fn altered(node: &NodeEnum) -> Vec<RelationName> {
    match node {
        NodeEnum::AlterTableStmt(stmt) => stmt.relation.iter().map(RelationName::of).collect(),
        NodeEnum::DropStmt(stmt)
            if [
                ObjectType::ObjectTable,
                ObjectType::ObjectView,
                ObjectType::ObjectMatview,
                ObjectType::ObjectForeignTable,
            ]
            .iter()
            .any(|kind| stmt.remove_type == *kind as i32) =>
        {
            stmt.objects
                .iter()
                .filter_map(|object| match &object.node {
                    Some(NodeEnum::List(list)) => RelationName::of_list(&list.items, 0),
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The relations a view's query names, each once, in order of first appearance. An
/// unqualified name that a `WITH` of the query defines is that CTE, not a relation, except
/// inside the CTE's own body when the `WITH` is not RECURSIVE (`WITH big AS (SELECT * FROM
/// big)` reads the relation `big`). A CTE's scope is otherwise taken as the whole query, so a
/// relation of a CTE's name read outside that scope is missed: the view then comes in file
/// order, as if it did not read it.
fn reads(query: Option<&protobuf::Node>) -> Vec<RelationName> {
    let Some(query) = query.and_then(|q| q.node.as_ref()) else {
        return Vec::new();
    };
    let nodes = query.nodes();
    // Each CTE: its name, and where its own body's relations are when it cannot see itself.
    let mut ctes: Vec<(&str, Vec<i32>)> = Vec::new();
    for (node, ..) in &nodes {
        let NodeRef::SelectStmt(select) = node else {
            continue;
        };
        let Some(with) = &select.with_clause else {
            continue;
        };
        for cte in &with.ctes {
            let Some(NodeEnum::CommonTableExpr(cte)) = &cte.node else {
                continue;
            };
            let own_body = match cte.ctequery.as_deref().and_then(|q| q.node.as_ref()) {
                Some(body) if !with.recursive => body
                    .nodes()
                    .iter()
                    .filter_map(|(n, ..)| match n {
                        NodeRef::RangeVar(r) => Some(r.location),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            ctes.push((cte.ctename.as_str(), own_body));
        }
    }
    let mut found: Vec<RelationName> = Vec::new();
    for (node, ..) in &nodes {
        if let NodeRef::RangeVar(range) = node {
            let name = RelationName::of(range);
            let is_cte = name.schema.is_none()
                && ctes.iter().any(|(cte, own_body)| {
                    *cte == name.name && !own_body.contains(&range.location)
                });
            if !is_cte && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(sql: &str) -> ViewRole {
        let statements = crate::sql::parse(sql).expect("parses");
        statements[0].class.view.clone()
    }

    fn name(schema: Option<&str>, name: &str) -> RelationName {
        RelationName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn a_definition_names_its_view_as_the_server_stores_it_and_what_it_reads() {
        let ViewRole::Defines(def) = role(
            "CREATE OR REPLACE VIEW Reports.\"Daily\" AS \
             SELECT * FROM orders o JOIN app.Lines l USING (id) \
             WHERE o.id IN (SELECT id FROM refunds)",
        ) else {
            panic!("not a definition");
        };
        assert_eq!(def.view, name(Some("reports"), "Daily"));
        assert!(def.or_replace && !def.materialized && !def.temporary);
        assert_eq!(
            def.reads,
            vec![
                name(None, "orders"),
                name(Some("app"), "lines"),
                name(None, "refunds")
            ]
        );
        let long = "v".repeat(70);
        let ViewRole::Defines(def) = role(&format!("CREATE VIEW {long} AS SELECT 1")) else {
            panic!("not a definition");
        };
        assert_eq!(
            def.view.name,
            "v".repeat(63),
            "truncated as the server does"
        );
    }

    #[test]
    fn materialized_and_temporary_views_are_told_apart() {
        let ViewRole::Defines(def) =
            role("CREATE MATERIALIZED VIEW mv AS SELECT * FROM t WITH NO DATA")
        else {
            panic!("not a definition");
        };
        assert!(def.materialized && !def.or_replace);
        assert_eq!(def.reads, vec![name(None, "t")]);
        let ViewRole::Defines(def) = role("CREATE TEMP VIEW v AS SELECT 1") else {
            panic!("not a definition");
        };
        assert!(def.temporary);
    }

    #[test]
    fn what_an_alter_or_a_drop_changes() {
        let altered = |sql: &str| {
            let statements = crate::sql::parse(sql).expect("parses");
            statements[0].class.alters.clone()
        };
        assert_eq!(
            altered("ALTER TABLE app.t ALTER COLUMN a TYPE int"),
            vec![name(Some("app"), "t")]
        );
        assert_eq!(
            altered("DROP TABLE a, s.b CASCADE"),
            vec![name(None, "a"), name(Some("s"), "b")]
        );
        assert_eq!(altered("DROP FUNCTION f()"), vec![]);
        assert_eq!(altered("CREATE TABLE t (a int)"), vec![]);
    }

    #[test]
    fn companions_name_the_relation_they_are_about_and_the_rest_is_other() {
        assert_eq!(
            role("COMMENT ON VIEW s.v IS 'x'"),
            ViewRole::About(name(Some("s"), "v"))
        );
        assert_eq!(
            role("COMMENT ON COLUMN v.c IS 'x'"),
            ViewRole::About(name(None, "v"))
        );
        assert_eq!(
            role("GRANT SELECT ON v TO PUBLIC"),
            ViewRole::About(name(None, "v"))
        );
        assert_eq!(
            role("CREATE UNIQUE INDEX ON mv (id)"),
            ViewRole::Indexes(name(None, "mv"))
        );
        assert_eq!(
            role("ALTER VIEW v ALTER COLUMN c SET DEFAULT 1"),
            ViewRole::About(name(None, "v"))
        );
        for other in [
            "DELETE FROM important",
            "DROP TABLE other",
            "CREATE TABLE t (a int)",
            "GRANT SELECT ON a, b TO PUBLIC",
            "ALTER TABLE t ADD COLUMN b int",
            "CREATE TABLE t AS SELECT 1",
            "SELECT 1",
        ] {
            assert_eq!(role(other), ViewRole::Other, "{other}");
        }
    }
}

//! What a rebuild must do, decided before anything runs, from the project, the applied
//! versions, the views pgstrata recorded and the session's current schema. Pure.
//!
//! Views are resolved to the names the server stores (an unqualified view goes to the current
//! schema), put in the order they can be created in (a view after the managed views its query
//! reads), and given the versions they need: their own `requires` and those of every managed
//! view they read, so that a view reading a view that requires V2 follows it. Recorded views
//! are matched by name, not by file: renaming a file moves the record and leaves the view be.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Result, bail};

use super::Recorded;
use crate::migrate::project::{Project, View};
use crate::sql::Definition;

/// A view's name as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ViewName {
    pub schema: String,
    pub name: String,
}

impl fmt::Display for ViewName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// One managed view, resolved.
#[derive(Debug)]
pub struct Node<'p> {
    pub view: &'p View,
    pub def: &'p Definition,
    pub name: ViewName,
    /// The versions that must be applied for the view to exist: its own `requires` and those
    /// of the managed views it reads, transitively.
    pub needs: BTreeSet<i64>,
}

impl Node<'_> {
    pub fn file(&self) -> &str {
        &self.view.file.path
    }

    pub fn wanted(&self, applied: &BTreeSet<i64>) -> bool {
        self.needs.is_subset(applied)
    }
}

/// The project's views in creation order.
#[derive(Debug)]
pub struct Graph<'p> {
    pub nodes: Vec<Node<'p>>,
}

impl<'p> Graph<'p> {
    /// Resolves and orders the project's views: `current_schema` is where an unqualified view
    /// goes; an unqualified name a query reads is the managed view of the first schema of
    /// `search_path` that has one. Two files defining the same view once resolved (`v` and
    /// `public.v`) is an error naming both.
    pub fn resolve(
        project: &'p Project,
        current_schema: &str,
        search_path: &[String],
    ) -> Result<Graph<'p>> {
        let resolve = |schema: &Option<String>, name: &str| ViewName {
            schema: schema.clone().unwrap_or_else(|| current_schema.to_string()),
            name: name.to_string(),
        };
        let mut by_name: BTreeMap<ViewName, usize> = BTreeMap::new();
        let mut found = Vec::new();
        for view in &project.views {
            let Some(def) = &view.definition else {
                bail!(
                    "internal error: {} was not parsed before its view was resolved",
                    view.file.path
                );
            };
            let name = resolve(&def.view.schema, &def.view.name);
            if let Some(&first) = by_name.get(&name) {
                let first = &project.views[first];
                bail!(
                    "{} and {} both define the view {name}; a view is managed by one file: \
                     delete one of them",
                    first.file.path,
                    view.file.path
                );
            }
            by_name.insert(name.clone(), found.len());
            found.push((view, def, name));
        }
        // What each view reads, among the managed views.
        let find = |r: &crate::sql::RelationName| match &r.schema {
            Some(_) => by_name.get(&resolve(&r.schema, &r.name)).copied(),
            None => search_path.iter().find_map(|schema| {
                by_name
                    .get(&ViewName {
                        schema: schema.clone(),
                        name: r.name.clone(),
                    })
                    .copied()
            }),
        };
        let reads: Vec<Vec<usize>> = found
            .iter()
            .enumerate()
            .map(|(me, (_, def, _))| {
                let mut reads: Vec<usize> = def
                    .reads
                    .iter()
                    .filter_map(find)
                    .filter(|&other| other != me)
                    .collect();
                reads.sort_unstable();
                reads.dedup();
                reads
            })
            .collect();
        let needs = needs(&found, &reads);
        let order = creation_order(&found, &reads);
        let mut slots: Vec<Option<(&View, &Definition, ViewName)>> =
            found.into_iter().map(Some).collect();
        let nodes = order
            .into_iter()
            .map(|i| {
                let (view, def, name) = slots[i].take().expect("each index once");
                Node {
                    view,
                    def,
                    name,
                    needs: needs[i].clone(),
                }
            })
            .collect();
        Ok(Graph { nodes })
    }

    pub fn index_of(&self, name: &ViewName) -> Option<usize> {
        self.nodes.iter().position(|n| &n.name == name)
    }
}

/// Each view's own `requires` joined with those of everything it reads, to a fixed point.
fn needs(found: &[(&View, &Definition, ViewName)], reads: &[Vec<usize>]) -> Vec<BTreeSet<i64>> {
    let mut needs: Vec<BTreeSet<i64>> = found
        .iter()
        .map(|(view, _, _)| view.requires.iter().copied().collect())
        .collect();
    loop {
        let mut grew = false;
        for me in 0..needs.len() {
            for &other in &reads[me] {
                let theirs: Vec<i64> = needs[other].difference(&needs[me]).copied().collect();
                grew |= !theirs.is_empty();
                needs[me].extend(theirs);
            }
        }
        if !grew {
            return needs;
        }
    }
}

/// Indices in an order where every view comes after the views it reads, ties (and, should
/// names ever make a cycle, the cycle) broken by file name.
fn creation_order(found: &[(&View, &Definition, ViewName)], reads: &[Vec<usize>]) -> Vec<usize> {
    let mut by_file: Vec<usize> = (0..found.len()).collect();
    by_file.sort_by(|&a, &b| found[a].0.file.path.cmp(&found[b].0.file.path));
    let mut placed = vec![false; found.len()];
    let mut order = Vec::with_capacity(found.len());
    while order.len() < found.len() {
        let ready = by_file
            .iter()
            .copied()
            .find(|&i| !placed[i] && reads[i].iter().all(|&r| placed[r]))
            .or_else(|| by_file.iter().copied().find(|&i| !placed[i]))
            .expect("an unplaced view remains");
        placed[ready] = true;
        order.push(ready);
    }
    order
}

/// What a rebuild does.
#[derive(Debug, Default)]
pub struct Plan {
    /// Recorded views to drop: their file is gone, defines another view now, or needs a
    /// version that is not applied. (name, file as recorded or as it is).
    pub drops: Vec<(ViewName, String)>,
    /// Nodes (indices into the graph) to create or replace, in creation order.
    pub applies: Vec<usize>,
    /// Nodes whose view is current but recorded under another file: (node, recorded file).
    pub moves: Vec<(usize, String)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.drops.is_empty() && self.applies.is_empty() && self.moves.is_empty()
    }
}

/// Where one managed view stands, for `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// It exists as its file defines it.
    Current,
    /// It exists, but its file changed since.
    Changed,
    /// Its versions are applied but it does not exist (never built, dropped by hand, or its
    /// last rebuild failed).
    Missing,
    /// It exists, but its file is gone or a version it needs is not applied: the next run
    /// drops it.
    Unwanted,
    /// Its versions are not applied and it does not exist, as it should be.
    NotRequired,
    /// Changed or missing, and the last rebuild failed on its file as it is (`status` only).
    Failed,
}

impl Standing {
    /// Whether the next `up` would change it.
    pub fn is_pending(self) -> bool {
        !matches!(self, Standing::Current | Standing::NotRequired)
    }
}

/// Decides the rebuild for `applied` versions.
pub fn decide(graph: &Graph, applied: &BTreeSet<i64>, recorded: &[Recorded]) -> Plan {
    let mut plan = Plan::default();
    for (i, node) in graph.nodes.iter().enumerate() {
        let record = recorded.iter().find(|r| r.name == node.name);
        match (node.wanted(applied), record) {
            (false, Some(r)) => plan.drops.push((r.name.clone(), node.file().to_string())),
            (false, None) => {}
            (true, Some(r)) if r.present && r.checksum == node.view.file.checksum => {
                if r.file != file_key(node.file()) {
                    plan.moves.push((i, r.file.clone()));
                }
            }
            (true, _) => plan.applies.push(i),
        }
    }
    for r in recorded {
        if graph.index_of(&r.name).is_none() {
            plan.drops
                .push((r.name.clone(), format!("views/{}", r.file)));
        }
    }
    plan
}

/// Each managed view's standing, then recorded views no file defines any more.
pub fn standings(
    graph: &Graph,
    applied: &BTreeSet<i64>,
    recorded: &[Recorded],
) -> Vec<(ViewName, String, Standing)> {
    let mut out = Vec::new();
    for node in &graph.nodes {
        let record = recorded.iter().find(|r| r.name == node.name);
        let present = record.is_some_and(|r| r.present);
        let standing = match (node.wanted(applied), record) {
            (false, _) if present => Standing::Unwanted,
            (false, _) => Standing::NotRequired,
            (true, Some(r)) if r.present && r.checksum == node.view.file.checksum => {
                Standing::Current
            }
            (true, Some(r)) if r.present => Standing::Changed,
            (true, _) => Standing::Missing,
        };
        out.push((node.name.clone(), node.file().to_string(), standing));
    }
    for r in recorded {
        if graph.index_of(&r.name).is_none() && r.present {
            out.push((
                r.name.clone(),
                format!("views/{}", r.file),
                Standing::Unwanted,
            ));
        }
    }
    out
}

/// The key a view is recorded under: its file name within views/.
pub fn file_key(path: &str) -> String {
    path.strip_prefix("views/").unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::project::SqlFile;

    fn project(files: &[(&str, &str, &[i64])]) -> Project {
        let mut views: Vec<View> = files
            .iter()
            .map(|(file, sql, requires)| View {
                file: SqlFile {
                    path: format!("views/{file}"),
                    sql: sql.to_string(),
                    checksum: crate::checksum::sha256_hex(sql),
                    statements: crate::sql::parse(sql).expect("parses"),
                    ..SqlFile::default()
                },
                requires: requires.to_vec(),
                definition: None,
            })
            .collect();
        for view in &mut views {
            view.definition = view
                .file
                .statements
                .iter()
                .find_map(|s| match &s.class.view {
                    crate::sql::ViewRole::Defines(def) => Some(def.clone()),
                    _ => None,
                });
        }
        Project {
            root: ".".into(),
            parsed: true,
            from_cache: false,
            migrations: vec![],
            views,
            warnings: vec![],
        }
    }

    fn names(graph: &Graph) -> Vec<String> {
        graph.nodes.iter().map(|n| n.name.to_string()).collect()
    }

    fn recorded(graph: &Graph, i: usize, present: bool) -> Recorded {
        let node = &graph.nodes[i];
        Recorded {
            file: file_key(node.file()),
            name: node.name.clone(),
            checksum: node.view.file.checksum.clone(),
            present,
        }
    }

    #[test]
    fn views_come_after_what_they_read_and_need_what_it_needs() {
        let p = project(&[
            (
                "a.sql",
                "CREATE VIEW a AS SELECT * FROM b JOIN app.c USING (id)",
                &[],
            ),
            ("b.sql", "CREATE VIEW b AS SELECT * FROM public.d", &[]),
            ("c.sql", "CREATE VIEW app.c AS SELECT 1 AS id", &[3]),
            ("d.sql", "CREATE VIEW d AS SELECT 1 AS id", &[2]),
            ("e.sql", "CREATE VIEW e AS SELECT * FROM elsewhere.d", &[]),
        ]);
        let graph = Graph::resolve(&p, "public", &["public".to_string()]).unwrap();
        assert_eq!(
            names(&graph),
            ["app.c", "public.d", "public.b", "public.a", "public.e"]
        );
        let needs: Vec<Vec<i64>> = graph
            .nodes
            .iter()
            .map(|n| n.needs.iter().copied().collect())
            .collect();
        assert_eq!(needs, [vec![3], vec![2], vec![2], vec![2, 3], vec![]]);
    }

    #[test]
    fn the_same_view_in_two_files_is_an_error_naming_both() {
        let p = project(&[
            ("report.sql", "CREATE VIEW report AS SELECT 1", &[]),
            (
                "public.report.sql",
                "CREATE VIEW public.report AS SELECT 1",
                &[],
            ),
        ]);
        let err = Graph::resolve(&p, "public", &["public".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("views/public.report.sql") && err.contains("views/report.sql"),
            "{err}"
        );
        assert!(
            Graph::resolve(&p, "app", &["app".to_string()]).is_ok(),
            "in another schema they differ"
        );
    }

    #[test]
    fn decide_matches_records_by_name_and_applies_only_what_is_not_current() {
        let p = project(&[
            ("same.sql", "CREATE VIEW same AS SELECT 1", &[]),
            ("changed.sql", "CREATE VIEW changed AS SELECT 2", &[]),
            ("missing.sql", "CREATE VIEW missing AS SELECT 3", &[]),
            ("moved_here.sql", "CREATE VIEW moved AS SELECT 4", &[]),
            ("later.sql", "CREATE VIEW later AS SELECT 5", &[9]),
        ]);
        let graph = Graph::resolve(&p, "public", &["public".to_string()]).unwrap();
        let at = |name: &str| {
            graph
                .nodes
                .iter()
                .position(|n| n.name.name == name)
                .unwrap()
        };
        let mut changed = recorded(&graph, at("changed"), true);
        changed.checksum = "old".into();
        let mut moved = recorded(&graph, at("moved"), true);
        moved.file = "moved.sql".into();
        let records = vec![
            recorded(&graph, at("same"), true),
            changed,
            recorded(&graph, at("missing"), false),
            moved,
            recorded(&graph, at("later"), true),
            Recorded {
                file: "deleted.sql".into(),
                name: ViewName {
                    schema: "public".into(),
                    name: "deleted".into(),
                },
                checksum: "x".into(),
                present: true,
            },
        ];
        let plan = decide(&graph, &[1].into(), &records);
        let applies: Vec<&str> = plan
            .applies
            .iter()
            .map(|&i| graph.nodes[i].name.name.as_str())
            .collect();
        assert_eq!(applies, ["changed", "missing"]);
        let drops: Vec<String> = plan.drops.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(drops, ["public.later", "public.deleted"]);
        assert_eq!(plan.moves, vec![(at("moved"), "moved.sql".to_string())]);
        let standings: Vec<Standing> = standings(&graph, &[1].into(), &records)
            .into_iter()
            .map(|(_, _, s)| s)
            .collect();
        assert!(standings.contains(&Standing::Changed));
        assert!(standings.contains(&Standing::Missing));
        assert_eq!(
            standings
                .iter()
                .filter(|s| **s == Standing::Unwanted)
                .count(),
            2
        );
        // All current: nothing to do.
        let current: Vec<Recorded> = (0..graph.nodes.len())
            .filter(|&i| graph.nodes[i].name.name != "later")
            .map(|i| recorded(&graph, i, true))
            .collect();
        assert!(decide(&graph, &[1].into(), &current).is_empty());
    }
}

//! Where each managed view stands, for `status`: current, changed, missing, failed, unwanted
//! or not required (see `plan::Standing`).

use std::collections::BTreeSet;

use anyhow::Result;
use postgres::GenericClient;
use serde::Serialize;

use super::failures::read_failures;
use super::plan::{self, Graph, Standing, file_key};
use super::state::read_state;
use crate::migrate::history::History;
use crate::migrate::project::Project;

/// One managed view's standing, for `status`.
#[derive(Debug, Clone, Serialize)]
pub struct ViewStatus {
    pub view: String,
    pub file: String,
    pub state: Standing,
    /// For `failed`: the error of its file's last rebuild.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where every managed view stands at the `applied` versions.
pub fn status(
    client: &mut impl GenericClient,
    history: &History,
    project: &Project,
    applied: &BTreeSet<i64>,
) -> Result<Vec<ViewStatus>> {
    let state = read_state(client, history)?;
    if project.views.is_empty() && state.recorded.is_empty() {
        return Ok(Vec::new());
    }
    let graph = Graph::resolve(project, state.current_schema()?, &state.search_path)?;
    let failures = read_failures(client, history)?;
    Ok(plan::standings(&graph, applied, &state.recorded)
        .into_iter()
        .map(|(name, file, state)| {
            // A failure stands while the file is the one that failed and its view is not
            // current.
            let failed = graph
                .index_of(&name)
                .map(|i| &graph.nodes[i].view.file)
                .and_then(|f| {
                    failures
                        .iter()
                        .find(|(key, sum, _)| *key == file_key(&f.path) && *sum == f.checksum)
                })
                .filter(|_| matches!(state, Standing::Changed | Standing::Missing));
            match failed {
                Some((_, _, error)) => ViewStatus {
                    view: name.to_string(),
                    file,
                    state: Standing::Failed,
                    error: Some(error.clone()),
                },
                None => ViewStatus {
                    view: name.to_string(),
                    file,
                    state,
                    error: None,
                },
            }
        })
        .collect())
}

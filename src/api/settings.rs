//! The settings of a project's `pgstrata.toml` a [`Migrator`](crate::Migrator) starts from,
//! so that a program and the `pgstrata` command agree on the project: above all on the
//! history table (a program reading another `history_schema` would see nothing applied and
//! run every migration again), and on its time limits.
//!
//! Only the file: the environment (`PGSTRATA_*`, `DATABASE_URL`) and the command's flags are
//! the command's business; a program passes its own values to the migrator.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::config::{self, FileSettings, Limits};
use crate::files;

/// What a migrator takes from `pgstrata.toml`, defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct ProjectSettings {
    pub history_schema: String,
    pub lock_wait: Duration,
    pub limits: Limits,
    pub allow_out_of_order: bool,
}

impl ProjectSettings {
    /// The settings of `dir/pgstrata.toml`, or the defaults when there is none.
    pub fn read(dir: &Path) -> Result<ProjectSettings> {
        let path = dir.join(config::FILE_NAME);
        if !files::exists(&path) {
            return ProjectSettings::from_text(None);
        }
        let text = files::read_regular_text(&path, files::MAX_SETTINGS_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
        ProjectSettings::from_text(Some(&text))
            .with_context(|| format!("reading {}", path.display()))
    }

    /// The settings of a file's text (`None`: no file).
    pub fn from_text(text: Option<&str>) -> Result<ProjectSettings> {
        let file = match text {
            Some(text) => config::parse_file(text)?,
            None => FileSettings::default(),
        };
        let history_schema = file
            .history_schema
            .unwrap_or_else(|| config::DEFAULT_HISTORY_SCHEMA.to_string());
        if history_schema.is_empty() || history_schema.len() > 63 {
            bail!("history_schema must be 1 to 63 characters (PostgreSQL's limit)");
        }
        let duration = |key: &str, value: Option<String>, default: Duration| {
            match value.as_deref().map(config::parse_duration).transpose() {
                Ok(value) => Ok(value.unwrap_or(default)),
                // Not quoted back: the file may hold secrets.
                Err(_) => Err(anyhow::anyhow!(
                    "{key} is not a duration; give a number and a unit, like 500ms, 2s or 10min"
                )),
            }
        };
        let defaults = Limits::default();
        Ok(ProjectSettings {
            history_schema,
            lock_wait: Duration::from_secs(file.lock_wait.unwrap_or(config::DEFAULT_LOCK_WAIT_S)),
            allow_out_of_order: file.allow_out_of_order.unwrap_or(false),
            limits: Limits {
                lock_timeout: duration("lock_timeout", file.lock_timeout, defaults.lock_timeout)?,
                lock_retries: file.lock_retries.unwrap_or(defaults.lock_retries),
                statement_timeout: duration(
                    "statement_timeout",
                    file.statement_timeout,
                    defaults.statement_timeout,
                )?,
            },
        })
    }
}

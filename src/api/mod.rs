//! The public API: load a project ([`Migrations`]), then apply, roll back or read the status
//! of a database with a [`Migrator`]. Everything else in the crate is private to it.
//!
//! This module only translates: settings into the runner's options, the runner's records into
//! [`Report`] and [`Status`], internal errors into [`Error`]. It never prints.

mod error;
mod report;
mod settings;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postgres::Client;

pub use error::{Error, ErrorKind};
pub use report::{Direction, Report, Status, Step, VersionState, VersionStatus, ViewChange};

use crate::config::Limits;
use crate::conninfo::ConnInfo;
use crate::embedded::Embedded;
use crate::migrate::history::History;
use crate::migrate::plan::{self, DownTarget};
use crate::migrate::project::{self, Project, Source};
use crate::migrate::runner::{OnEvent, Options, Runner};
use crate::migrate::{invalid_index, views};
use settings::ProjectSettings;

/// A project's migrations, rollbacks and views, read and validated: every file named
/// correctly, paired with its rollback, and split into statements by PostgreSQL's own parser.
/// Loading never touches a database.
///
/// The project's `pgstrata.toml`, when it has one, is read too: its `history_schema`,
/// `lock_wait`, `lock_timeout`, `lock_retries` and `statement_timeout` are where a
/// [`Migrator`] starts from, so that a program and the `pgstrata` command use the same
/// history table and limits. (Environment variables, profiles and the database URL of the
/// file are the command's: a program gives its own.)
#[derive(Debug, Clone)]
pub struct Migrations {
    project: Project,
    settings: ProjectSettings,
}

impl Migrations {
    /// Loads the project in `dir` (the folder holding `migrations/`, `rollbacks/` and
    /// optionally `views/`), as the `pgstrata` command does.
    ///
    /// Fails with [`ErrorKind::InvalidProject`] listing every problem (a badly named file, a
    /// migration without its rollback, SQL the parser refuses…), or [`ErrorKind::Other`] when
    /// there is no `migrations/` folder.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, Error> {
        let dir = dir.as_ref();
        let project = project::load_from(Source::Disk(dir))?;
        let settings = ProjectSettings::read(dir)?;
        Ok(Migrations { project, settings })
    }

    /// Loads a project compiled into the program by
    /// [`embed_migrations!`](crate::embed_migrations), with the same validation as
    /// [`from_dir`](Migrations::from_dir): a project that would be refused on disk is refused
    /// here, with the same messages.
    pub fn embedded(embedded: &Embedded) -> Result<Migrations, Error> {
        let project = project::load_from(Source::Embedded(embedded))?;
        let text = embedded
            .settings_file()
            .map(std::str::from_utf8)
            .transpose()
            .map_err(|err| {
                anyhow::Error::from(err).context("reading the embedded pgstrata.toml")
            })?;
        let settings = ProjectSettings::from_text(text)
            .map_err(|err| err.context("reading the embedded pgstrata.toml"))?;
        Ok(Migrations { project, settings })
    }

    /// The migrations' versions and names, in version order.
    pub fn versions(&self) -> impl Iterator<Item = (i64, &str)> {
        self.project
            .migrations
            .iter()
            .map(|m| (m.version, m.name.as_str()))
    }

    /// Files that were ignored but look like SQL (editor and backup copies), one line each.
    pub fn warnings(&self) -> &[String] {
        &self.project.warnings
    }
}

/// The database a [`Migrator`] works on: a connection string, or a connection the caller
/// opened (`&mut postgres::Client`, of the [`postgres`] crate this crate
/// re-exports).
pub enum Database<'a> {
    /// A URL (`postgres://user@host/db`) or `key=value` string, completed as libpq does: the
    /// `PG*` environment variables, the password file, `sslmode` (TLS with OpenSSL).
    Url(&'a str),
    /// An open connection. pgstrata checks its session as it checks its own connections
    /// (`standard_conforming_strings` must be on) and sets `client_connection_check_interval`
    /// on it, so that the server stops a migration whose client died.
    Client(&'a mut Client),
}

impl<'a> From<&'a str> for Database<'a> {
    fn from(url: &'a str) -> Database<'a> {
        Database::Url(url)
    }
}

impl<'a> From<&'a String> for Database<'a> {
    fn from(url: &'a String) -> Database<'a> {
        Database::Url(url)
    }
}

impl<'a> From<&'a mut Client> for Database<'a> {
    fn from(client: &'a mut Client) -> Database<'a> {
        Database::Client(client)
    }
}

/// How far [`Migrator::down`] rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    /// Roll back every migration newer than this version (0: all of them).
    To(i64),
    /// Roll back this many migrations, newest first.
    Steps(usize),
}

/// Applies, rolls back and reports on [`Migrations`] in a database, with the guarantees of
/// the `pgstrata` command: one run at a time (an advisory lock), each migration committed
/// with its history row, time limits on locks, retries after lost lock races, views rebuilt
/// after every change.
///
/// # Threads and async runtimes
///
/// The calls are synchronous: they return when the work is done. Each runs its database work
/// on a short-lived thread of its own, so it works the same from plain code and from inside
/// an async runtime: the `postgres` client pgstrata uses drives its own small tokio runtime,
/// which would panic ("Cannot start a runtime from within a runtime") on a thread that is
/// already running one, such as a `#[tokio::main]` function or a tokio task. The calling
/// thread waits meanwhile; in async code, wrap the call in `tokio::task::spawn_blocking` when
/// blocking a worker thread for the length of a migration run matters.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    history_schema: String,
    lock_wait: Duration,
    limits: Limits,
    allow_data_loss: bool,
    allow_out_of_order: bool,
    single_transaction: bool,
}

impl<'m> Migrator<'m> {
    /// A migrator with the settings of the project's `pgstrata.toml`, and for what it does
    /// not set the command's defaults: history in the `pgstrata` schema, a 60 s wait for
    /// another run's lock, `lock_timeout` 1 s with 10 retries, no `statement_timeout`.
    /// Rollbacks that would drop data are refused.
    pub fn new(migrations: &'m Migrations) -> Migrator<'m> {
        let settings = &migrations.settings;
        Migrator {
            migrations,
            history_schema: settings.history_schema.clone(),
            lock_wait: settings.lock_wait,
            limits: settings.limits,
            allow_data_loss: false,
            allow_out_of_order: settings.allow_out_of_order,
            single_transaction: false,
        }
    }

    /// The schema of pgstrata's own tables (default `pgstrata`).
    pub fn history_schema(mut self, schema: &str) -> Migrator<'m> {
        self.history_schema = schema.to_string();
        self
    }

    /// How long to wait for another run to release the migration lock before failing with
    /// [`ErrorKind::LockBusy`].
    pub fn lock_wait(mut self, wait: Duration) -> Migrator<'m> {
        self.lock_wait = wait;
        self
    }

    /// PostgreSQL's `lock_timeout` for each file (zero: none); a file's own
    /// `-- pgstrata:lock-timeout` wins.
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator<'m> {
        self.limits.lock_timeout = timeout;
        self
    }

    /// How many times a file is retried after losing a race for a table lock.
    pub fn lock_retries(mut self, retries: u32) -> Migrator<'m> {
        self.limits.lock_retries = retries;
        self
    }

    /// PostgreSQL's `statement_timeout` for each file (zero: none).
    pub fn statement_timeout(mut self, timeout: Duration) -> Migrator<'m> {
        self.limits.statement_timeout = timeout;
        self
    }

    /// Run rollbacks that drop tables or columns holding data. Without it each rollback is
    /// rehearsed first and refused (`data_loss`) when it would.
    pub fn allow_data_loss(mut self, allow: bool) -> Migrator<'m> {
        self.allow_data_loss = allow;
        self
    }

    /// Apply a pending migration older than one already applied (two branches merged),
    /// recorded as applied out of order, instead of refusing it (`out_of_order`). Default:
    /// `allow_out_of_order` of the project's `pgstrata.toml`, else refuse.
    pub fn allow_out_of_order(mut self, allow: bool) -> Migrator<'m> {
        self.allow_out_of_order = allow;
        self
    }

    /// [`up`](Migrator::up) and [`up_to`](Migrator::up_to) apply every pending migration,
    /// its history row and the view rebuild in ONE transaction: on any error nothing of the
    /// run is left. A pending no-transaction migration is then refused (`no_transaction`)
    /// before anything runs. A lost race for a table lock retries the whole transaction.
    /// Default: one transaction per migration.
    pub fn single_transaction(mut self, single: bool) -> Migrator<'m> {
        self.single_transaction = single;
        self
    }

    /// Applies every pending migration in version order, then rebuilds the views.
    pub fn up<'a>(&self, database: impl Into<Database<'a>>) -> Result<Report, Error> {
        self.up_until(database.into(), None)
    }

    fn up_until(&self, database: Database<'_>, to: Option<i64>) -> Result<Report, Error> {
        let single = self.single_transaction;
        self.run(database, move |runner| {
            if single {
                runner.up_in_one_transaction(to)
            } else {
                runner.up(to)
            }
        })
    }

    /// Applies pending migrations up to and including `version`, then rebuilds the views.
    pub fn up_to<'a>(
        &self,
        database: impl Into<Database<'a>>,
        version: i64,
    ) -> Result<Report, Error> {
        self.up_until(database.into(), Some(version))
    }

    /// Rolls back applied migrations, newest first, then rebuilds the views.
    pub fn down<'a>(&self, database: impl Into<Database<'a>>, down: Down) -> Result<Report, Error> {
        let target = match down {
            Down::To(version) => DownTarget::To(version),
            Down::Steps(steps) => DownTarget::Steps(steps),
        };
        self.run(database.into(), |runner| runner.down(target))
    }

    /// Every version's state in the database. Changes nothing, takes no lock.
    pub fn status<'a>(&self, database: impl Into<Database<'a>>) -> Result<Status, Error> {
        let project = &self.migrations.project;
        let history = History::new(&self.history_schema);
        with_client(database.into(), |client, _| {
            let rows = history.read(client)?.unwrap_or_default();
            let statuses = plan::status(project, &rows);
            let invalid = invalid_index::list(client)?;
            let applied: BTreeSet<i64> = rows.iter().map(|r| r.version).collect();
            let views = views::status(client, &history, project, &applied)?;
            let clean =
                plan::is_clean(&statuses, &invalid) && views.iter().all(|v| !v.state.is_pending());
            Ok(Status {
                versions: statuses.into_iter().map(VersionStatus::from).collect(),
                clean,
            })
        })
    }

    /// Runs `action` on a runner for the database, returning its report, or the error with
    /// the report of what was done before it.
    fn run(
        &self,
        database: Database<'_>,
        action: impl FnOnce(&mut Runner) -> anyhow::Result<()> + Send,
    ) -> Result<Report, Error> {
        let project = &self.migrations.project;
        let mut failed = None;
        let report = with_client(database, |client, info| {
            let options = Options {
                history_schema: self.history_schema.clone(),
                lock_wait: self.lock_wait,
                dry_run: false,
                limits: self.limits,
                watch: info,
                allow_data_loss: self.allow_data_loss,
                allow_out_of_order: self.allow_out_of_order,
            };
            let quiet: OnEvent = Arc::new(|_| {});
            let mut runner = Runner::new(client, project, options, quiet);
            let result = action(&mut runner);
            let report = Report::from(runner.into_report());
            if let Err(err) = result {
                failed = Some(Error::from(err).with_report(report.clone()));
            }
            Ok(report)
        })?;
        match failed {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }
}

/// Runs `work` with a connection to the database, on a thread of its own (see
/// [`Migrator`]'s "Threads and async runtimes"). A URL is connected to, and the connection
/// closed, on that thread; `work` also gets the URL's settings, to open the second connection
/// that names the sessions blocking a lock wait.
fn with_client<T: Send>(
    database: Database<'_>,
    work: impl FnOnce(&mut Client, Option<ConnInfo>) -> anyhow::Result<T> + Send,
) -> Result<T, Error> {
    let outcome = std::thread::scope(|scope| {
        scope
            .spawn(move || match database {
                Database::Url(url) => {
                    let info = ConnInfo::parse_with_env(url)?;
                    let mut client = info.connect()?;
                    crate::migrate::session::prepare(&mut client)?;
                    work(&mut client, Some(info))
                }
                Database::Client(client) => {
                    crate::migrate::session::prepare(client)?;
                    work(client, None)
                }
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    outcome.map_err(Error::from)
}

//! The conditions a caller or a test branches on, each with a message that names the object
//! and the next step. Everything else is plain `anyhow` context.
//!
//! Raised with `bail!(Refusal::…)` and recognised with `err.downcast_ref::<Refusal>()`.

use std::fmt;

use crate::migrate::invalid_index::InvalidIndex;
use crate::shown::escape;

/// pgstrata refused to act because the database and the project disagree, or a file says
/// the operation cannot be done. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The project's files are invalid; one line per problem, each naming its file.
    InvalidProject(Vec<String>),
    /// An applied migration's file has changed since it was applied.
    Modified {
        version: i64,
        file: String,
        applied: String,
        current: String,
    },
    /// A no-transaction migration (or rollback) was interrupted; its effects are unknown.
    Dirty {
        version: i64,
        name: String,
        state: String,
    },
    /// An applied migration has no file any more.
    MissingOnDisk { version: i64, name: String },
    /// A pending migration is older than one already applied (and out of order was not
    /// allowed).
    OutOfOrder {
        version: i64,
        file: String,
        newest: i64,
        /// How to renumber every such migration to come last: (old path, new path) of each
        /// migration and rollback file.
        renames: Vec<(String, String)>,
    },
    /// The directory is not a project: no pgstrata.toml and no migrations/ folder.
    /// `enclosing`: a folder above it that is one (the user is inside a project).
    NotAProject {
        dir: String,
        enclosing: Option<String>,
    },
    /// A rollback declares it cannot undo its migration.
    Irreversible {
        version: i64,
        file: String,
        reason: String,
    },
    /// Another run holds the migration lock and did not release it in time.
    LockTimeout { waited_s: u64, holder: String },
    /// A version given on the command line does not exist in the project.
    UnknownVersion(i64),
    /// `baseline` or `adopt` on a database pgstrata manages already: the sentence saying so.
    AlreadyManaged(String),
    /// `adopt`: another tool's history disagrees with migrations/ (a version without its
    /// file, a checksum that differs, a failed or dirty row); one line per problem.
    ForeignHistory(Vec<String>),
    /// Work lost every race for its locks; the last attempt was rolled back.
    Blocked(Box<Blocked>),
    /// `up --single-transaction` with a pending migration that must run outside a transaction
    /// (`-- pgstrata:no-transaction`): its path, and the newest version before it.
    NoTransactionInSingle {
        file: String,
        version: i64,
        before: Option<i64>,
    },
    /// Rollbacks that would drop data, refused before any ran (see `migrate::data_loss`): the
    /// sentence naming every object and its count.
    DataLoss(String),
    /// `repair --mark-applied` of a migration whose CONCURRENTLY statements left INVALID
    /// indexes: it is not done.
    InvalidIndexes {
        version: i64,
        name: String,
        /// The migration's files were not at hand: every invalid index counted.
        every_index: bool,
        indexes: Vec<InvalidIndex>,
    },
}

/// Work that lost every race for its locks (lock timeout, deadlock, serialization failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// `migration 5 (add_x)`, `the rollback of migration 5 (add_x)`, `the view rebuild`.
    pub what: String,
    pub attempts: u32,
    /// What each attempt ran into, in words.
    pub cause: String,
    pub lock_timeout_ms: u64,
    /// The sessions that blocked the last attempt, described; empty when unknown.
    pub blockers: String,
    pub blocker_pids: Vec<i32>,
    /// The server's error for the last attempt, located in its file.
    pub error: String,
    /// Why it was attempted once only, whatever `lock_retries` says (a no-transaction
    /// statement that may have committed part of its work).
    pub not_retried: Option<&'static str>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AlreadyManaged(sentence) => f.write_str(sentence),
            Refusal::ForeignHistory(problems) => {
                write!(
                    f,
                    "the history to adopt does not match migrations/; nothing was adopted:"
                )?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            Refusal::InvalidProject(problems) => {
                write!(f, "the project is invalid; nothing was run:")?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            Refusal::Modified {
                version,
                file,
                applied,
                current,
            } => write!(
                f,
                "migration {version} was applied but {file} has changed since (applied sha256 \
                 {}…, file {}…); restore the file as it was, or undo it with `pgstrata down` \
                 before changing it, or put the change in a new migration",
                short(applied),
                short(current)
            ),
            Refusal::Dirty {
                version,
                name,
                state,
            } => {
                let doing = if state == "reverting" {
                    "rolling back"
                } else {
                    "applying"
                };
                write!(
                    f,
                    "migration {version} ({name}) was interrupted while {doing} outside a \
                     transaction (history state `{state}`), so it may be partly done; inspect the \
                     database, finish or undo the partial work by hand, then record the outcome \
                     with `pgstrata repair --version {version} --mark-applied` (its effects are \
                     all in place) or `pgstrata repair --version {version} --forget` (none are)",
                    name = escape(name),
                    state = escape(state),
                )
            }
            Refusal::MissingOnDisk { version, name } => write!(
                f,
                "migration {version} ({name}) is applied but migrations/V{version}__{name}.sql is \
                 missing; restore the file (and its rollback) from version control",
                name = escape(name)
            ),
            Refusal::OutOfOrder {
                version,
                file,
                newest,
                renames,
            } => {
                let (others, them) = match renames.len() / 2 {
                    0 | 1 => (String::new(), "it"),
                    n => (format!(" (and {} more like it)", n - 1), "them"),
                };
                write!(
                    f,
                    "{file}{others} is pending but migration {newest} is already applied, and \
                     `up` applies migrations in version order (two branches merged?). Either \
                     renumber {them} after every other migration (if no database applied \
                     version {version} yet), from the project directory:"
                )?;
                for (old, new) in renames {
                    write!(f, "\n  git mv {old} {new}")?;
                }
                write!(
                    f,
                    "\nthen refresh schema-snapshots/ with `pgstrata check --write-snapshots`; \
                     or apply {them} out of order, recorded so in the history: `pgstrata up \
                     --allow-out-of-order` (or allow_out_of_order = true in pgstrata.toml)"
                )
            }
            Refusal::NotAProject {
                dir,
                enclosing: Some(enclosing),
            } => write!(
                f,
                "{dir} is not a pgstrata project, but it is inside one: {enclosing}; run \
                 pgstrata there (or give --dir {enclosing})",
                dir = escape(dir),
                enclosing = escape(enclosing)
            ),
            Refusal::NotAProject {
                dir,
                enclosing: None,
            } => write!(
                f,
                "{dir} is not a pgstrata project: it has no pgstrata.toml and no migrations/ \
                 folder; run `pgstrata init` there to make one (or point --dir at a project)",
                dir = escape(dir)
            ),
            Refusal::Irreversible {
                version,
                file,
                reason,
            } => write!(
                f,
                "migration {version} cannot be rolled back: {file} is marked irreversible: \
                 {reason}"
            ),
            Refusal::LockTimeout { waited_s, holder } => write!(
                f,
                "another migration run holds the lock; gave up after {waited_s} s (holder: \
                 {holder}); wait for it to finish, or raise --lock-wait",
                holder = escape(holder)
            ),
            Refusal::Blocked(blocked) => {
                let Blocked {
                    what,
                    attempts,
                    cause,
                    lock_timeout_ms,
                    blockers,
                    blocker_pids,
                    error,
                    not_retried,
                } = blocked.as_ref();
                match not_retried {
                    Some(why) => write!(
                        f,
                        "{what} was not done: its only attempt {cause}; it is not retried: {why}"
                    )?,
                    None if *attempts == 1 => write!(
                        f,
                        "{what} was not done: its only attempt {cause}; it was rolled back"
                    )?,
                    None => write!(
                        f,
                        "{what} was not done: in each of its {attempts} attempts it {cause}; the \
                         last attempt was rolled back"
                    )?,
                }
                if blockers.is_empty() {
                    write!(
                        f,
                        "\n  blocked by: not known: pgstrata's second connection saw no session \
                         holding the lock (a wait shorter than its first look, about a quarter \
                         of the lock timeout, or a second connection it could not open)"
                    )?;
                } else {
                    write!(f, "\n  blocked by: {}", escape(blockers))?;
                }
                let end = match blocker_pids.as_slice() {
                    [] => String::new(),
                    [pid] => format!(" (SELECT pg_terminate_backend({pid}))"),
                    pids => format!(
                        " (SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{}]) AS pid)",
                        pids.iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let lock_timeout = if *lock_timeout_ms == 0 {
                    "0, no limit".to_string()
                } else {
                    format!("{lock_timeout_ms} ms")
                };
                if not_retried.is_some() {
                    // More retries would change nothing: only a longer wait helps.
                    write!(
                        f,
                        "\n  hint: wait for the blocking session to finish or end it{end}, then \
                         finish or undo the statement's work and record the outcome with \
                         `pgstrata repair`; or \
                         allow a longer wait: --lock-timeout (now {lock_timeout}), also \
                         PGSTRATA_LOCK_TIMEOUT, lock_timeout in pgstrata.toml, or `-- \
                         pgstrata:lock-timeout` in the file"
                    )?;
                } else {
                    write!(
                        f,
                        "\n  hint: wait for the blocking session to finish or end it{end}, then \
                         run again; or allow longer waits: --lock-timeout (now {lock_timeout}), \
                         --lock-retries (now {}), also PGSTRATA_LOCK_TIMEOUT, \
                         PGSTRATA_LOCK_RETRIES, lock_timeout and lock_retries in pgstrata.toml, \
                         or `-- pgstrata:lock-timeout` in the file",
                        attempts.saturating_sub(1)
                    )?;
                }
                write!(f, "\n  last error: {}", error.replace('\n', "\n    "))
            }
            Refusal::NoTransactionInSingle {
                file,
                version,
                before,
            } => {
                write!(
                    f,
                    "--single-transaction runs every pending migration in one transaction, but \
                     {file} runs outside a transaction (-- pgstrata:no-transaction); nothing was \
                     run. "
                )?;
                match before {
                    Some(before) => write!(
                        f,
                        "Apply the migrations before it in one transaction with \
                         `pgstrata up --single-transaction --to {before}`, then the rest with \
                         `pgstrata up` (or `--to {version}` first)"
                    ),
                    None => write!(
                        f,
                        "Apply it alone with `pgstrata up --to {version}`, then the rest with \
                         `pgstrata up --single-transaction`"
                    ),
                }
            }
            Refusal::DataLoss(refusal) => f.write_str(refusal),
            Refusal::UnknownVersion(version) => write!(
                f,
                "there is no migration {version} in migrations/; `pgstrata status` lists them"
            ),
            Refusal::InvalidIndexes {
                version,
                name,
                every_index,
                indexes,
            } => {
                let (which, them, are) = match indexes.len() {
                    1 => ("an index".to_string(), "it", "is"),
                    n => (format!("{n} indexes"), "each", "are"),
                };
                let lead = if *every_index {
                    // Its file is gone, so nothing says which indexes are its own.
                    format!(
                        "its file is not on disk to say which indexes it builds, and {which} in \
                         the database {are} INVALID"
                    )
                } else {
                    format!("it left {which} INVALID")
                };
                write!(
                    f,
                    "migration {version} ({name}) cannot be recorded as applied: {lead}, as an \
                     interrupted CONCURRENTLY statement does (queries do not use an invalid \
                     index):"
                )?;
                for index in indexes {
                    write!(
                        f,
                        "\n  {}: {}\n    fix: {}",
                        escape(&index.describe()),
                        escape(&index.note),
                        escape(&index.fix_line())
                    )?;
                }
                write!(
                    f,
                    "\n  hint: drop {them} with DROP INDEX CONCURRENTLY, then build it again or \
                     finish the migration by hand, then run `pgstrata repair --version {version} \
                     --mark-applied` again (or, if nothing of the migration is left, `pgstrata \
                     repair --version {version} --forget`)"
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The variant as a JSON report's `kind`: `invalid_project`, `lock_timeout`…
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::InvalidProject(_) => "invalid_project",
            Refusal::Modified { .. } => "modified",
            Refusal::Dirty { .. } => "dirty",
            Refusal::MissingOnDisk { .. } => "missing_on_disk",
            Refusal::OutOfOrder { .. } => "out_of_order",
            Refusal::NotAProject { .. } => "not_a_project",
            Refusal::Irreversible { .. } => "irreversible",
            Refusal::LockTimeout { .. } => "lock_timeout",
            Refusal::UnknownVersion(_) => "unknown_version",
            Refusal::AlreadyManaged(_) => "already_managed",
            Refusal::ForeignHistory(_) => "foreign_history",
            Refusal::Blocked(_) => "blocked",
            Refusal::InvalidIndexes { .. } => "invalid_indexes",
            Refusal::DataLoss(_) => "data_loss",
            Refusal::NoTransactionInSingle { .. } => "no_transaction",
        }
    }
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

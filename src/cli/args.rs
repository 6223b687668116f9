//! Command-line definitions (clap derive) and nothing else: each field's doc comment is its
//! `--help` text, and every default is stated there.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::migrate::project::parse_version_arg;

/// `0.1.0 (git 7f4b384)`, `0.1.0 (git 7f4b384, dirty)` when built from a checkout with
/// uncommitted changes, plain `0.1.0` otherwise (see build.rs).
pub const VERSION: &str = env!("PGSTRATA_VERSION");

/// PostgreSQL migrations with paired rollbacks, idempotent views and schema snapshots.
///
/// A project holds migrations/V<n>__<name>.sql (what to run), rollbacks/V<n>__<name>.sql (how
/// to undo it), views/<view>.sql (views rebuilt after every up and down),
/// schema-snapshots/V<n>__<name>.sql (what migration n changes in the schema) and
/// schema-snapshots/schema.sql (the whole schema at the newest migration).
///
/// Exit codes: 0 success; 1 ran fine but found something (status --exit-code not clean,
/// drift, check findings); 2 error (nothing or only part was done; the message says which).
#[derive(Debug, Parser)]
#[command(name = "pgstrata", version = VERSION, max_term_width = 100)]
pub struct Cli {
    #[command(flatten, next_help_heading = "Global options")]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Database to work on: a URL (postgres://user@host/db) or key=value string. Without it,
    /// read from DATABASE_URL, libpq's PG* variables or database_url in pgstrata.toml; but
    /// `check` reads none of those: it uses a scratch server unless this flag,
    /// PGSTRATA_CHECK_DATABASE_URL or check_database_url in pgstrata.toml names a server for
    /// it [default: none]
    // DATABASE_URL is read by `config`, not clap: `check` must tell the flag from it.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Work on a throwaway PostgreSQL server started for this command and deleted after it
    /// (the default for `check`)
    #[arg(long, global = true)]
    pub scratch: bool,

    /// Project root holding migrations/, rollbacks/, views/ and schema-snapshots/
    /// [default: .]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Settings file [default: DIR/pgstrata.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Profile of the settings file to use: its [env.NAME] table overrides the file's
    /// top-level settings (flags and environment variables still win) [default: none]
    #[arg(
        long = "env",
        global = true,
        env = "PGSTRATA_ENV",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// Do not read DIR/.env. Without this flag its variables (DATABASE_URL, PGSTRATA_*, PG*)
    /// are set for this run, each only when the environment does not set it already
    #[arg(long, global = true)]
    pub no_dotenv: bool,

    /// Report format on stdout; errors always go to stderr as `error: ...`
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Hide the server's NOTICE messages (and INFO, LOG, DEBUG) raised by migrations,
    /// rollbacks and views; WARNINGs are always shown, and JSON reports keep every message
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Schema of pgstrata's own tables (history, views) [default: pgstrata]
    #[arg(
        long,
        global = true,
        env = "PGSTRATA_HISTORY_SCHEMA",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub history_schema: Option<String>,

    /// Seconds to wait for another run's migration lock before giving up [default: 60]
    #[arg(
        long,
        global = true,
        env = "PGSTRATA_LOCK_WAIT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub lock_wait: Option<u64>,

    /// Longest a migration, rollback or view rebuild waits for a table lock before it is
    /// rolled back and retried: while it waits, every later reader and writer of the table
    /// waits behind it. PostgreSQL durations: 500ms, 2s, 1min; 0 for no limit. CONCURRENTLY
    /// statements, whose waits block nobody, are exempt unless the file sets
    /// `-- pgstrata:lock-timeout` [default: 1s]
    #[arg(
        long,
        global = true,
        env = "PGSTRATA_LOCK_TIMEOUT",
        hide_env_values = true,
        value_name = "DURATION",
        value_parser = crate::config::parse_duration
    )]
    pub lock_timeout: Option<Duration>,

    /// How many times a migration that timed out on a lock, deadlocked or hit a
    /// serialization failure is retried, after a growing pause [default: 10]
    #[arg(
        long,
        global = true,
        env = "PGSTRATA_LOCK_RETRIES",
        hide_env_values = true,
        value_name = "N"
    )]
    pub lock_retries: Option<u32>,

    /// Longest any one statement may run, e.g. 10min; 0 for no limit [default: 0]
    #[arg(
        long,
        global = true,
        env = "PGSTRATA_STATEMENT_TIMEOUT",
        hide_env_values = true,
        value_name = "DURATION",
        value_parser = crate::config::parse_duration
    )]
    pub statement_timeout: Option<Duration>,

    #[command(flatten, next_help_heading = "Fleet options")]
    pub fleet: FleetArgs,
}

/// `--targets FILE` and what goes with it: up, down, status, drift or snapshot on many
/// databases (see `cmd::fleet`).
#[derive(Debug, Args, Default)]
pub struct FleetArgs {
    /// Run up, down, status, drift or snapshot on every database listed in FILE instead of
    /// one, each under its own lock: a URL or key=value string per line (blank lines and #
    /// comment lines allowed), or, in a .toml file, [[target]] tables with url, and optionally
    /// name and history_schema. Passwords come from the environment (PGPASSWORD) or
    /// ~/.pgpass, as for one database, and are never printed. Exit code: the worst target's
    /// [default: none]
    #[arg(long, global = true, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// With --targets: how many databases are worked on at once [default: 4]
    #[arg(long, global = true, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,

    /// With --targets: go on with the other databases after one fails [default: start no
    /// new one; those running finish, the rest are reported as not started]
    #[arg(long, global = true)]
    pub keep_going: bool,

    /// With --targets: run the first N databases of the file one at a time before the others,
    /// and stop (even with --keep-going) when one of them fails [default: 0]
    #[arg(long, global = true, value_name = "N")]
    pub canary: Option<usize>,
}

/// `--jobs N`: a positive count.
fn parse_jobs(arg: &str) -> Result<usize, String> {
    arg.parse::<usize>()
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| format!("`{arg}` is not a number of jobs; give 1 to 1024"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations in version order, each in one transaction with its history
    /// row, then rebuild views
    Up {
        /// Stop after this version (5 or V5) [default: apply all]
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg)]
        to: Option<i64>,
        /// Show what would run, each step's SQL included (pgstrata's own statements and the
        /// limits in force too); change nothing, take no lock
        #[arg(long)]
        dry_run: bool,
        /// Apply pending migrations older than the newest applied one (two branches merged)
        /// instead of refusing them; the history records each as applied out of order. Also
        /// allow_out_of_order = true in pgstrata.toml [default: refuse]
        // Boolish: the variable may say true/false, 1/0, yes/no or on/off.
        #[arg(
            long,
            env = "PGSTRATA_ALLOW_OUT_OF_ORDER",
            hide_env_values = true,
            value_parser = clap::builder::BoolishValueParser::new()
        )]
        allow_out_of_order: bool,
        /// Apply every pending migration, its history row and the view rebuild in ONE
        /// transaction: on any error nothing of the run is left. Refused when a pending file
        /// is -- pgstrata:no-transaction
        #[arg(long)]
        single_transaction: bool,
    },
    /// Roll back applied migrations newest first with their rollback files, then rebuild
    /// views [default: the newest one]
    Down {
        /// Roll back every migration newer than this version; 0 rolls back all
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg, conflicts_with = "steps")]
        to: Option<i64>,
        /// Roll back this many migrations [default: 1]
        #[arg(long, value_name = "N", value_parser = parse_steps)]
        steps: Option<usize>,
        /// Show what would run, each step's SQL included, and what each rollback would drop (rehearsed in a
        /// transaction that is rolled back, taking the rollbacks' locks meanwhile); change
        /// nothing, take no migration lock
        #[arg(long)]
        dry_run: bool,
        /// Run rollbacks that drop tables, materialized views or columns holding data.
        /// Without it each rollback is first rehearsed in a transaction that is rolled back
        /// (taking the rollback's locks meanwhile), and refused, naming every object and what
        /// it holds, when it would drop data
        #[arg(long)]
        allow_data_loss: bool,
    },
    /// Roll back the newest applied migration and apply it again
    Redo {
        /// Show what would run, each step's SQL included; change nothing, take no migration
        /// lock (the rollback is still rehearsed for the data-loss guard: see `down --help`)
        #[arg(long)]
        dry_run: bool,
        /// Run the rollback even when it drops tables, materialized views or columns holding
        /// data (see `down --help`)
        #[arg(long)]
        allow_data_loss: bool,
    },
    /// List every version: applied, pending, modified since applied, missing on disk, or
    /// dirty; and every invalid index, with the statements that fix it
    Status {
        /// Exit 1 unless every migration is applied and unchanged and no index is invalid
        /// [default: exit 0]
        #[arg(long)]
        exit_code: bool,
    },
    /// Print the database's schema as a snapshot
    ///
    /// --write refuses a database with an interrupted migration (dirty) and one whose schema
    /// differs from the committed snapshot of its version: writing would hide that drift (or
    /// a hand edit) in the committed file. To rewrite a snapshot from the migrations after
    /// changing one, use `pgstrata check --write-snapshots`.
    Snapshot {
        /// Write what the database's newest applied version changed to its file in
        /// schema-snapshots/ (and, at the newest migration, the whole schema to
        /// schema-snapshots/schema.sql) instead
        #[arg(long)]
        write: bool,
        /// With --write: write the schema as it is, even from a dirty database or over a
        /// committed snapshot it differs from
        #[arg(long, requires = "write")]
        force: bool,
    },
    /// Compare the live schema with the committed snapshot of its applied version (exit 0
    /// same, 1 drift)
    Drift,
    /// Prove the project in CI, on a scratch server unless a server is named for check: every
    /// migration produces its committed snapshot, every rollback restores the schema exactly
    ///
    /// A server is named for check by --database-url on the command line,
    /// PGSTRATA_CHECK_DATABASE_URL, or check_database_url in pgstrata.toml; check then works in
    /// a temporary database it creates on that server and drops after, and drops those that
    /// killed checks left there (only when their maker provably no longer runs). DATABASE_URL,
    /// database_url and libpq's PG* variables never send check to a server.
    ///
    /// An inexact rollback names the class of each difference: column-order,
    /// default-comment-privilege, object-missing-or-extra or definition. A rollback accepts one
    /// class for its own migration with `-- pgstrata:inexact <class> <reason>` in its leading
    /// comments (definition cannot be accepted); an accepted difference is reported as such,
    /// not as a finding. When a step fails, the later migrations check could not reach are
    /// named.
    Check {
        /// Check only migrations from this version on; earlier ones are applied unchecked
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg)]
        from: Option<i64>,
        /// Write schema-snapshots/ (each migration's delta and schema.sql) from what the
        /// migrations produce instead of comparing
        #[arg(long)]
        write_snapshots: bool,
    },
    /// Report statements that lock, rewrite or lose data of existing tables, read from the
    /// migrations and rollbacks alone (no database; exit 0 none, 1 findings)
    ///
    /// Each finding gives a rule id, a severity, file:line:col, what the statement locks,
    /// rewrites or loses, and the safe alternative. A rule never fires on a table the file
    /// created earlier. Data-loss rules (drop-table, drop-column, drop-schema, truncate,
    /// delete-without-where, update-without-where) apply to migrations only. Suppress one
    /// finding with `-- pgstrata:lint-ignore RULE reason` on the line right before the
    /// statement; the reason is required (without it the directive is a `lint-ignore`
    /// finding). `check` reports findings of severity error as its own.
    Lint {
        /// Lint only migrations (and their rollbacks) from this version on
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg)]
        from: Option<i64>,
        /// Lint only these files, migrations or rollbacks of the project [default: all]
        #[arg(value_name = "FILES")]
        files: Vec<PathBuf>,
    },
    /// Make a project: pgstrata.toml (every setting, commented, with its default), migrations/,
    /// rollbacks/, views/ and schema-snapshots/ in DIR; anything already there is kept
    ///
    /// The settings file goes to --config FILE when given. Nothing is overwritten and no file
    /// is read, so running it again, or in an existing project, changes nothing there.
    Init,
    /// Create an empty migration and rollback pair with the next version number
    ///
    /// The version is the UTC time as YYYYMMDDHHMMSS with versioning = "timestamp" in
    /// pgstrata.toml (what `init` writes), else one more than the highest version [default:
    /// sequential]. A time that does not sort after the highest version (two in one second, a
    /// clock behind) becomes the version after it, with a note.
    New {
        /// Name for the files: letters, digits and _ (V<n>__NAME.sql)
        name: String,
    },
    /// Sync triggers generated from a spec (sync/NAME.toml): `new` writes the migration,
    /// `verify` proves it
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Adopt a database pgstrata never managed: write its schema as the first migration
    /// (migrations/V<n>__baseline.sql), a rollback that drops what it creates, and its schema
    /// snapshot, and record it as applied on that database without running it
    ///
    /// Refused, writing nothing, when the database has pgstrata history, when migrations/
    /// holds a version at or below the baseline's or views/ holds files, when one of the
    /// three files exists, and when the database holds objects a snapshot cannot carry
    /// (subscriptions, operators, text search objects, objects in other tablespaces, ...),
    /// which are named.
    Baseline {
        /// The baseline's version (5 or V5); below every migration already in migrations/
        /// [default: 1]
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg)]
        version: Option<i64>,
        /// Adopt the database even though it holds objects a baseline cannot carry: they are
        /// named in a warning, stay in this database, and are not created by the migrations
        /// anywhere else (drift and check do not see them)
        #[arg(long)]
        force: bool,
    },
    /// Take over a database that refinery migrated: check every row of refinery's history
    /// against migrations/ (version, name and refinery's own checksum of the file), then
    /// record them as applied in pgstrata's history
    AdoptRefinery {
        /// refinery's history table, as refinery was given it (`--table-name`): NAME or
        /// SCHEMA.NAME, a part with capitals or dots in "double quotes"
        #[arg(long, value_name = "NAME", default_value = "refinery_schema_history")]
        table: String,
        /// Comment out the BEGIN; and COMMIT; that wrap the whole text of a migration file
        /// refinery applied (refinery ran it in a transaction of its own, where they did
        /// nothing; in pgstrata's one transaction per migration the COMMIT would end it
        /// early). Rewrites those files; commit them. Other transaction control is refused
        #[arg(long)]
        unwrap_transactions: bool,
    },
    /// Convert another tool's migrations into migrations/ and rollbacks/: versions kept,
    /// names cleaned to letters, digits and _, the tool's no-transaction marker translated to
    /// `-- pgstrata:no-transaction`, a missing down made an irreversible rollback with the
    /// reason; every file's bytes copied as they are. Never overwrites: a version the project
    /// has already is refused, and nothing is written
    Import {
        /// The tool that wrote DIR: diesel (`<version>_<name>/up.sql`, `down.sql`,
        /// `metadata.toml`), sqlx (`<version>_<name>.up.sql` and `.down.sql`, or `.sql`),
        /// golang-migrate (`<version>_<name>.up.sql` and `.down.sql`), dbmate
        /// (`<version>_<name>.sql` with `-- migrate:up` and `-- migrate:down`), flyway
        /// (`V<version>__<name>.sql`, undo `U<version>__<name>.sql`)
        #[arg(long, value_enum, value_name = "TOOL")]
        from: ImportFrom,
        /// The folder holding that tool's migrations
        #[arg(value_name = "DIR")]
        source: PathBuf,
    },
    /// Take over a database another tool migrated: check every applied row of its history
    /// table against migrations/ (brought over with `pgstrata import`), then record them as
    /// applied in pgstrata's history, in one transaction
    ///
    /// Checked per tool: diesel and dbmate record versions only; sqlx's name and SHA-384 and
    /// flyway's name and CRC32 of each file are verified; golang-migrate records only the
    /// newest version, and every migration up to it is taken as applied. Refused: a dirty
    /// golang-migrate version, a sqlx or flyway row that did not succeed, flyway baseline,
    /// undo and repeatable rows. The tool's table is left in place.
    Adopt {
        /// The tool whose history table to take over
        #[arg(long, value_enum, value_name = "TOOL")]
        from: AdoptFrom,
        /// Its history table, NAME or SCHEMA.NAME [default: __diesel_schema_migrations,
        /// _sqlx_migrations, schema_migrations (golang-migrate, dbmate),
        /// flyway_schema_history, refinery_schema_history]
        #[arg(long, value_name = "NAME")]
        table: Option<String>,
        /// refinery only: see `adopt-refinery --help`
        #[arg(long)]
        unwrap_transactions: bool,
    },
    /// Print a completion script for a shell, generated from these definitions
    ///
    /// Needs no project. Where each shell reads it:
    ///
    /// bash: `source <(pgstrata completions bash)` in ~/.bashrc
    ///
    /// zsh: `pgstrata completions zsh > ~/.zfunc/_pgstrata`, with ~/.zfunc in fpath
    ///
    /// fish: `pgstrata completions fish > ~/.config/fish/completions/pgstrata.fish`
    ///
    /// PowerShell: `pgstrata completions powershell | Out-String | Invoke-Expression` in
    /// $PROFILE
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these definitions
    ///
    /// `pgstrata man | man -l -` reads it; `pgstrata man --out-dir /usr/local/share/man/man1`
    /// installs a page for pgstrata and one for each command. Needs no project.
    Man {
        /// Write pgstrata.1 and a pgstrata-COMMAND.1 page for each command into this
        /// directory instead of printing pgstrata.1 [default: print]
        #[arg(long = "out-dir", value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Record the outcome of an interrupted no-transaction migration or rollback
    Repair {
        /// The interrupted version
        #[arg(long, value_name = "VERSION", value_parser = parse_version_arg)]
        version: i64,
        /// Its effects are all in place: record it as applied (refused while an index its
        /// CONCURRENTLY statements build is invalid)
        #[arg(long, conflicts_with = "forget", required_unless_present = "forget")]
        mark_applied: bool,
        /// None of its effects are in place: remove it from the history
        #[arg(long)]
        forget: bool,
    },
}

/// `pgstrata sync …`.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Write the next migration and its rollback (V<n>__sync_NAME.sql) from a sync spec:
    /// columns the child lacks, the triggers, their comments and the backfill
    ///
    /// The spec is resolved against the schema the project's migrations produce, applied on a
    /// scratch server (or in a temporary database on the server named with --database-url),
    /// never on the database itself. With backfill_batch the migration runs outside a
    /// transaction and backfills in committed batches, resumable after a crash.
    New {
        /// The spec: a name (sync/NAME.toml in the project) or a path to a .toml file
        spec: String,
    },
    /// Prove a spec's triggers convergent under concurrent writers (exit 0 nothing diverged,
    /// 1 something did)
    ///
    /// On a scratch server, or in a temporary database on a server named with --database-url
    /// (as `check`): applies the project, fills the spec's tables with generated rows, runs
    /// every risky pair of writes in both orders with a second session held open, then
    /// --clients random writers for --seconds, and counts divergent copies.
    Verify {
        /// The spec: a name (sync/NAME.toml in the project) or a path to a .toml file
        spec: String,
        /// Concurrent random writers
        #[arg(long, value_name = "N", default_value_t = 4)]
        clients: u32,
        /// How long the random writers run (0: the interleavings only)
        #[arg(long, value_name = "S", default_value_t = 5.0)]
        seconds: f64,
    },
}

/// The tools `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFrom {
    Diesel,
    Sqlx,
    GolangMigrate,
    Dbmate,
    Flyway,
}

impl From<ImportFrom> for crate::import::Tool {
    fn from(tool: ImportFrom) -> Self {
        use crate::import::Tool;
        match tool {
            ImportFrom::Diesel => Tool::Diesel,
            ImportFrom::Sqlx => Tool::Sqlx,
            ImportFrom::GolangMigrate => Tool::GolangMigrate,
            ImportFrom::Dbmate => Tool::Dbmate,
            ImportFrom::Flyway => Tool::Flyway,
        }
    }
}

/// The tools whose history `adopt` takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdoptFrom {
    Refinery,
    Diesel,
    Sqlx,
    GolangMigrate,
    Dbmate,
    Flyway,
}

/// `--steps N`: a positive count (0 would silently do nothing).
fn parse_steps(arg: &str) -> Result<usize, String> {
    arg.parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{arg}` is not a number of migrations; give 1 or more"))
}

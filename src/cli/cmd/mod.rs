//! Command handlers: settings in, one library call, a report out. The only place that
//! prints (reports to stdout, progress and notes to stderr).

/// `println!` for reports. A reader that goes away (`pgstrata status | head -1`) is not an
/// error: the rest of the report is dropped and the command finishes its work and exits with
/// its own code, where `println!` would panic in the middle of it.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` for reports, with `outln!`'s handling of a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod baseline;
mod check;
mod completions;
mod dotenv;
mod fleet;
mod import;
mod init;
mod lint;
mod man;
mod migrate;
mod new;
mod output;
mod snapshot;
mod status;
mod sync;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use postgres::Client;

use crate::cli::{Cli, Command, Format, SyncCommand};
use crate::config::{self, Overrides, Settings};
use crate::conninfo::ConnInfo;
use crate::error::Refusal;
use crate::files;
use crate::interrupt::{self, CleanupGuard};
use crate::migrate::project::{self, Project};
use crate::notices::Notices;
use crate::scratch::ScratchServer;

/// Exit code: success.
pub const OK: u8 = 0;
/// Exit code: ran fine, found something (not clean, drift, findings).
pub const FOUND: u8 = 1;
/// Exit code: error.
pub const ERROR: u8 = 2;

/// The `pgstrata` binary: parse the command line, run the command, map the outcome to an
/// exit code (0 success, 1 found something, 2 error; 128 + the signal's number when Ctrl-C,
/// SIGTERM or SIGHUP stopped it: 130, 143, 129).
pub(crate) fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    let cli = parse_command_line();
    let outcome = run(cli);
    if interrupt::interrupted() {
        // A stopping signal: what failed was cancelled on purpose; the signal thread cleans
        // up, reports and exits with 128 + the signal's number.
        interrupt::wait_for_handler();
    }
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let args: Vec<String> = std::env::args().collect();
            let message = crate::secrets::redact_args(&format!("{err:#}"), &args);
            // Errors quote the server and the database; no terminal escape gets through.
            eprintln!("error: {}", crate::shown::escape_lines(&message));
            ExitCode::from(ERROR)
        }
    }
}

/// Runs a parsed command line and returns the process exit code. With `--format json`,
/// every failure prints one JSON report (`ok: false`, the error and its `kind`) unless the
/// command printed its own report already: stdout carries exactly one JSON document.
pub fn run(cli: Cli) -> Result<u8> {
    let format = cli.global.format;
    let command = command_name(&cli.command);
    let outcome = run_parsed(cli);
    if let Err(err) = &outcome
        && json(format)
        && !REPORTED.load(Ordering::SeqCst)
    {
        let mut report = serde_json::Map::new();
        report.insert("command".into(), command.into());
        report.insert("ok".into(), false.into());
        report.extend(error_fields(err));
        print_json(&report.into());
    }
    outcome
}

fn run_parsed(cli: Cli) -> Result<u8> {
    // Generated from the definitions alone: no project, settings or .env needed.
    match &cli.command {
        Command::Completions { shell } => return completions::run(*shell),
        Command::Man { out_dir } => return man::run(out_dir.as_deref()),
        _ => {}
    }
    if let Some(err) = DOTENV_ERROR.lock().ok().and_then(|mut e| e.take()) {
        return Err(err);
    }
    interrupt::install_signal_handlers()
        .context("installing the handlers for Ctrl-C, SIGTERM and SIGHUP")?;
    let global = cli.global;
    let fleet_args = global.fleet;
    let database_url_flag = global.database_url.is_some();
    if fleet_args.targets.is_none() {
        fleet::refuse_stray_flags(&fleet_args)?;
    } else if let Command::Init = cli.command {
        bail!("--targets works with up, down, status, drift and snapshot, not init");
    }
    // Before the settings are read: the file may not exist yet, or be broken and kept.
    if let Command::Init = cli.command {
        return init::run(global.dir, global.config, global.format);
    }
    let settings = config::resolve(Overrides {
        dir: global.dir,
        config: global.config,
        database_url: global.database_url,
        scratch: global.scratch,
        history_schema: global.history_schema,
        lock_wait: global.lock_wait,
        lock_timeout: global.lock_timeout,
        lock_retries: global.lock_retries,
        statement_timeout: global.statement_timeout,
        profile: global.profile,
    })?;
    let output = Output {
        format: global.format,
        quiet: global.quiet,
    };
    if let Some(name) = &settings.environment {
        show_environment(name, &cli.command, global.format);
    }
    match &fleet_args.targets {
        Some(file) => fleet::run(
            file,
            &fleet_args,
            &cli.command,
            &settings,
            output,
            database_url_flag,
        ),
        None => dispatch(cli.command, &settings, output).map_err(explain_lost_connection),
    }
}

/// The profile in force, for every report: a first line `environment: NAME` in text (on
/// stderr when stdout carries a schema rather than a report), an `environment` field in JSON.
fn show_environment(name: &str, command: &Command, format: Format) {
    let _ = ENVIRONMENT.set(name.to_string());
    if json(format) {
        return;
    }
    let line = format!("environment: {}", crate::shown::escape(name));
    match command {
        Command::Snapshot { write: false, .. } => eprintln!("{line}"),
        _ => outln!("{line}"),
    }
}

/// The profile in force, once settings are resolved; `print_json` adds it to every report.
static ENVIRONMENT: OnceLock<String> = OnceLock::new();

/// How a command shows what it does: the report's format, and whether the server's notices
/// below WARNING are hidden (`--quiet`; a flag only, like `--format`: how this run's output is
/// read, not a setting of the project that would hide the server's words from everyone).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub format: Format,
    pub quiet: bool,
}

fn dispatch(command: Command, settings: &Settings, output: Output) -> Result<u8> {
    let format = output.format;
    if needs_project(&command) {
        require_project(&settings.dir)?;
    }
    match command {
        // Run by `run_parsed` before settings are read; here for completeness.
        Command::Init => init::run(Some(settings.dir.clone()), None, format),
        Command::Up {
            to,
            dry_run,
            allow_out_of_order,
            single_transaction,
        } => migrate::up(
            settings,
            output,
            to,
            migrate::UpFlags {
                dry_run,
                allow_out_of_order,
                single_transaction,
            },
        ),
        Command::Down {
            to,
            steps,
            dry_run,
            allow_data_loss,
        } => migrate::down(settings, output, to, steps, dry_run, allow_data_loss),
        Command::Redo {
            dry_run,
            allow_data_loss,
        } => migrate::redo(settings, output, dry_run, allow_data_loss),
        Command::Repair {
            version,
            mark_applied,
            forget: _,
        } => migrate::repair(settings, format, version, mark_applied),
        Command::AdoptRefinery {
            table,
            unwrap_transactions,
        } => migrate::adopt_refinery(settings, format, &table, unwrap_transactions),
        Command::Baseline { version, force } => baseline::run(settings, format, version, force),
        Command::Adopt {
            from,
            table,
            unwrap_transactions,
        } => migrate::adopt(
            settings,
            format,
            from,
            table.as_deref(),
            unwrap_transactions,
        ),
        Command::Import { from, source } => import::run(settings, format, from.into(), &source),
        Command::Status { exit_code } => status::run(settings, format, exit_code),
        Command::New { name } => new::run(settings, format, &name),
        Command::Sync(command) => sync::run(settings, output, command),
        Command::Check {
            from,
            write_snapshots,
        } => check::run(settings, output, from, write_snapshots),
        Command::Lint { from, files } => lint::run(settings, output, from, files),
        Command::Snapshot { write, force } => snapshot::snapshot(settings, format, write, force),
        Command::Drift => snapshot::drift(settings, format),
        // Answered in `run_parsed`, before any settings are read.
        Command::Completions { .. } | Command::Man { .. } => Ok(OK),
    }
}

/// Whether a command works on a project's files, and so refuses a directory that is not one
/// (rather than, say, `new` making two folders in the wrong place). Those that do not: `init`
/// makes one; `snapshot` without --write prints a database's schema; `repair --forget` edits
/// the history alone.
fn needs_project(command: &Command) -> bool {
    match command {
        Command::Init => false,
        Command::Snapshot { write, .. } => *write,
        Command::Repair { mark_applied, .. } => *mark_applied,
        _ => true,
    }
}

/// Refuses a directory with neither pgstrata.toml nor migrations/: not a project.
fn require_project(dir: &std::path::Path) -> Result<()> {
    let is_project = |dir: &std::path::Path| {
        files::exists(&dir.join(config::FILE_NAME)) || dir.join("migrations").is_dir()
    };
    if is_project(dir) {
        return Ok(());
    }
    // Run from inside a project (its migrations/ folder, say): `init` there would make a
    // project inside the project, so point at the one around it instead.
    let enclosing = std::path::absolute(dir).ok().and_then(|dir| {
        dir.ancestors()
            .skip(1)
            .find(|d| is_project(d))
            .map(|d| d.display().to_string())
    });
    let dir = if dir == std::path::Path::new(".") {
        "the current directory".to_string()
    } else {
        dir.display().to_string()
    };
    Err(Refusal::NotAProject { dir, enclosing }.into())
}

/// The command's name as the command line spells it, for JSON reports.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Init => "init",
        Command::Up { .. } => "up",
        Command::Down { .. } => "down",
        Command::Redo { .. } => "redo",
        Command::Repair { .. } => "repair",
        Command::AdoptRefinery { .. } => "adopt-refinery",
        Command::Baseline { .. } => "baseline",
        Command::Adopt { .. } => "adopt",
        Command::Import { .. } => "import",
        Command::Status { .. } => "status",
        Command::New { .. } => "new",
        Command::Sync(SyncCommand::New { .. }) => "sync new",
        Command::Sync(SyncCommand::Verify { .. }) => "sync verify",
        Command::Check { .. } => "check",
        Command::Lint { .. } => "lint",
        Command::Snapshot { .. } => "snapshot",
        Command::Drift => "drift",
        Command::Completions { .. } => "completions",
        Command::Man { .. } => "man",
    }
}

/// What a JSON report says about a failure: `error` (the message, as `error: …` on stderr
/// shows it), `kind` and `exit_code`; `problems` for an invalid project; `sqlstate` for an
/// error from the server, with `file`, `line` and `column` where it is located in a file.
///
/// `kind`: a refusal's name (`invalid_project`, `modified`, `dirty`, `missing_on_disk`,
/// `out_of_order`, `irreversible`, `lock_timeout`, `unknown_version`, `blocked`,
/// `invalid_indexes`, `not_a_project`); `connection` (no connection could be made, or it was
/// lost); `database` (the server refused a statement); `error` (anything else: settings,
/// files, usage).
pub(crate) fn error_fields(err: &anyhow::Error) -> serde_json::Map<String, serde_json::Value> {
    use crate::api::ErrorKind;
    let args: Vec<String> = std::env::args().collect();
    let mut fields = serde_json::Map::new();
    let message = crate::secrets::redact_args(&format!("{err:#}"), &args);
    fields.insert("error".into(), message.into());
    // The library's kind, so a program and a pipeline branch on the same names.
    let kind = ErrorKind::of(err);
    match &kind {
        ErrorKind::InvalidProject { problems } => {
            fields.insert("problems".into(), problems.clone().into());
        }
        ErrorKind::Sql {
            sqlstate,
            file,
            line,
            column,
        } => {
            fields.insert("sqlstate".into(), sqlstate.clone().into());
            if let Some(file) = file {
                fields.insert("file".into(), file.clone().into());
            }
            if let (Some(line), Some(column)) = (line, column) {
                fields.insert("line".into(), (*line).into());
                fields.insert("column".into(), (*column).into());
            }
        }
        _ => {}
    }
    fields.insert("kind".into(), kind.name().into());
    fields.insert("exit_code".into(), ERROR.into());
    fields
}

/// A connection lost without the server's reason is shown with what could have caused it; one
/// the server ended carries its reason (`FATAL 57P01: terminating connection due to
/// administrator command`) in the error already.
fn explain_lost_connection(err: anyhow::Error) -> anyhow::Error {
    match crate::db::connection_lost(&err) {
        Some(lost) if lost.reason.is_none() => err.context(
            "the connection to the server broke and the server gave no reason (a network \
             failure, a server crash, or a session ended while it was idle; the server's log \
             says which)",
        ),
        _ => err,
    }
}

/// An open connection to the database a command works on, with what keeps it alive.
pub(crate) struct Target {
    pub client: Client,
    /// How to open more connections to the same database.
    pub info: ConnInfo,
    /// What the server says on `client` beside results (NOTICE, WARNING, …).
    pub notices: Notices,
    _cancel: CleanupGuard,
    // Dropped last: the server outlives the connection.
    _scratch: Option<ScratchServer>,
}

/// Connects to the configured database, or starts a scratch server when asked to.
pub(crate) fn connect(settings: &Settings) -> Result<Target> {
    let notices = Notices::new();
    let (client, info, scratch) = if settings.scratch {
        let server = ScratchServer::start().context("starting a scratch server")?;
        let info = ConnInfo::parse(&server.conninfo("postgres"))?;
        (info.connect_with_notices(&notices)?, info, Some(server))
    } else {
        let info = open_target(settings)?;
        (info.connect_with_notices(&notices)?, info, None)
    };
    let mut client = client;
    crate::migrate::session::prepare(&mut client)?;
    let cancel = interrupt::register_cancel(client.cancel_token());
    Ok(Target {
        client,
        info,
        notices,
        _cancel: cancel,
        _scratch: scratch,
    })
}

/// Loads the project while the connection is being opened: both take a few milliseconds
/// (reading hundreds of files, a server starting a backend), and a no-op `up` is mostly
/// these two. A project error is reported before a connection error; an invalid project
/// still changes nothing, since connecting changes nothing.
pub(crate) fn load_and_connect(settings: &Settings) -> Result<(Project, Target)> {
    let (project, target, ()) = load_and_connect_with(settings, project::load, |_| ())?;
    Ok((project, target))
}

/// `load_and_connect` with the project read by `load` (`project::load`, or
/// `project::load_unparsed` when the files may not need parsing), also running `first` on the
/// new connection while the project is still loading (e.g. reading the history).
pub(crate) fn load_and_connect_with<T: Send>(
    settings: &Settings,
    load: fn(&std::path::Path) -> Result<Project>,
    first: impl FnOnce(&mut Client) -> T + Send,
) -> Result<(Project, Target, T)> {
    std::thread::scope(|scope| {
        let connecting = scope.spawn(|| {
            connect(settings).map(|mut target| {
                let value = first(&mut target.client);
                (target, value)
            })
        });
        let project = load(&settings.dir).map(warned);
        let connected = connecting
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let project = project?;
        let (target, value) = connected?;
        Ok((project, target, value))
    })
}

/// Loads the project and shows its warnings (files ignored that look like SQL) on stderr,
/// whatever the command and the format.
pub(crate) fn load_project(settings: &Settings) -> Result<Project> {
    project::load(&settings.dir).map(warned)
}

/// Shows a loaded project's warnings on stderr.
fn warned(project: Project) -> Project {
    output::size_version_column(&project);
    for warning in &project.warnings {
        eprintln!("warning: {warning}");
    }
    project
}

/// The configured database, read as libpq reads it: the URL (flag, DATABASE_URL or the
/// settings file) completed by PG* variables and the password file; or PG* variables alone.
pub(crate) fn open_target(settings: &Settings) -> Result<ConnInfo> {
    let url = match settings.database_url.as_deref() {
        Some(url) => url,
        None if crate::conninfo::env_names_database() => "",
        None => bail!(
            "no database given: pass --database-url, set DATABASE_URL (or libpq's PGHOST, \
             PGDATABASE...), put database_url in pgstrata.toml, or use --scratch for a \
             throwaway server"
        ),
    };
    let info = ConnInfo::parse_with_env(url)?;
    for note in info.notes() {
        eprintln!("note: {note}");
    }
    Ok(info)
}

/// Whether a JSON report was printed: `run` prints one for a failure only when the command
/// has not.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Prints a value as pretty JSON on stdout: the command's one report.
pub(crate) fn print_json(value: &serde_json::Value) {
    REPORTED.store(true, Ordering::SeqCst);
    let mut value = value.clone();
    if let (Some(report), Some(name)) = (value.as_object_mut(), ENVIRONMENT.get()) {
        report.insert("environment".into(), name.clone().into());
    }
    outln!(
        "{}",
        serde_json::to_string_pretty(&value).expect("JSON values always serialise")
    );
}

/// Whether reports are JSON.
pub(crate) fn json(format: Format) -> bool {
    format == Format::Json
}

/// Parses the command line, after reading the project's `.env` (unless `--no-dotenv`, or the
/// command needs no project): clap reads `PGSTRATA_*` variables while parsing, so a first
/// parse finds `--dir` and `--no-dotenv`, the file is loaded, and a second parse sees its
/// variables. A `.env` that cannot be read is reported by `run` (in the report's format).
/// Must run before any other thread starts: loading `.env` changes the process environment.
pub fn parse_command_line() -> Cli {
    let cli = parse_or_exit();
    if cli.global.no_dotenv
        || matches!(
            cli.command,
            Command::Completions { .. } | Command::Man { .. }
        )
    {
        return cli;
    }
    let dir = cli.global.dir.clone().unwrap_or_else(|| ".".into());
    match dotenv::load(&dir) {
        Ok(0) => cli,
        Ok(_) => parse_or_exit(),
        Err(err) => {
            if let Ok(mut pending) = DOTENV_ERROR.lock() {
                *pending = Some(err);
            }
            cli
        }
    }
}

/// A `.env` that could not be read, for `run` to report.
static DOTENV_ERROR: Mutex<Option<anyhow::Error>> = Mutex::new(None);

/// Parses the command line. On a usage error, prints clap's message with every argument that
/// may carry a password masked (clap quotes arguments: a URL given without `--database-url`
/// comes back as "unrecognized subcommand '<the URL>'") and exits with clap's code (2).
fn parse_or_exit() -> Cli {
    use clap::Parser as _;
    use std::io::IsTerminal as _;
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version quote nothing the user typed.
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            let rendered = if std::io::stderr().is_terminal() {
                err.render().ansi().to_string()
            } else {
                err.render().to_string()
            };
            let mut message = crate::secrets::redact_args(&rendered, &args);
            use clap::error::{ContextKind, ContextValue};
            for kind in [
                ContextKind::InvalidArg,
                ContextKind::InvalidSubcommand,
                ContextKind::InvalidValue,
            ] {
                // An option (`--format`) or a positional's name (`<SHELL>`) is ours, not
                // what the user typed.
                if let Some(ContextValue::String(offending)) = err.get(kind)
                    && !offending.starts_with('-')
                    && !(offending.starts_with('<') && offending.ends_with('>'))
                {
                    message = crate::secrets::redact_offending(&message, offending);
                }
            }
            eprint!("{message}");
            std::process::exit(err.exit_code());
        }
    }
}

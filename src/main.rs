//! The `pgstrata` binary: parse the command line, run the command, map the outcome to an
//! exit code (0 success, 1 found something, 2 error; 128 + the signal's number when Ctrl-C,
//! SIGTERM or SIGHUP stopped it: 130, 143, 129).

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pgstrata::cmd::parse_command_line();
    let outcome = pgstrata::cmd::run(cli);
    if pgstrata::interrupt::interrupted() {
        // A stopping signal: what failed was cancelled on purpose; the signal thread cleans
        // up, reports and exits with 128 + the signal's number.
        pgstrata::interrupt::wait_for_handler();
    }
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let args: Vec<String> = std::env::args().collect();
            let message = pgstrata::secrets::redact_args(&format!("{err:#}"), &args);
            // Errors quote the server and the database; no terminal escape gets through.
            eprintln!("error: {}", pgstrata::shown::escape_lines(&message));
            ExitCode::from(pgstrata::cmd::ERROR)
        }
    }
}

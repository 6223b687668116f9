//! The `pgstrata` binary: the command line is parsed, run and turned into an exit code by the
//! library's `cmd` module (0 success, 1 found something, 2 error; 128 + the signal's number
//! when Ctrl-C, SIGTERM or SIGHUP stopped it: 130, 143, 129).

fn main() -> std::process::ExitCode {
    pgstrata::cli_main()
}

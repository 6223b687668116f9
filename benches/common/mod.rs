//! Helpers the process-timing benchmarks (`up`, `fleet`) share: the `--rounds` argument,
//! running a command that must succeed, and the median of timed rounds.

use std::process::Command;
use std::time::Duration;

/// `-- --rounds N` from the command line, when given.
pub fn rounds_from_args() -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--rounds")?;
    args.get(at + 1)?.parse().ok()
}

/// Runs `command`, panicking with its output when it fails (a benchmark measures only
/// runs that did their work).
pub fn run(command: &mut Command) {
    let output = command.output().expect("starting a process");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

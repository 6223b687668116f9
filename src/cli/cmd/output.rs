//! Text rendering shared by the command handlers: aligned lines, durations, terminal checks.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::migrate::project::Project;
use crate::snapshot::{Change, ChangeKind};

/// Whether stdout is a terminal (progress lines are then written in two halves).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether to colour output: stdout is a terminal and NO_COLOR is unset or empty
/// (https://no-color.org).
pub fn use_color() -> bool {
    stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A unified diff, coloured when [`use_color`] says so.
pub fn paint_diff(unified: &str) -> String {
    if use_color() {
        crate::snapshot::colorize(unified)
    } else {
        unified.to_string()
    }
}

/// `~ function public.f(integer)`, `+ index public.i`, `- policy public.t p`.
pub fn summary_line(change: &Change) -> String {
    let sign = match change.change {
        ChangeKind::Added => '+',
        ChangeKind::Removed => '-',
        ChangeKind::Changed => '~',
    };
    format!("{sign} {}", crate::shown::escape(&change.object))
}

/// `12 ms`, `1.5 s`, `2 min 3 s`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..=9_999 => format!("{ms} ms"),
        10_000..=119_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// `1 migration`, `2 migrations`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_counts() {
        assert_eq!(duration_ms(12), "12 ms");
        assert_eq!(duration_ms(15_400), "15.4 s");
        assert_eq!(duration_ms(123_000), "2 min 3 s");
        assert_eq!(count(1, "migration"), "1 migration");
        assert_eq!(count(0, "migration"), "0 migrations");
    }
}

/// Digits of the version column in this run's tables: the project's longest version (a
/// timestamp has 14), at least 5. Set once the project is loaded.
static VERSION_DIGITS: AtomicUsize = AtomicUsize::new(5);

/// Sizes the version column to `project`'s longest version, so that a table mixing `V1` and
/// `V20261202131506` stays aligned.
pub fn size_version_column(project: &Project) {
    let longest = project
        .migrations
        .iter()
        .map(|m| m.version.to_string().len())
        .max()
        .unwrap_or(0);
    VERSION_DIGITS.store(longest.max(5), Ordering::Relaxed);
}

/// `V12   `: a version padded to the column's width (one more than its digits, for the V).
pub fn version_cell(version: i64) -> String {
    let digits = VERSION_DIGITS.load(Ordering::Relaxed);
    format!("V{version:<digits$}")
}

/// For a table with a heading: the heading `version` and a version cell, as wide as each
/// other.
pub fn version_heading() -> String {
    let width = (VERSION_DIGITS.load(Ordering::Relaxed) + 1).max("version".len());
    format!("{:<width$}", "version")
}

/// A version cell under [`version_heading`].
pub fn version_cell_headed(version: i64) -> String {
    let width = version_heading().len();
    format!("{:<width$}", format!("V{version}"))
}

#[cfg(test)]
mod version_column_tests {
    use super::*;

    #[test]
    fn versions_of_every_length_line_up_under_the_heading() {
        VERSION_DIGITS.store(14, Ordering::Relaxed);
        let heading = version_heading();
        let short = version_cell_headed(1);
        let long = version_cell_headed(20261202131506);
        assert_eq!(heading.len(), 15);
        assert_eq!((short.len(), long.len()), (15, 15));
        assert_eq!(version_cell(1).len(), version_cell(20261202131506).len());
        VERSION_DIGITS.store(5, Ordering::Relaxed);
        assert_eq!(version_heading().len(), "version".len());
        assert_eq!(version_cell_headed(3).len(), "version".len());
    }
}

//! Text rendering shared by the command handlers: aligned lines, durations, terminal checks.

use std::io::IsTerminal;

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

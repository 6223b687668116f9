//! Text rendering shared by the command handlers: aligned lines, durations, terminal checks.

use std::io::IsTerminal;

/// Whether stdout is a terminal (progress lines are then written in two halves).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
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

//! Text read from the database, made safe to print: [`escape`] shows control characters as
//! escapes (`\n`, `\x1b`, `\u{202e}`), so a crafted value (a history row's name, a session's
//! `application_name`, an index name) cannot forge an output line, rewrite the terminal or
//! reorder what is shown. The one helper every printer of database text uses: the text
//! reports in `cmd`, and the errors that quote such text. JSON needs none of it (serde
//! escapes control characters itself).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (C0, DEL, C1) and every bidirectional-formatting
/// character escaped; borrowed when there is none. A backslash is left as it is: what it
/// forges is only a look-alike of an escape, on its own line.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for a message of several lines that pgstrata composed: its line breaks and tabs
/// stay (a quoted file line keeps its tabs, so the caret under it still lines up), every other
/// control character is escaped. Values quoted in it are escaped with [`escape`] first.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    let kept = |c: char| c == '\n' || c == '\t';
    if !text.chars().any(|c| !kept(c) && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(at) = rest.find(kept) {
        out.push_str(&escape(&rest[..at]));
        out.push_str(&rest[at..at + 1]);
        rest = &rest[at + 1..];
    }
    out.push_str(&escape(rest));
    Cow::Owned(out)
}

/// Control characters, and the characters that reorder text when displayed ("Trojan
/// Source", CVE-2021-42574): embeddings, overrides, isolates and the marks.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(escape("add_users"), Cow::Borrowed("add_users")));
        assert_eq!(escape("naïve ✓ \\n"), "naïve ✓ \\n");
        assert_eq!(
            escape("a\nb\r\tc\x1b[31md\x7f\u{85}"),
            "a\\nb\\r\\tc\\x1b[31md\\x7f\\x85"
        );
        assert_eq!(escape("x\u{202e}y\u{2066}"), "x\\u{202e}y\\u{2066}");
        assert_eq!(escape("\0"), "\\x00");
    }

    #[test]
    fn escape_lines_keeps_line_breaks_and_tabs_only() {
        assert!(matches!(escape_lines("a\n\tb"), Cow::Borrowed("a\n\tb")));
        assert_eq!(
            escape_lines("a\n\x1b[2Jb\r\tc\u{202e}"),
            "a\n\\x1b[2Jb\\r\tc\\u{202e}"
        );
    }
}

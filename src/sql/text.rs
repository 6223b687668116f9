//! Positions in SQL text: byte offsets, 1-based line and column, PostgreSQL's character
//! positions, and the source excerpt with a caret that every located error shows.

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, byte_offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, byte_offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based character position (PostgreSQL's error positions count
/// characters of the text sent); `None` when out of range.
pub fn char_position_to_byte(text: &str, position: usize) -> Option<usize> {
    let index = position.checked_sub(1)?;
    text.char_indices()
        .map(|(byte, _)| byte)
        .chain(std::iter::once(text.len()))
        .nth(index)
}

/// The text of the 1-based line `line`, without its newline.
pub fn line_text(text: &str, line: usize) -> &str {
    text.split('\n').nth(line - 1).unwrap_or("")
}

/// The line holding `byte_offset` and a caret under its column, as two lines prefixed with
/// a gutter: ` 12 | SELECT foo FROM t;` / `    |        ^`.
pub fn excerpt(text: &str, byte_offset: usize) -> String {
    let (line, col) = line_col(text, byte_offset);
    caret_lines(line, line_text(text, line), col)
}

/// The gutter-and-caret rendering of one source line.
pub fn caret_lines(line: usize, text: &str, col: usize) -> String {
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    // Tabs keep their width in the caret line so the caret lines up.
    let lead: String = text
        .chars()
        .take(col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!(" {gutter} | {text}\n {pad} | {lead}^")
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "SELECT 'é';\nSELEC x;";
        // The server would report the 'SELEC' at character 13.
        let byte = char_position_to_byte(text, 13).unwrap();
        assert_eq!(&text[byte..byte + 5], "SELEC");
        assert_eq!(line_col(text, byte), (2, 1));
        assert_eq!(line_col(text, text.find('\'').unwrap() + 1), (1, 9));
        assert_eq!(line_text(text, 2), "SELEC x;");
        assert_eq!(char_position_to_byte(text, 0), None);
        assert_eq!(char_position_to_byte(text, 100), None);
    }

    #[test]
    fn excerpt_puts_the_caret_under_the_column() {
        let text = "SELECT 1;\n\tSELEC x;";
        assert_eq!(
            excerpt(text, text.find("SELEC ").unwrap()),
            " 2 | \tSELEC x;\n   | \t^"
        );
    }
}

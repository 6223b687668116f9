//! Comparing two snapshot texts: a unified diff for people, and one summary line per object
//! that was added, removed or changed, found by splitting both texts into blocks at their
//! header lines and comparing the blocks by header.
//!
//! Pure functions of text: no database, no printing, no colour decision (the caller colours
//! only on a terminal and when NO_COLOR is unset, with [`colorize`]).

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use similar::TextDiff;

use super::HEADER_KINDS;
use crate::checksum::normalize;

/// What happened to one object between the expected and the actual snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One object whose block differs, named by its header: `function public.f(integer)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    pub object: String,
}

impl fmt::Display for Change {
    /// `+ index public.x`, `- policy public.t p`, `~ table public.t`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.change {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        };
        write!(f, "{sign} {}", self.object)
    }
}

/// The differences between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// A unified diff (3 lines of context), empty when the texts are equal.
    pub unified: String,
    /// Removed and changed objects in the expected text's order, then added ones in the
    /// actual text's order.
    pub changes: Vec<Change>,
}

impl Comparison {
    /// True when the two texts are identical.
    pub fn is_same(&self) -> bool {
        self.unified.is_empty() && self.changes.is_empty()
    }
}

/// The object name reported when the text before the first block differs.
pub const PREAMBLE_OBJECT: &str = "snapshot header";

/// A snapshot text cut into the text before the first block and the blocks.
#[derive(Debug, PartialEq, Eq)]
pub struct Blocks<'a> {
    pub preamble: &'a str,
    pub blocks: Vec<Block<'a>>,
}

/// One block: its header's object name (`table public.images`) and its whole text, header
/// line included.
#[derive(Debug, PartialEq, Eq)]
pub struct Block<'a> {
    pub object: &'a str,
    pub text: &'a str,
}

/// Splits a snapshot at its header lines. A header is a line `-- <kind> <name>` with a known
/// kind, after an empty line (or at the start) and before a line that starts a statement
/// (`CREATE` or `ALTER`): the context keeps a comment inside a function body from passing for
/// a header in all but contrived cases.
pub fn split_blocks(text: &str) -> Blocks<'_> {
    let lines: Vec<(usize, &str)> = line_starts(text);
    let mut starts: Vec<(usize, &str)> = Vec::new();
    for (i, &(offset, line)) in lines.iter().enumerate() {
        let after_blank = i == 0 || lines[i - 1].1.trim_end().is_empty();
        let before_statement = lines
            .get(i + 1)
            .is_some_and(|(_, next)| next.starts_with("CREATE ") || next.starts_with("ALTER "));
        if let Some(object) = header_object(line)
            && after_blank
            && before_statement
        {
            starts.push((offset, object));
        }
    }
    let preamble_end = starts.first().map_or(text.len(), |(offset, _)| *offset);
    let blocks = starts
        .iter()
        .enumerate()
        .map(|(i, &(offset, object))| {
            let end = starts.get(i + 1).map_or(text.len(), |(next, _)| *next);
            Block {
                object,
                text: &text[offset..end],
            }
        })
        .collect();
    Blocks {
        preamble: &text[..preamble_end],
        blocks,
    }
}

/// Each line's byte offset and its text without the line ending.
fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        out.push((offset, line.trim_end_matches(['\n', '\r'])));
        offset += line.len();
    }
    out
}

/// The object a header line names, if it is a header line.
pub(super) fn header_object(line: &str) -> Option<&str> {
    let object = line.strip_prefix("-- ")?;
    HEADER_KINDS
        .iter()
        .any(|kind| {
            object
                .strip_prefix(kind)
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with(' '))
        })
        .then_some(object)
}

/// Compares two snapshot texts. The labels head the unified diff (`--- expected`,
/// `+++ actual`), e.g. the snapshot file's path and `database`. A byte-order mark and CRLF
/// line ends are not differences: a snapshot file checked out on Windows is still the same.
pub fn compare(
    expected: &str,
    actual: &str,
    expected_label: &str,
    actual_label: &str,
) -> Comparison {
    let (expected, actual) = (normalize(expected), normalize(actual));
    let (expected, actual) = (expected.as_str(), actual.as_str());
    let unified = TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(expected_label, actual_label)
        .to_string();
    let old = split_blocks(expected);
    let new = split_blocks(actual);
    let mut changes = Vec::new();
    if old.preamble != new.preamble {
        changes.push(Change {
            change: ChangeKind::Changed,
            object: PREAMBLE_OBJECT.to_string(),
        });
    }
    let old_blocks = keyed(&old.blocks);
    let new_blocks = keyed(&new.blocks);
    // The blank line that separates a block from the next is not part of the object:
    // removing the last block must not mark the one before it changed. Only when that leaves
    // a difference unexplained (whitespace between blocks) do the exact texts decide.
    let mut block_changes = changed_blocks(&old_blocks, &new_blocks, str::trim_end);
    if block_changes.is_empty() && changes.is_empty() && !unified.is_empty() {
        block_changes = changed_blocks(&old_blocks, &new_blocks, |text| text);
    }
    changes.extend(block_changes);
    Comparison { unified, changes }
}

/// Removed and changed blocks in the old order, then added ones in the new order; block
/// texts compared after `view`.
fn changed_blocks(
    old_blocks: &[((&str, usize), &str)],
    new_blocks: &[((&str, usize), &str)],
    view: fn(&str) -> &str,
) -> Vec<Change> {
    let new_by_key: HashMap<_, _> = new_blocks.iter().map(|(k, t)| (*k, *t)).collect();
    let old_by_key: HashMap<_, _> = old_blocks.iter().map(|(k, t)| (*k, *t)).collect();
    let mut changes = Vec::new();
    for (key, text) in old_blocks {
        let change = match new_by_key.get(key) {
            None => ChangeKind::Removed,
            Some(new_text) if view(new_text) != view(text) => ChangeKind::Changed,
            Some(_) => continue,
        };
        changes.push(Change {
            change,
            object: key.0.to_string(),
        });
    }
    for (key, _) in new_blocks {
        if !old_by_key.contains_key(key) {
            changes.push(Change {
                change: ChangeKind::Added,
                object: key.0.to_string(),
            });
        }
    }
    changes
}

/// Blocks keyed by (object, occurrence), so that a hand-edited text with a repeated header
/// still compares block by block.
fn keyed<'a>(blocks: &[Block<'a>]) -> Vec<((&'a str, usize), &'a str)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    blocks
        .iter()
        .map(|block| {
            let count = seen.entry(block.object).or_insert(0);
            *count += 1;
            ((block.object, *count), block.text)
        })
        .collect()
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Colours a unified diff with ANSI codes: file headers bold, hunk headers cyan, removed
/// lines red, added lines green. Only lines before the first hunk are file headers, so a
/// removed line that itself starts with `--` is still coloured as a removal.
pub fn colorize(unified: &str) -> String {
    let mut out = String::with_capacity(unified.len() + unified.len() / 4);
    let mut in_hunks = false;
    for line in unified.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(content) => (content, "\n"),
            None => (line, ""),
        };
        if content.starts_with("@@") {
            in_hunks = true;
        }
        let colour = match content.chars().next() {
            _ if content.starts_with("@@") => Some(CYAN),
            _ if !in_hunks => Some(BOLD),
            Some('-') => Some(RED),
            Some('+') => Some(GREEN),
            _ => None,
        };
        match colour {
            Some(colour) => out.push_str(&format!("{colour}{content}{RESET}{newline}")),
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests;

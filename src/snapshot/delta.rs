//! Delta snapshots: a version's file holds only what its migration changed, and a version's
//! whole schema is the fold of the deltas up to it.
//!
//! A [`Schema`] is a snapshot text cut into its blocks, keyed by header (`table public.t`).
//! A [`Delta`] is what turns one schema into the next: the whole blocks of the objects added
//! or changed, and the objects removed. [`Delta::between`] makes one, [`Schema::apply`]
//! folds one in, and [`parse_file`] reads a committed file, which is either a delta (its
//! first line is [`DELTA_HEADER`]) or a full snapshot (the layout before deltas, or any
//! text without that line): folding a full snapshot in replaces the whole schema.
//!
//! A delta's text:
//!
//! ```text
//! -- pgstrata schema delta: … (DELTA_HEADER, one line)
//! -- dropped: index public.old_idx
//! -- dropped: table public.old
//!
//! -- table public.t
//! CREATE TABLE "public"."t" (…);
//! ```
//!
//! The `-- dropped: <kind> <name>` markers come right after the first line, before any
//! block; the blocks are whole, as the full snapshot has them, in its order. Order carries
//! no meaning in a fold: [`Schema::text_like`] writes an expected schema in the order of an
//! actual one, so that two schemas with the same blocks give the same text. Pure functions
//! of text: nothing here reads files or a database.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, bail};

use super::HEADER_KINDS;
use super::diff::{header_object, split_blocks};
use super::render::PREAMBLE;

/// The first line of every delta file: says what it is and how to read it.
pub const DELTA_HEADER: &str = "-- pgstrata schema delta: the objects this migration adds or \
     changes, each block whole as in schema.sql; a `-- dropped: <kind> <name>` line for each \
     object it removes. schema-snapshots/schema.sql holds the whole schema at the newest \
     migration.";

/// What opens the line naming a removed object in a delta.
pub const DROPPED: &str = "-- dropped: ";

/// A whole schema: the text before the first block and the blocks, keyed by header. Blocks
/// are stored without the empty line that separates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    header: String,
    blocks: Vec<(String, String)>,
}

/// What one migration changed: the removed objects, and the added or changed blocks whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    dropped: Vec<String>,
    blocks: Vec<(String, String)>,
}

/// A committed per-version file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotFile {
    /// Only what the version changed.
    Delta(Delta),
    /// The whole schema (the format before deltas).
    Full(Schema),
}

impl Schema {
    /// The schema before any migration: no blocks.
    pub fn empty() -> Schema {
        Schema {
            header: PREAMBLE.to_string(),
            blocks: Vec::new(),
        }
    }

    /// Cuts a full snapshot text into its blocks. Blocks that share a header (only a hand
    /// edit makes them) are kept together as one.
    pub fn parse(text: &str) -> Schema {
        let split = split_blocks(text);
        let header = if split.blocks.is_empty() {
            split.preamble.to_string()
        } else {
            strip_separator(split.preamble).to_string()
        };
        Schema {
            header,
            blocks: merge_repeated(split.blocks.iter().map(|b| (b.object, b.text))),
        }
    }

    /// The snapshot text, as `render` writes it.
    #[cfg(test)]
    pub fn text(&self) -> String {
        let mut text = self.header.clone();
        for (_, block) in &self.blocks {
            text.push('\n');
            text.push_str(block);
        }
        text
    }

    /// How many objects.
    pub fn objects(&self) -> usize {
        self.blocks.len()
    }

    /// The text with the blocks `actual` also has in `actual`'s order, each block of only
    /// this schema right after the block it follows here: equal blocks give equal texts
    /// whatever order they were folded in, and a diff with `actual` shows only what differs.
    pub fn text_like(&self, actual: &Schema) -> String {
        let in_actual: HashSet<&str> = actual.blocks.iter().map(|(k, _)| k.as_str()).collect();
        let mine: HashMap<&str, &str> = self
            .blocks
            .iter()
            .map(|(k, t)| (k.as_str(), t.as_str()))
            .collect();
        let mut front: Vec<&str> = Vec::new();
        let mut after: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut anchor: Option<&str> = None;
        for (key, text) in &self.blocks {
            if in_actual.contains(key.as_str()) {
                anchor = Some(key);
            } else {
                match anchor {
                    Some(anchor) => after.entry(anchor).or_default().push(text),
                    None => front.push(text),
                }
            }
        }
        let mut texts: Vec<&str> = front;
        for (key, _) in &actual.blocks {
            if let Some(text) = mine.get(key.as_str()) {
                texts.push(text);
                texts.extend(after.get(key.as_str()).into_iter().flatten());
            }
        }
        let mut text = self.header.clone();
        for block in texts {
            text.push('\n');
            text.push_str(block);
        }
        text
    }

    /// Folds a committed file in: a delta changes the blocks it names, a full snapshot
    /// replaces everything.
    pub fn apply(&mut self, file: &SnapshotFile) {
        match file {
            SnapshotFile::Full(schema) => *self = schema.clone(),
            SnapshotFile::Delta(delta) => self.apply_delta(delta),
        }
    }

    fn apply_delta(&mut self, delta: &Delta) {
        let dropped: HashSet<&str> = delta.dropped.iter().map(String::as_str).collect();
        let changed: HashMap<&str, &str> = delta
            .blocks
            .iter()
            .map(|(k, t)| (k.as_str(), t.as_str()))
            .collect();
        let mut blocks: Vec<(String, String)> = Vec::with_capacity(self.blocks.len());
        for (key, text) in std::mem::take(&mut self.blocks) {
            if dropped.contains(key.as_str()) {
                continue;
            }
            let text = match changed.get(key.as_str()) {
                Some(new) => new.to_string(),
                None => text,
            };
            blocks.push((key, text));
        }
        // An added block goes after the block before it in the delta (it came after it in
        // the schema the delta was made from), the first one after the last block of its
        // kind or an earlier kind.
        let mut at: HashMap<String, usize> = index(&blocks);
        let mut previous: Option<&str> = None;
        for (key, text) in &delta.blocks {
            if !at.contains_key(key) {
                let position = match previous.and_then(|p| at.get(p)) {
                    Some(&p) => p + 1,
                    None => {
                        let rank = kind_rank(key);
                        blocks
                            .iter()
                            .position(|(k, _)| kind_rank(k) > rank)
                            .unwrap_or(blocks.len())
                    }
                };
                blocks.insert(position, (key.clone(), text.clone()));
                at = index(&blocks);
            }
            previous = Some(key);
        }
        self.blocks = blocks;
    }
}

impl Delta {
    /// What turns `before` into `after`: the blocks `after` adds or changes in its order,
    /// and the objects it removes in `before`'s order. Applying it to `before` gives a schema
    /// with `after`'s blocks.
    pub fn between(before: &Schema, after: &Schema) -> Delta {
        let old: HashMap<&str, &str> = before
            .blocks
            .iter()
            .map(|(k, t)| (k.as_str(), t.as_str()))
            .collect();
        let new: HashSet<&str> = after.blocks.iter().map(|(k, _)| k.as_str()).collect();
        Delta {
            dropped: before
                .blocks
                .iter()
                .filter(|(k, _)| !new.contains(k.as_str()))
                .map(|(k, _)| k.clone())
                .collect(),
            blocks: after
                .blocks
                .iter()
                .filter(|(k, t)| old.get(k.as_str()) != Some(&t.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// The file text: [`DELTA_HEADER`], the `-- dropped:` lines, then the blocks.
    pub fn text(&self) -> String {
        let mut text = format!("{DELTA_HEADER}\n");
        for object in &self.dropped {
            text.push_str(&format!("{DROPPED}{object}\n"));
        }
        for (_, block) in &self.blocks {
            text.push('\n');
            text.push_str(block);
        }
        text
    }

    /// True when the migration changed no object.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.dropped.is_empty() && self.blocks.is_empty()
    }
}

/// Reads a committed per-version file: a delta when its first line is [`DELTA_HEADER`]'s,
/// else a full snapshot. A delta with a line before its blocks that is neither a comment nor
/// a well-formed `-- dropped:` line, or that drops an object it also has a block for, is an
/// error (the caller names the file).
pub fn parse_file(text: &str) -> Result<SnapshotFile> {
    let first = text.lines().next().unwrap_or("");
    if !first.starts_with(delta_prefix()) {
        return Ok(SnapshotFile::Full(Schema::parse(text)));
    }
    let split = split_blocks(text);
    let mut dropped = Vec::new();
    for (n, line) in split.preamble.lines().enumerate().skip(1) {
        let line = line.trim_end();
        if let Some(object) = line.strip_prefix(DROPPED) {
            if header_object(&format!("-- {object}")).is_none() {
                bail!(
                    "line {}: `{line}` does not name an object as a block header does \
                     (`-- dropped: <kind> <name>`, e.g. `-- dropped: table public.t`)",
                    n + 1
                );
            }
            dropped.push(object.to_string());
        } else if !line.is_empty() && !line.starts_with("--") {
            bail!(
                "line {}: a delta holds `-- dropped: <kind> <name>` lines, then object blocks \
                 each opened by `-- <kind> <name>`; `{line}` is neither",
                n + 1
            );
        }
    }
    let blocks = merge_repeated(split.blocks.iter().map(|b| (b.object, b.text)));
    if let Some((object, _)) = blocks.iter().find(|(k, _)| dropped.contains(k)) {
        bail!("`{object}` is both dropped and given a block");
    }
    Ok(SnapshotFile::Delta(Delta { dropped, blocks }))
}

/// The words every delta file starts with (the header up to its colon).
fn delta_prefix() -> &'static str {
    let end = DELTA_HEADER.find(':').expect("the header has a colon");
    &DELTA_HEADER[..end]
}

/// Blocks as (key, text without the separating empty line), repeated headers joined.
fn merge_repeated<'a>(blocks: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (key, text) in blocks {
        let text = format!("{}\n", text.trim_end_matches(['\n', '\r']));
        match at.get(key) {
            Some(&i) => {
                out[i].1.push('\n');
                out[i].1.push_str(&text);
            }
            None => {
                at.insert(key, out.len());
                out.push((key.to_string(), text));
            }
        }
    }
    out
}

/// The text before the first block without the empty line that separates it from the block.
fn strip_separator(text: &str) -> &str {
    text.strip_suffix('\n').unwrap_or(text)
}

fn index(blocks: &[(String, String)]) -> HashMap<String, usize> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i))
        .collect()
}

/// Where a header's kind comes in [`HEADER_KINDS`], by the longest kind that matches
/// (`sequence ownership public.s` is not a `sequence`); unknown kinds last.
fn kind_rank(object: &str) -> usize {
    HEADER_KINDS
        .iter()
        .enumerate()
        .filter(|(_, kind)| {
            object
                .strip_prefix(*kind)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .max_by_key(|(_, kind)| kind.len())
        .map_or(HEADER_KINDS.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests;

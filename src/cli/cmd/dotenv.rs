//! The project's `.env` file (in `--dir`): `NAME=value` lines set as environment variables for
//! this run, each only when the environment does not set it already (sqlx-cli's and dbmate's
//! rule, through the dotenvy crate), so a deployment's own variables always win.
//!
//! It is read before the settings are resolved and before clap's final parse, since clap reads
//! the `PGSTRATA_*` variables while parsing. Values are never shown: a malformed line is
//! named by file, line and column only.

use std::path::Path;

use anyhow::{Context, Result, anyhow};

use crate::files;

/// The file's name in the project directory.
pub const FILE_NAME: &str = ".env";

/// Sets the variables of `dir/.env` that the environment does not set yet (of a name
/// repeated in the file, the first), and returns how many it set; none without the file.
///
/// Only while no other thread runs: it changes the process environment.
pub fn load(dir: &Path) -> Result<usize> {
    let path = dir.join(FILE_NAME);
    // Anything there (a directory, a FIFO) is read and refused with the reason.
    if !files::exists(&path) {
        return Ok(0);
    }
    let text = files::read_regular_text(&path, files::MAX_SETTINGS_BYTES)
        .with_context(|| format!("reading {}", path.display()))?;
    let vars = parse(&text).map_err(|at| anyhow!("{}:{at}", path.display()))?;
    let mut set = 0;
    for (name, value) in vars {
        if std::env::var_os(&name).is_none() {
            // SAFETY: called from `parse_command_line`, before any thread of this process
            // starts (the signal handlers' thread comes later), so nothing reads the
            // environment meanwhile.
            unsafe { std::env::set_var(&name, value) };
            set += 1;
        }
    }
    Ok(set)
}

/// The variables of a `.env` text in file order. An error reads `LINE:COLUMN: what`, quoting
/// nothing of the file: its lines hold passwords.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut vars = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => vars.push(pair),
            // At the end of the text: a quote opened on that line is never closed.
            Err(dotenvy::Error::LineParse(line, at)) if at >= line.len() => {
                let (line, _) = locate(text, &line, 0);
                return Err(format!(
                    "{line}:1: a quoted value starts on this line and is never closed (the \
                     line is not shown: it may hold a password)"
                ));
            }
            Err(dotenvy::Error::LineParse(line, at)) => {
                let (line, column) = locate(text, &line, at);
                return Err(format!(
                    "{line}:{column}: not a NAME=value line (a name of letters, digits, _ and \
                     ., then =, then the value, quoted with ' or \" when it has spaces or #; \
                     the line is not shown: it may hold a password)"
                ));
            }
            Err(other) => return Err(format!("cannot be read: {other}")),
        }
    }
    Ok(vars)
}

/// Line and column (1-based, in characters) of byte `at` of `line`, a logical line of `text`
/// (a quoted value may span several) that dotenvy failed to read. The earliest match at the
/// start of a line is it: an identical line before it would have failed first.
fn locate(text: &str, line: &str, at: usize) -> (usize, usize) {
    let start = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .find(|&start| text[start..].starts_with(line))
        .unwrap_or(0);
    let mut offset = (start + at).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_values_quotes_comments_and_export() {
        let text = "\u{feff}# a comment\nDATABASE_URL=postgres://u:pw@h/db\n\nexport A='x y'\n\
                    B=\"two\nlines\" # trailing\nC=${A}!\n";
        assert_eq!(
            parse(text).unwrap(),
            [
                ("DATABASE_URL", "postgres://u:pw@h/db"),
                ("A", "x y"),
                ("B", "two\nlines"),
                ("C", "x y!"),
            ]
            .map(|(n, v)| (n.to_string(), v.to_string()))
        );
    }

    #[test]
    fn a_malformed_line_is_located_and_not_quoted() {
        for (text, at) in [
            ("A=1\nB=2\nthis is s3cr3t\n", "3:6"),
            ("A=1\n  B s3cr3t=2\n", "2:5"),
            ("A=1\nB='s3cr3t\nC=3\n", "2:1"),
            ("A=1\nA=1\nA 1 s3cr3t\n", "3:3"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(&format!("{at}: ")), "{text:?}: {err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}

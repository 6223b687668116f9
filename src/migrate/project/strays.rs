//! Names in migrations/, rollbacks/ and views/ that pgstrata does not read as SQL but that
//! look like SQL it should: near misses (`V3__x.SQL`, `V3__x.sql.txt`) are errors naming the
//! file, editor and backup copies (`V3__x.sql~`, `.V3__x.sql.swp`) warnings. Names only: no
//! file is opened here.

use anyhow::Result;

use super::Source;

/// What a name in migrations/, rollbacks/ or views/ that is not read as SQL means.
#[derive(Debug, PartialEq, Eq)]
enum Stray {
    /// Not meant to run (README.md, .gitkeep): ignored without a word.
    Ignore,
    /// A copy left by an editor, a backup or a merge tool: ignored, with a warning.
    Warn(String),
    /// Meant to run, but would silently never run: an error naming the file.
    Refuse(String),
}

/// Files pgstrata does not read but that look like SQL it should: refusals go to `problems`,
/// the rest to `warnings` (printed by every command that loads the project).
pub(super) fn stray_files(
    source: Source<'_>,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for folder in ["migrations", "rollbacks", "views"] {
        let mut names: Vec<String> = source
            .entries(folder)?
            .into_iter()
            .filter(|entry| !entry.is_dir)
            .map(|entry| entry.name)
            .collect();
        names.sort();
        for name in names {
            match stray_name(folder, &name) {
                Stray::Refuse(problem) => problems.push(problem),
                Stray::Warn(warning) => warnings.push(warning),
                Stray::Ignore => {}
            }
        }
    }
    Ok(())
}

/// Classifies a name that `sql_files` does not take. The choice per case:
/// - a copy left by an editor or a tool (`x.sql~`, `.x.sql.swp`, `#x.sql#`, `.#x.sql`,
///   `x.sql.bak`, `.orig`, `.rej`...) is a warning: editors make them beside the file being
///   edited, so refusing them would stop `pgstrata status` whenever a migration is open, and a
///   copy never runs; the warning says so in case the copy is the text that was meant to run;
/// - `.SQL` (any case but lower) is an error: the file was meant to run and would silently
///   never run (and on a case-insensitive file system it looks like any other migration);
/// - in migrations/ and rollbacks/, a versioned name (`V3__x`, `v3__x`) with another ending
///   (`V3__x.sql.txt`, `V3__x.psql`, none) is an error for the same reason. Other names
///   (README.md, .gitkeep) are ignored.
fn stray_name(folder: &str, name: &str) -> Stray {
    let relative = format!("{folder}/{name}");
    if is_leftover(name) {
        return if name.to_ascii_lowercase().contains(".sql") {
            Stray::Warn(format!(
                "{relative} is ignored: it looks like an editor, backup or merge copy of a SQL \
                 file; delete it when done, or move it out of {folder}/"
            ))
        } else {
            Stray::Ignore
        };
    }
    if name.ends_with(".sql") {
        return Stray::Ignore;
    }
    let split = name
        .len()
        .checked_sub(4)
        .filter(|&i| name.is_char_boundary(i));
    if let Some((stem, ext)) = split.map(|i| name.split_at(i))
        && ext.eq_ignore_ascii_case(".sql")
    {
        return Stray::Refuse(format!(
            "{relative}: ends in `{ext}`, but only files ending in `.sql` (lower case) are \
             read, so it would never run; rename it to {stem}.sql"
        ));
    }
    let versioned = name
        .strip_prefix(['V', 'v'])
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    if versioned && folder != "views" {
        return Stray::Refuse(format!(
            "{relative}: looks like a migration but does not end in `.sql`, so it would never \
             run; rename it to V{{n}}__{{name}}.sql, or move it out of {folder}/"
        ));
    }
    Stray::Ignore
}

/// A copy an editor, a backup or a merge tool leaves beside a file.
pub(super) fn is_leftover(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        ".bak", ".orig", ".rej", ".swp", ".swo", ".swx", ".tmp", ".old", ".save", ".backup",
    ];
    let lower = name.to_ascii_lowercase();
    name.ends_with('~')
        || name.starts_with(".#")
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || SUFFIXES.iter().any(|suffix| lower.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_refused_copies_warned_and_the_rest_ignored() {
        let refused = [
            ("migrations", "V3__x.SQL"),
            ("migrations", "V3__x.Sql"),
            ("views", "v.SQL"),
            ("migrations", "V3__x.sql.txt"),
            ("rollbacks", "V3__x"),
            ("migrations", "v3__x.psql"),
        ];
        for (folder, name) in refused {
            assert!(
                matches!(stray_name(folder, name), Stray::Refuse(ref m) if m.starts_with(&format!("{folder}/{name}: "))),
                "{folder}/{name}"
            );
        }
        let warned = [
            "V3__x.sql~",
            "V3__x.sql.bak",
            ".V3__x.sql.swp",
            "#V3__x.sql#",
            ".#V3__x.sql",
            "V3__x.sql.orig",
            "V3__x.SQL.rej",
        ];
        for name in warned {
            assert!(
                matches!(stray_name("migrations", name), Stray::Warn(_)),
                "{name}"
            );
            assert!(is_leftover(name), "{name}");
        }
        for name in [
            "README.md",
            ".gitkeep",
            "notes.txt~",
            "V3__x.sql",
            "view.sql",
        ] {
            assert_eq!(stray_name("migrations", name), Stray::Ignore, "{name}");
        }
        assert_eq!(stray_name("views", "v2_notes.txt"), Stray::Ignore);
    }
}

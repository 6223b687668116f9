//! `init`: makes a project in `--dir` (pgstrata.toml and the four folders) and says what to do
//! next. It never overwrites: whatever is already there is kept and reported. It reads no
//! settings (the file it would read may be the one it is about to write) and touches no
//! database.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::{OK, json, print_json};
use crate::cli::Format;
use crate::config::FILE_NAME;
use crate::files;

/// The settings file `init` writes: every setting commented out with its default and what it
/// does, and `versioning = "timestamp"` set for the new project.
pub(crate) const SETTINGS_TEMPLATE: &str = include_str!("init/pgstrata.toml");

/// The project's folders, as the rest of pgstrata names them.
const FOLDERS: [&str; 4] = ["migrations", "rollbacks", "views", "schema-snapshots"];

/// Refuses, before making anything, what would leave a project that does not work though
/// `init` said it was kept: a folder's name taken by something that is not a folder, a
/// settings file that is not a regular file (a dangling symlink, a folder), a `--config`
/// whose folder does not exist.
fn refuse_what_is_in_the_way(dir: &Path, settings: &Path) -> Result<()> {
    for folder in FOLDERS {
        let path = dir.join(folder);
        if files::exists(&path) && !path.is_dir() {
            bail!(
                "{} exists and is not a folder; move it away, then run `pgstrata init` again \
                 (nothing was made)",
                path.display()
            );
        }
    }
    if files::exists(settings) && !settings.is_file() {
        bail!(
            "{} exists and is not a regular file (a folder, or a symlink to nothing); move it \
             away, then run `pgstrata init` again (nothing was made)",
            settings.display()
        );
    }
    if let Some(parent) = settings.parent().filter(|p| !p.as_os_str().is_empty())
        && parent != dir
        && !parent.is_dir()
    {
        bail!(
            "{} is not a folder, so the settings file cannot go there; make it first \
             (nothing was made)",
            parent.display()
        );
    }
    Ok(())
}

/// Makes the project in `dir` (`.` when `None`), its settings file at `config` when given
/// (`--config`), else in `dir`.
pub fn run(dir: Option<PathBuf>, config: Option<PathBuf>, format: Format) -> Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let (settings, shown) = match config {
        Some(path) => (path.clone(), path.display().to_string()),
        None => (dir.join(FILE_NAME), FILE_NAME.to_string()),
    };
    refuse_what_is_in_the_way(&dir, &settings)?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut created = Vec::new();
    let mut kept = Vec::new();
    if write_new(&settings, SETTINGS_TEMPLATE)? {
        created.push(shown);
    } else {
        kept.push(shown);
    }
    for folder in FOLDERS {
        let path = dir.join(folder);
        let shown = format!("{folder}/");
        if files::exists(&path) {
            kept.push(shown);
            continue;
        }
        fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        created.push(shown);
    }
    let next = next_steps(&dir);
    if json(format) {
        print_json(&json!({
            "command": "init",
            "ok": true,
            "dir": dir.display().to_string(),
            "created": created,
            "kept": kept,
            "next": next.iter().map(|(command, _)| command).collect::<Vec<_>>(),
        }));
        return Ok(OK);
    }
    for path in &created {
        outln!("created {path}");
    }
    for path in &kept {
        outln!("kept {path} (already there)");
    }
    outln!("next:");
    let width = next
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    for (command, why) in &next {
        outln!("  {command:<width$}  {why}");
    }
    Ok(OK)
}

/// Writes `text` to a new file at `path`; false, writing nothing, when anything is there
/// already (a file, a folder, a dangling link).
fn write_new(path: &Path, text: &str) -> Result<bool> {
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(err) => return Err(err).with_context(|| format!("creating {}", path.display())),
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// What to run next, with why: (command, what it does).
fn next_steps(dir: &Path) -> Vec<(String, &'static str)> {
    let mut steps = Vec::new();
    if dir != Path::new(".") {
        steps.push((
            format!("cd {}", dir.display()),
            "the commands below work there (or pass --dir)",
        ));
    }
    steps.extend([
        (
            "pgstrata new create_first_table".to_string(),
            "writes a migration and its rollback to fill in",
        ),
        (
            "export DATABASE_URL=postgres://USER@HOST/DB".to_string(),
            "the database (or database_url in pgstrata.toml)",
        ),
        ("pgstrata up".to_string(), "applies the pending migrations"),
        (
            "pgstrata check".to_string(),
            "proves them and their rollbacks on a scratch server",
        ),
    ]);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Versioning, known_keys, parse_file};

    #[test]
    fn the_template_parses_and_sets_timestamp_versioning() {
        let settings = parse_file(SETTINGS_TEMPLATE).unwrap();
        assert_eq!(settings.versioning, Some(Versioning::Timestamp));
    }

    /// Every key the file accepts is in the template, explained on the line above it, with a
    /// value the file accepts: a key added to `FileSettings` without its lines here fails.
    #[test]
    fn the_template_shows_every_setting_with_a_valid_default() {
        let lines: Vec<&str> = SETTINGS_TEMPLATE.lines().collect();
        let uncommented: Vec<&str> = lines
            .iter()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with("[env.") => rest,
                _ => line,
            })
            .collect();
        parse_file(&uncommented.join("\n")).unwrap();
        for key in known_keys() {
            // A profile is a table: `[env.NAME]`, not `env = …`.
            let start = match key {
                "env" => "[env.".to_string(),
                key => format!("{key} = "),
            };
            let at = uncommented.iter().position(|line| line.starts_with(&start));
            let Some(at) = at else {
                panic!("{key} is missing from init's pgstrata.toml");
            };
            assert!(
                at > 0 && lines[at - 1].starts_with("# ") && !lines[at - 1].contains(" = "),
                "{key} has no explanation above it"
            );
        }
    }
}

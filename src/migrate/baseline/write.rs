//! The baseline's files (migration, rollback, delta snapshot, and schema.sql), each created whole or not at all and never over an existing
//! file: written to a temporary file in its folder, synced, then linked to its name
//! (`link(2)` fails when the name exists, where `rename(2)` would replace it).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::files;

/// The folders the baseline writes to, in the order of [`Files::write`]'s texts.
const FOLDERS: [&str; 3] = ["migrations", "rollbacks", "schema-snapshots"];

/// The whole schema at the newest migration (as `check` names it).
pub const SCHEMA_FILE: &str = "schema-snapshots/schema.sql";

/// Where the baseline's migration, rollback, delta snapshot and schema.sql go.
pub struct Files {
    paths: Vec<(String, PathBuf)>,
}

/// Files this baseline created: [`Written::remove`] takes them away again.
#[must_use = "the files are removed again when recording the baseline fails"]
pub struct Written {
    paths: Vec<PathBuf>,
}

impl Files {
    /// `with_schema`: schema.sql too.
    pub fn new(root: &Path, file_name: &str, with_schema: bool) -> Files {
        let mut relatives: Vec<String> = FOLDERS
            .iter()
            .map(|folder| format!("{folder}/{file_name}"))
            .collect();
        if with_schema {
            relatives.push(SCHEMA_FILE.to_string());
        }
        let paths = relatives
            .into_iter()
            .map(|relative| {
                let path = root.join(&relative);
                (relative, path)
            })
            .collect();
        Files { paths }
    }

    /// Refuses, before anything is written, when any of the names is taken.
    pub fn refuse_existing(&self) -> Result<()> {
        let taken: Vec<&str> = self
            .paths
            .iter()
            .filter(|(_, path)| files::exists(path))
            .map(|(relative, _)| relative.as_str())
            .collect();
        if !taken.is_empty() {
            bail!(
                "{} already exists; the baseline never overwrites a file: move it away or give \
                 the baseline another version with --version N",
                taken.join(", ")
            );
        }
        Ok(())
    }

    /// Creates the migration, the rollback, the delta snapshot and (when asked for)
    /// schema.sql with these texts; on failure, removes those already created.
    pub fn write(
        &self,
        migration: &str,
        rollback: &str,
        delta: &str,
        schema: &str,
    ) -> Result<Written> {
        let mut written = Written { paths: Vec::new() };
        let texts = [migration, rollback, delta, schema];
        for ((relative, path), text) in self.paths.iter().zip(texts) {
            if let Err(err) = create_new(path, text) {
                let _ = written.remove();
                return Err(err.context(format!("writing {relative}")));
            }
            written.paths.push(path.clone());
        }
        Ok(written)
    }
}

impl Written {
    /// Removes the files this baseline created.
    pub fn remove(self) -> Result<()> {
        for path in &self.paths {
            fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
        }
        Ok(())
    }
}

/// Creates `path` with `text`, whole (a reader never sees it half written) and only if the
/// name is free.
fn create_new(path: &Path, text: &str) -> Result<()> {
    let folder = path.parent().expect("a file in a folder");
    fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let temporary = folder.join(format!(".pgstrata-baseline-{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::hard_link(&temporary, path).map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} was created meanwhile; it is left as it is",
                    path.display()
                )
            } else {
                anyhow::Error::new(err)
            }
        })
    })();
    let _ = fs::remove_file(&temporary);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_created_but_never_replaced() {
        let root =
            std::env::temp_dir().join(format!("pgstrata-baseline-write-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let files = Files::new(&root, "V1__baseline.sql", true);
        files.refuse_existing().unwrap();
        let written = files.write("m", "r", "s", "whole").unwrap();
        assert_eq!(
            fs::read_to_string(root.join("rollbacks/V1__baseline.sql")).unwrap(),
            "r"
        );
        let err = files.refuse_existing().unwrap_err().to_string();
        assert!(
            err.contains("migrations/V1__baseline.sql, rollbacks/V1__baseline.sql"),
            "{err}"
        );
        // A name taken between the check and the write is left alone, and nothing stays.
        fs::remove_file(root.join("migrations/V1__baseline.sql")).unwrap();
        fs::remove_file(root.join("rollbacks/V1__baseline.sql")).unwrap();
        fs::remove_file(root.join(SCHEMA_FILE)).unwrap();
        let err = format!("{:#}", files.write("m2", "r2", "s2", "w2").err().unwrap());
        assert!(err.contains("created meanwhile"), "{err}");
        assert_eq!(
            fs::read_to_string(root.join("schema-snapshots/V1__baseline.sql")).unwrap(),
            "s"
        );
        assert!(!root.join("migrations/V1__baseline.sql").exists());
        let leftovers: Vec<_> = fs::read_dir(root.join("migrations")).unwrap().collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        drop(written);
        fs::remove_dir_all(&root).unwrap();
    }
}

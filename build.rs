//! Build script: names the git commit the binary is built from, for `pgstrata --version`
//! (`0.1.0 (git 7f4b384)`, `, dirty` added when tracked files differ from it). Outside a git
//! checkout of this package (a crates.io download, a source archive) or without git, the
//! version is the package's alone. It must never fail the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    let full = match commit(&manifest_dir) {
        Some((hash, dirty)) => {
            watch_git(&manifest_dir);
            let dirty = if dirty { ", dirty" } else { "" };
            format!("{version} (git {hash}{dirty})")
        }
        None => version.to_string(),
    };
    println!("cargo:rustc-env=PGSTRATA_VERSION={full}");
}

/// `git` run in `dir`, its trimmed stdout when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The short hash of HEAD and whether tracked files differ from it, when `dir` is the top of
/// a git checkout. The top only: a crate unpacked inside some other repository (a vendored
/// copy, a home directory under git) must not claim that repository's commit.
fn commit(dir: &Path) -> Option<(String, bool)> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    let hash = git(dir, &["rev-parse", "--short", "HEAD"])?;
    let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    Some((hash, dirty))
}

/// Reruns this script when HEAD moves (a checkout, a commit on the branch), when the index
/// changes (staging, committing), and when the sources change (which may make the checkout
/// dirty or clean again). Only paths that exist: cargo reruns a script every time for a
/// missing one.
fn watch_git(dir: &Path) {
    let mut paths: Vec<PathBuf> = ["src", "Cargo.toml", "Cargo.lock"]
        .iter()
        .map(|p| dir.join(p))
        .collect();
    // In a worktree HEAD and the index live in its own git dir, branches in the common one.
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        paths.push(git_dir.join("HEAD"));
        paths.push(git_dir.join("index"));
    }
    if let Some(common) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    ) {
        let common = PathBuf::from(common);
        paths.push(common.join("packed-refs"));
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            paths.push(common.join(branch));
        }
    }
    for path in paths.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

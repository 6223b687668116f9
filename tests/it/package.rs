//! What an installed binary carries besides its commands: shell completions, the man page
//! and a version naming its commit, all usable outside any project.

use std::path::Path;
use std::process::Command;

use crate::harness::{TempDir, pgstrata, run};

/// Every command, as the completions and the man page must know them.
const COMMANDS: &[&str] = &[
    "up",
    "down",
    "redo",
    "status",
    "snapshot",
    "drift",
    "check",
    "lint",
    "new",
    "adopt-refinery",
    "repair",
    "completions",
    "man",
];

/// A directory that is no project, with a `.env` and a settings file that would both fail
/// any command reading them: completions and the man page must read neither.
fn not_a_project() -> TempDir {
    TempDir::with_files(&[
        (".env", "this is not a NAME=value line\n"),
        ("pgstrata.toml", "unknown_key = 1\n"),
    ])
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn bash_loads_the_completion_script() {
    let dir = not_a_project();
    let script = "source <(\"$PGSTRATA\" completions bash) && complete -p pgstrata && \
                  declare -F _pgstrata";
    let (code, out, err) = run(Command::new("bash")
        .args(["-c", script])
        .env("PGSTRATA", env!("CARGO_BIN_EXE_pgstrata"))
        .current_dir(&dir.path));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("-F _pgstrata pgstrata") && out.lines().last() == Some("_pgstrata"),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");
}

#[test]
fn bash_completes_commands_and_flags() {
    // What bash offers after `pgstrata ` and `pgstrata up --`.
    let script = "source <(\"$PGSTRATA\" completions bash)
        COMP_WORDS=(pgstrata ''); COMP_CWORD=1; _pgstrata pgstrata '' pgstrata
        echo \"${COMPREPLY[*]}\"
        COMP_WORDS=(pgstrata up --); COMP_CWORD=2; _pgstrata pgstrata -- up
        echo \"${COMPREPLY[*]}\"";
    let (code, out, err) = run(Command::new("bash")
        .args(["-c", script])
        .env("PGSTRATA", env!("CARGO_BIN_EXE_pgstrata")));
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let commands: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    for command in COMMANDS {
        assert!(commands.contains(command), "{command} not offered: {out}");
    }
    let flags = lines.next().unwrap_or("");
    for flag in [
        "--dry-run",
        "--to",
        "--env",
        "--no-dotenv",
        "--database-url",
    ] {
        assert!(
            flags.split(' ').any(|f| f == flag),
            "{flag} not offered: {flags}"
        );
    }
}

#[test]
fn zsh_fish_and_powershell_scripts_name_every_command() {
    let dir = not_a_project();
    for (shell, checker) in [
        ("zsh", Some(["zsh", "-n"])),
        ("fish", Some(["fish", "--no-execute"])),
        ("powershell", None),
    ] {
        let (code, out, err) = run(pgstrata()
            .args(["completions", shell])
            .current_dir(&dir.path));
        assert_eq!(code, 0, "{shell}: {err}");
        for command in COMMANDS {
            assert!(out.contains(command), "{shell}: {command} missing");
        }
        // Where the shell is installed, it must also accept the script's syntax.
        if let Some([program, flag]) = checker
            && has(program)
        {
            let file = dir.path.join(format!("completions.{shell}"));
            std::fs::write(&file, &out).unwrap();
            let (code, _, err) = run(Command::new(program).arg(flag).arg(&file));
            assert_eq!(code, 0, "{shell} refuses its script: {err}");
        }
    }
    let (code, _, err) = run(pgstrata().args(["completions", "tcsh"]));
    assert_eq!(code, 2, "an unknown shell is a usage error");
    assert!(err.contains("possible values"), "{err}");
}

#[test]
fn the_man_page_renders_with_every_command() {
    let dir = not_a_project();
    let (code, page, err) = run(pgstrata().arg("man").current_dir(&dir.path));
    assert_eq!(code, 0, "{err}");
    assert!(
        page.starts_with(".ie") || page.contains(".TH pgstrata 1"),
        "{page}"
    );
    // Rendered as a reader sees it (groff is what man uses), else the roff source.
    let text = if has("groff") {
        let file = dir.path.join("pgstrata.1");
        std::fs::write(&file, &page).unwrap();
        let (code, text, err) = run(Command::new("groff")
            // No hyphenation, no bold or underline by overstriking, long lines: plain text.
            .args(["-man", "-Tutf8", "-ww", "-rHY=0", "-rLL=200n", "-P-cbou"])
            .arg(&file));
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("warning"), "groff: {err}");
        text
    } else {
        page.clone()
    };
    let text = text.replace(['\u{2010}', '\u{2212}'], "-");
    for expected in ["pgstrata", "--database-url", "--env", "--no-dotenv"] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    for command in COMMANDS {
        assert!(
            text.lines().any(
                |l| l.trim_start().starts_with(&format!("pgstrata-{command}"))
                    || l.trim() == *command
                    || l.trim_start().starts_with(&format!("{command}  "))
            ),
            "{command} missing:\n{text}"
        );
    }
}

#[test]
fn man_out_dir_writes_a_page_per_command() {
    let dir = not_a_project();
    let out = dir.path.join("man/man1");
    let (code, stdout, err) = run(pgstrata()
        .arg("man")
        .arg("--out-dir")
        .arg(&out)
        .current_dir(&dir.path));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    let page = |name: &str| std::fs::read_to_string(out.join(name));
    assert!(page("pgstrata.1").unwrap().contains(".TH pgstrata 1"));
    for command in COMMANDS {
        let text = page(&format!("pgstrata-{command}.1"))
            .unwrap_or_else(|e| panic!("pgstrata-{command}.1: {e}"));
        assert!(
            text.contains(&format!(".TH pgstrata-{command} 1")),
            "{text}"
        );
    }
}

/// `git` in the repository, when git and a checkout are there.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let (code, out, err) = run(pgstrata().arg("--version"));
    assert_eq!(code, 0, "{err}");
    let version = out.trim();
    let package = concat!("pgstrata ", env!("CARGO_PKG_VERSION"));
    let top =
        git(&["rev-parse", "--show-toplevel"]).and_then(|t| Path::new(&t).canonicalize().ok());
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().ok();
    match (top, git(&["rev-parse", "--short", "HEAD"])) {
        (Some(top), Some(hash)) if Some(&top) == here.as_ref() => {
            let clean = format!("{package} (git {hash})");
            let dirty = format!("{package} (git {hash}, dirty)");
            assert!(
                version == clean || version == dirty,
                "{version:?}, expected {clean:?} or {dirty:?}"
            );
        }
        // Built from a source archive, or without git: the package's version alone.
        _ => assert_eq!(version, package),
    }
}

//! The CI recipes shipped in `examples/` work: every `pgstrata` command their steps run is run,
//! as the CI shell would (bash, errexit and pipefail), against this repository's project and a
//! test database standing for staging and production, and must exit 0.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{TempDir, TestDb, history, repository, run, up};

/// The `pgstrata` command lines of a GitHub Actions workflow (`run:` steps) or a GitLab CI file
/// (`script:` items), in file order. Kept simple on purpose: a command is a line (continued
/// with a trailing `\`) that starts with `pgstrata ` once the YAML around it (`- `, `run: `)
/// is removed; comments never count.
fn pgstrata_commands(yaml: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending: Option<String> = None;
    for line in yaml.lines() {
        let text = line.trim();
        if let Some(mut command) = pending.take() {
            command.push(' ');
            command.push_str(text.trim_end_matches('\\').trim());
            if text.ends_with('\\') {
                pending = Some(command);
            } else {
                commands.push(command);
            }
            continue;
        }
        let text = text.strip_prefix("- ").unwrap_or(text).trim_start();
        let text = text.strip_prefix("run:").unwrap_or(text).trim_start();
        if !text.starts_with("pgstrata ") {
            continue;
        }
        if let Some(head) = text.strip_suffix('\\') {
            pending = Some(head.trim_end().to_string());
        } else {
            commands.push(text.to_string());
        }
    }
    commands
}

/// A copy of this repository's project (migrations, rollbacks, views, snapshots) to run the
/// recipes in: they write their reports into the working directory.
fn project_copy() -> TempDir {
    let copy = TempDir::new();
    for folder in ["migrations", "rollbacks", "views", "schema-snapshots"] {
        let from = repository().join(folder);
        std::fs::create_dir_all(copy.path.join(folder)).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), copy.path.join(folder).join(entry.file_name())).unwrap();
        }
    }
    copy
}

/// The versions of the project's migrations, in order (from `V{n}__{name}.sql`).
fn versions(dir: &Path) -> Vec<i64> {
    let mut versions: Vec<i64> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            name.strip_prefix('V')?.split_once("__")?.0.parse().ok()
        })
        .collect();
    versions.sort();
    versions
}

/// Runs one recipe line with bash as CI runs it (`bash -eo pipefail`), with the test's
/// `pgstrata` first on PATH, `DATABASE_URL` naming `db`, and the variables the recipes pass
/// to their rollback steps.
fn run_step(line: &str, dir: &Path, db: &TestDb, to: i64) -> (i32, String, String) {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_pgstrata"));
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let mut bash = Command::new("bash");
    // As the harness does for pgstrata: nothing from the developer's environment leaks in.
    let keep = [
        "PGSTRATA_PG_BIN",
        "PGSTRATA_CACHE_DIR",
        "PGSTRATA_SCRATCH_DIR",
    ];
    for (key, _) in std::env::vars() {
        if (key == "DATABASE_URL" || key.starts_with("PG")) && !keep.contains(&key.as_str()) {
            bash.env_remove(key);
        }
    }
    bash.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", line])
        .current_dir(dir)
        .env("PATH", path)
        .env("DATABASE_URL", &db.conninfo)
        .env("TO", to.to_string())
        .env("ROLLBACK_TO", to.to_string());
    run(&mut bash)
}

/// Runs every pgstrata command of `recipe` in order against a database holding all migrations
/// but the newest (staging and production, one deploy behind), as the pipeline would: check,
/// lint, drift, the deploy and its JSON report, the rollback's dry run and the rollback.
fn recipe_runs(recipe: &str) {
    let yaml = std::fs::read_to_string(repository().join(recipe)).unwrap();
    let commands = pgstrata_commands(&yaml);
    let names: Vec<&str> = commands
        .iter()
        .map(|c| c.split_whitespace().nth(1).unwrap())
        .collect();
    for expected in ["check", "lint", "drift", "up", "down"] {
        assert!(
            names.contains(&expected),
            "{recipe} runs no `pgstrata {expected}`: {commands:?}"
        );
    }
    assert!(
        commands
            .iter()
            .any(|c| c.contains("down") && c.contains("--dry-run")),
        "{recipe}: no dry run before the rollback"
    );

    let db = TestDb::new();
    let dir = project_copy();
    let versions = versions(&dir.path);
    let (newest, before) = (versions[versions.len() - 1], versions[versions.len() - 2]);
    up(&db, &dir.path, Some(before));

    for command in &commands {
        let (code, out, err) = run_step(command, &dir.path, &db, before);
        assert_eq!(code, 0, "{recipe}: `{command}` exited {code}\n{out}\n{err}");
        if command.starts_with("pgstrata up") {
            let report: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.path.join("pgstrata-up.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(report["ok"], true, "{report}");
            assert_eq!(report["steps"][0]["version"], newest, "{report}");
        }
    }
    // The rollback undid the deploy.
    let applied = history(&mut db.connect());
    assert_eq!(applied.last().map(|(v, _)| *v), Some(before), "{applied:?}");
}

#[test]
fn the_github_actions_recipe_runs() {
    recipe_runs("examples/github-actions/pgstrata.yml");
}

#[test]
fn the_gitlab_ci_recipe_runs() {
    recipe_runs("examples/gitlab-ci/.gitlab-ci.yml");
}

#[test]
fn the_recipes_check_step_fails_on_an_inexact_rollback() {
    // The step is the CI's verifier: it must fail the pipeline when a rollback misses something.
    let yaml =
        std::fs::read_to_string(repository().join("examples/github-actions/pgstrata.yml")).unwrap();
    let check = pgstrata_commands(&yaml)
        .into_iter()
        .find(|c| c.starts_with("pgstrata check"))
        .unwrap();
    let dir = project_copy();
    let newest_version = *versions(&dir.path).last().unwrap();
    let newest = std::fs::read_dir(dir.path.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&format!("V{newest_version}__"))
        })
        .unwrap();
    let mut sql = std::fs::read_to_string(&newest).unwrap();
    sql.push_str("\nCREATE TABLE recipe_forgotten (id int);\n");
    std::fs::write(&newest, sql).unwrap();
    let db = TestDb::new();
    let (code, out, err) = run_step(&check, &dir.path, &db, 0);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("recipe_forgotten"), "{out}");
}

#[test]
fn recipe_lines_are_read_from_run_steps_and_script_items() {
    let yaml = "steps:\n  - run: pgstrata check\n  - name: x\n    run: |\n      echo hi\n      \
                pgstrata up --lock-timeout 2s \\\n        --format json > r.json\n  \
                # pgstrata drift (a comment)\nscript:\n  - pgstrata lint\n  - cargo install pgstrata\n";
    assert_eq!(
        pgstrata_commands(yaml),
        [
            "pgstrata check",
            "pgstrata up --lock-timeout 2s --format json > r.json",
            "pgstrata lint"
        ]
    );
}

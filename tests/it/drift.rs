//! `drift` against the repository's committed snapshots, and `snapshot [--write]`; neither
//! trusts a dirty database, and `snapshot --write` does not overwrite a committed snapshot with
//! drift unless forced.

use std::fs;

use crate::harness::{self, TempDir, TestDb, pgstrata_for, repository, run};

#[test]
fn drift_is_0_when_the_database_matches_1_when_it_does_not_2_when_it_cannot_tell() {
    let db = TestDb::new();
    let repo = repository();
    let (code, _, err) = run(pgstrata_for(&db, &repo).arg("drift"));
    assert_eq!(code, 2, "nothing applied yet");
    assert!(err.contains("no migration is applied"), "{err}");

    harness::up(&db, &repo, Some(3));
    let (code, out, err) = run(pgstrata_for(&db, &repo).arg("drift"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("no drift: the database matches schema-snapshots/V3__generated_images.sql"),
        "{out}"
    );

    db.connect()
        .batch_execute(
            "CREATE INDEX hotfix_images_url ON images (url);
             COMMENT ON TABLE books IS 'edited by hand';
             DROP TRIGGER set_updated_at ON offerings;",
        )
        .unwrap();
    let (code, out, _) = run(pgstrata_for(&db, &repo).arg("drift"));
    assert_eq!(code, 1, "{out}");
    for line in [
        "+ index public.hotfix_images_url",
        "~ table public.books",
        "- trigger public.offerings set_updated_at",
        "drift: 3 objects differ from schema-snapshots/V3__generated_images.sql",
    ] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }
    assert!(
        out.contains("+CREATE INDEX hotfix_images_url"),
        "the diff shows it: {out}"
    );
    assert!(!out.contains("\x1b["), "no colour when not on a terminal");

    let (code, out, _) = run(pgstrata_for(&db, &repo).args(["drift", "--format", "json"]));
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["drift"], true);
    assert_eq!(value["version"], 3);
    assert_eq!(value["changes"].as_array().unwrap().len(), 3);
    assert_eq!(value["changes"][0]["change"], "changed");
}

#[test]
fn drift_without_a_committed_snapshot_is_an_error() {
    let db = TestDb::new();
    let project = TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
    ]);
    harness::up(&db, &project.path, None);
    let (code, _, err) = run(pgstrata_for(&db, &project.path).arg("drift"));
    assert_eq!(code, 2);
    assert!(
        err.contains("schema-snapshots/V1__t.sql does not exist"),
        "{err}"
    );

    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("schema-snapshots/V1__t.sql written (what V1 changed)")
            && out.contains(
                "schema-snapshots/schema.sql written (the whole schema at V1, the newest migration)"
            ),
        "{out}"
    );
    let written = fs::read_to_string(project.path.join("schema-snapshots/V1__t.sql")).unwrap();
    assert!(
        written.contains("CREATE TABLE \"public\".\"t\""),
        "{written}"
    );
    assert!(
        !written.contains("history"),
        "the history schema is left out: {written}"
    );
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0);
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(run(pgstrata_for(&db, &project.path).arg("drift")).0, 0);

    let (code, printed, _) = run(pgstrata_for(&db, &project.path).arg("snapshot"));
    assert_eq!(code, 0);
    let schema = fs::read_to_string(project.path.join("schema-snapshots/schema.sql")).unwrap();
    assert_eq!(
        printed, schema,
        "snapshot prints what --write stores in schema.sql"
    );
    assert!(
        written.starts_with("-- pgstrata schema delta:")
            && !written.contains("SET check_function_bodies"),
        "V1's file is a delta, without the whole schema's preamble: {written}"
    );
}

/// Regression (issue 9): `drift` said "no drift" on a database whose newest migration was
/// interrupted, and `snapshot --write` wrote its half-run schema as that version's snapshot.
#[test]
fn drift_and_snapshot_write_refuse_a_dirty_database() {
    let db = TestDb::new();
    let project = two_tables();
    harness::up(&db, &project.path, None);
    db.connect()
        .batch_execute("UPDATE pgstrata.history SET state = 'running' WHERE version = 2")
        .unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).arg("drift"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(!out.contains("no drift"), "{out}");
    for part in [
        "error: the database is dirty: drift cannot compare it",
        "migration 2 (u) was interrupted while applying",
        "(history state `running`)",
        "`pgstrata repair --version 2 --mark-applied`",
    ] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }

    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the database is dirty: snapshot --write would record a half-run")
            && err.contains("`pgstrata repair --version 2"),
        "{err}"
    );
    assert!(!project.path.join("schema-snapshots").exists());
    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["snapshot", "--write", "--force"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schema-snapshots/V2__u.sql written"), "{out}");
}

/// A hand edit after the snapshot of the database's version was committed: `snapshot
/// --write` used to overwrite the committed file with it, hiding the drift.
#[test]
fn snapshot_write_refuses_to_overwrite_a_committed_snapshot_with_drift() {
    let db = TestDb::new();
    let project = two_tables();
    harness::up(&db, &project.path, None);
    let mut client = db.connect();
    assert_eq!(
        run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"])).0,
        0,
        "nothing committed yet"
    );
    let file = project.path.join("schema-snapshots/V2__u.sql");
    let committed = fs::read_to_string(&file).unwrap();
    client
        .batch_execute("CREATE INDEX hotfix ON t (id)")
        .unwrap();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 2, "{out}{err}");
    for part in [
        "the database is at V2 but differs from the committed schema-snapshots/V2__u.sql in 1 \
         object:",
        "  + index public.hotfix",
        "`pgstrata check --write-snapshots`",
        "`pgstrata snapshot --write --force`",
    ] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), committed, "left alone");

    let (code, out, err) =
        run(pgstrata_for(&db, &project.path).args(["snapshot", "--write", "--force"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(fs::read_to_string(&file).unwrap().contains("hotfix"));
    // What matches the committed file is no drift: written "unchanged", forced or not.
    let (code, out, _) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--write"]));
    assert_eq!(code, 0);
    assert!(out.contains("unchanged"), "{out}");

    let (code, _, err) = run(pgstrata_for(&db, &project.path).args(["snapshot", "--force"]));
    assert_eq!(code, 2, "--force without --write is a usage error: {err}");
}

fn two_tables() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t.sql", "CREATE TABLE t (id int);\n"),
        ("rollbacks/V1__t.sql", "DROP TABLE t;\n"),
        ("migrations/V2__u.sql", "CREATE TABLE u (id int);\n"),
        ("rollbacks/V2__u.sql", "DROP TABLE u;\n"),
    ])
}

//! `drift` against the repository's committed snapshots, and `snapshot [--write]`.

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
        out.contains("schema-snapshots/V1__t.sql written (the schema at V1)"),
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
    assert_eq!(printed, written, "snapshot prints what --write stores");
}

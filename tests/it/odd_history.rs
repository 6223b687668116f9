//! What a hand-edited history can hold (infinite timestamps, extreme durations, control
//! characters in its text): every command reads it without panicking or misreporting it, and
//! text output shows database text with its control characters escaped.

use crate::harness::{TempDir, TestDb, history, pgstrata_for, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
        ("migrations/V2__t2.sql", "CREATE TABLE t2 (id int);\n"),
        ("rollbacks/V2__t2.sql", "DROP TABLE t2;\n"),
    ])
}

/// A name that would forge a line of `status` and clear the screen if printed raw.
const FORGED: &str = "x\nV8      applied          fake\x1b[2J\u{202e}";
const FORGED_SHOWN: &str = "x\\nV8      applied          fake\\x1b[2J\\u{202e}";

fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}') && !text.contains("\nV8 "),
        "{what}: raw control characters printed: {text:?}"
    );
    assert!(!text.contains("panicked"), "{what}: {text}");
}

// 'infinity' was refused as "column applied_at is NULL" (to_char gives NULL for it), and
// earlier builds panicked; a name with control characters was printed raw.
#[test]
fn infinite_timestamps_extreme_durations_and_control_characters_are_read_and_escaped() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(
        run(pgstrata_for(&db, &p.path).args(["up", "--to", "1"])).0,
        0
    );
    let mut client = db.connect();
    client
        .batch_execute(
            "UPDATE pgstrata.history SET applied_at = 'infinity', \
             execution_ms = -9223372036854775808",
        )
        .unwrap();
    // Missing on disk, so its name is the one from the database.
    client
        .execute(
            "INSERT INTO pgstrata.history VALUES \
             (7, $1, 'c\u{7}', 'r', '-infinity', E'me\\x1b[31m', 9223372036854775807, 'applied')",
            &[&FORGED],
        )
        .unwrap();

    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("status"));
    assert_eq!(code, 0, "{out}{err}");
    assert_no_raw_controls("status", &out);
    assert!(out.contains("V1      applied          t1"), "{out}");
    assert!(out.contains("infinity"), "{out}");
    assert!(out.contains("-9223372036854775808"), "{out}");
    assert!(out.contains("-infinity"), "{out}");
    assert!(
        out.contains(&format!(
            "V7: applied as {FORGED_SHOWN}, but its file is missing"
        )),
        "{out}"
    );

    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["status", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(report["versions"][0]["applied_at"], "infinity");
    assert_eq!(report["versions"][0]["execution_ms"], i64::MIN);
    assert_eq!(
        report["versions"][2]["name"], FORGED,
        "JSON carries the exact text"
    );
    assert_eq!(report["versions"][2]["applied_by"], "me\x1b[31m");

    // V7 is missing on disk: every run refuses it, naming it escaped.
    for command in ["up", "down", "redo", "up --dry-run", "down --dry-run"] {
        for format in ["text", "json"] {
            let (code, out, err) = run(pgstrata_for(&db, &p.path)
                .args(["--format", format])
                .args(command.split_whitespace()));
            assert_eq!(code, 2, "{command} {format}: {out}{err}");
            assert_no_raw_controls(command, &err);
            assert!(
                err.contains(&format!("migration 7 ({FORGED_SHOWN}) is applied but")),
                "{command} {format}: {err}"
            );
            if format == "json" {
                let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
                assert_eq!(report["ok"], false, "{out}");
            }
        }
    }

    // Without it, runs go on over V1's odd row.
    client
        .batch_execute("DELETE FROM pgstrata.history WHERE version = 7")
        .unwrap();
    for command in ["up", "redo", "down", "up", "status --exit-code"] {
        let (code, out, err) = run(pgstrata_for(&db, &p.path).args(command.split_whitespace()));
        assert_eq!(code, 0, "{command}: {out}{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(
        history(&mut client),
        vec![(1, "applied".into()), (2, "applied".into())]
    );
    let (code, out, err) = run(pgstrata_for(&db, &p.path).args(["down", "--to", "0"]));
    assert_eq!(code, 0, "V1 rolls back too: {out}{err}");
    assert!(history(&mut client).is_empty());
}

// A dirty row's name went raw into the refusal and into `repair`'s answer.
#[test]
fn a_dirty_row_with_control_characters_is_refused_escaped_and_repaired() {
    let db = TestDb::new();
    let p = project();
    assert_eq!(
        run(pgstrata_for(&db, &p.path).args(["up", "--to", "1"])).0,
        0
    );
    let mut client = db.connect();
    client
        .execute(
            "UPDATE pgstrata.history SET name = $1, state = 'running'",
            &[&FORGED],
        )
        .unwrap();
    for command in ["up", "status", "down"] {
        let (code, out, err) = run(pgstrata_for(&db, &p.path).arg(command));
        assert_no_raw_controls(command, &out);
        assert_no_raw_controls(command, &err);
        if command == "status" {
            assert_eq!(code, 0, "{out}{err}");
            assert!(out.contains("V1      dirty"), "{out}");
        } else {
            assert_eq!(code, 2, "{out}{err}");
            assert!(
                err.contains(&format!("migration 1 ({FORGED_SHOWN}) was interrupted")),
                "{err}"
            );
        }
    }
    let (code, out, err) =
        run(pgstrata_for(&db, &p.path).args(["repair", "--version", "1", "--mark-applied"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(history(&mut client), vec![(1, "applied".into())]);
}

// The server's words quote what the database holds (here a RAISE; as often a key in a unique
// violation): a terminal escape in them reached the terminal raw.
#[test]
fn a_server_error_with_a_terminal_escape_is_printed_escaped() {
    let db = TestDb::new();
    let p = TempDir::with_files(&[
        (
            "migrations/V1__boom.sql",
            "DO $$ BEGIN RAISE EXCEPTION E'boom\\x1b[2J\\rforged'; END $$;\n",
        ),
        ("rollbacks/V1__boom.sql", "SELECT 1;\n"),
    ]);
    let (code, out, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2, "{out}{err}");
    assert_no_raw_controls("up", &err);
    assert!(err.contains("boom\\x1b[2J\\rforged"), "{err}");
}

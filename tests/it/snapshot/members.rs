//! Objects an extension made stay out of a snapshot (its `CREATE EXTENSION` line makes them
//! again), but what was done to their privileges afterwards does not (issue 13): pg_dump
//! shows `REVOKE EXECUTE ON FUNCTION digest(text, text) FROM PUBLIC` after `CREATE EXTENSION
//! pgcrypto`, and a rollback that leaves it in place must not pass `check` as exact.
//! Privileges the extension's own script set (pg_init_privs) are the baseline, not a change.

use pgstrata::snapshot::compare;

use super::{assert_round_trip, role, run_sql, snapshot};
use crate::harness::TestDb;

const PGCRYPTO: &str = "CREATE SCHEMA app; CREATE EXTENSION pgcrypto WITH SCHEMA app";

/// Snapshots after `setup`, then after `change`; asserts that exactly the extension's block
/// changed, that `line` is in it, and that the changed snapshot loads back the same.
fn assert_member_change(setup: &str, change: &str, extension: &str, line: &str) {
    let db = TestDb::new();
    run_sql(&db, setup);
    let before = snapshot(&db);
    assert!(
        before.contains(&format!("\n-- extension {extension}\n")),
        "{before}"
    );
    run_sql(&db, &change.replace("__ROLE__", &role(&db)));
    let after = snapshot(&db);
    let comparison = compare(&before, &after, "before", "after");
    let summary: Vec<String> = comparison.changes.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        summary,
        [format!("~ extension {extension}")],
        "for `{change}`"
    );
    let role = role(&db);
    let line = line.replace("__ROLE__", &role);
    assert!(after.contains(&line), "{line} not in:\n{after}");
    assert_round_trip(&after);
}

#[test]
fn extension_function_execute_revoked_from_public() {
    assert_member_change(
        PGCRYPTO,
        "REVOKE EXECUTE ON FUNCTION app.digest(text, text) FROM PUBLIC",
        "pgcrypto",
        "REVOKE EXECUTE ON ROUTINE app.digest(text,text) FROM PUBLIC;\n",
    );
}

#[test]
fn extension_function_granted_to_a_role() {
    assert_member_change(
        "CREATE SCHEMA app; CREATE EXTENSION pgcrypto WITH SCHEMA app; \
         REVOKE EXECUTE ON FUNCTION app.digest(text, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.digest(text, text) TO __ROLE__",
        "pgcrypto",
        "GRANT EXECUTE ON ROUTINE app.digest(text,text) TO __ROLE__;\n",
    );
}

#[test]
fn extension_function_execute_revoked_from_its_owner() {
    assert_member_change(
        PGCRYPTO,
        "REVOKE EXECUTE ON FUNCTION app.crypt(text, text) FROM CURRENT_USER",
        "pgcrypto",
        "REVOKE EXECUTE ON ROUTINE app.crypt(text,text) FROM CURRENT_USER;\n",
    );
}

/// pg_stat_statements' script revokes its view and function from PUBLIC: that is its
/// baseline, not a change, and granting SELECT back is one.
#[test]
fn privileges_an_extension_script_set_are_its_baseline() {
    let setup = "CREATE SCHEMA app; CREATE EXTENSION pg_stat_statements WITH SCHEMA app";
    let db = TestDb::new();
    run_sql(&db, setup);
    let text = snapshot(&db);
    assert!(!text.contains("pg_stat_statements_reset"), "{text}");
    assert!(
        !text.contains("GRANT") && !text.contains("REVOKE"),
        "{text}"
    );
    assert_member_change(
        setup,
        "GRANT SELECT ON app.pg_stat_statements TO __ROLE__",
        "pg_stat_statements",
        "GRANT SELECT ON TABLE app.pg_stat_statements TO __ROLE__;\n",
    );
}

#[test]
fn revoked_then_granted_back_is_no_change() {
    let db = TestDb::new();
    run_sql(&db, PGCRYPTO);
    let before = snapshot(&db);
    run_sql(
        &db,
        "REVOKE EXECUTE ON FUNCTION app.digest(text, text) FROM PUBLIC; \
         GRANT EXECUTE ON FUNCTION app.digest(text, text) TO PUBLIC",
    );
    let after = snapshot(&db);
    assert!(compare(&before, &after, "before", "after").is_same());
}

//! `sync verify` proves triggers convergent, and catches broken ones: the repository's own
//! V2 (seed 000, hand-written) passes; V2 without its `FOR SHARE` read, or without its
//! album_images -> images trigger, fails with divergent copies; a column kind's triggers pass
//! and a one-way version of them fails. Each run uses a temporary database on the test
//! server (the --database-url path) and a second or two of random writers.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::harness::{TempDir, TestDb, pgstrata_for, repository, run};

/// The seed 000 spec (images <-> album_images, both directions), as V2 hand-writes it.
const IMAGE_DETAILS: &str = include_str!("../fixtures/sync/image_details.toml");

/// A project of the repository's V1 and V2, V2 passed through `edit`.
fn seed_project(edit: impl Fn(&str) -> String) -> TempDir {
    let read = |folder: &str, file: &str| {
        fs::read_to_string(repository().join(folder).join(file)).expect("reading the repository")
    };
    let (v1, v2) = ("V1__baseline.sql", "V2__album_image_details_sync.sql");
    TempDir::with_files(&[
        (&format!("migrations/{v1}"), &read("migrations", v1)),
        (&format!("rollbacks/{v1}"), &read("rollbacks", v1)),
        (&format!("migrations/{v2}"), &edit(&read("migrations", v2))),
        (&format!("rollbacks/{v2}"), &read("rollbacks", v2)),
        ("sync/image_details.toml", IMAGE_DETAILS),
    ])
}

/// Runs `sync verify` on a project with a JSON report; returns the exit code and the report.
fn verify(project: &Path, spec: &str, seconds: &str) -> (i32, Value, String) {
    let db = TestDb::new();
    let (code, out, err) = run(pgstrata_for(&db, project).args([
        "--format",
        "json",
        "sync",
        "verify",
        spec,
        "--clients",
        "4",
        "--seconds",
        seconds,
    ]));
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, format!("{out}\n{err}"))
}

/// The interleavings whose copies diverged, by name.
fn diverged(report: &Value) -> Vec<String> {
    report["interleavings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["divergent"].as_i64() != Some(0))
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_repository_v2_triggers_converge() {
    let project = seed_project(|v2| v2.to_string());
    let (code, report, output) = verify(&project.path, "image_details", "2");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["ok"], true, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    assert_eq!(report["divergent_after_interleavings"], 0, "{output}");
    // Every risky pair in both orders ran, and the writers really wrote.
    assert_eq!(
        report["interleavings"].as_array().unwrap().len(),
        34,
        "{output}"
    );
    assert!(report["rows"].as_u64().unwrap() >= 3000, "{output}");
    assert!(
        report["writer_transactions"].as_u64().unwrap() > 20,
        "{output}"
    );
    assert_eq!(report["failed"], 0, "{output}");
    // Some B sessions must have waited for A: otherwise nothing was held open.
    let waited = report["interleavings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["blocked"] == true)
        .count();
    assert!(waited >= 8, "{output}");
}

#[test]
fn v2_without_for_share_is_caught() {
    // Without the share lock, a new album row reads the image's details while an update of
    // them is in flight (or commits after the update's fan-out ran): it keeps the old ones.
    let project = seed_project(|v2| {
        let broken = v2.replace("    FOR SHARE;", "    ;");
        assert_ne!(broken, v2, "V2 no longer reads with FOR SHARE");
        broken
    });
    let (code, report, output) = verify(&project.path, "image_details", "1");
    assert_eq!(code, 1, "{output}");
    assert_eq!(report["ok"], false, "{output}");
    assert!(
        report["divergent_after_interleavings"].as_i64().unwrap() > 0,
        "{output}"
    );
    let diverged = diverged(&report);
    assert!(
        diverged
            .iter()
            .any(|name| name.starts_with("child insert then parent update")),
        "{diverged:?}\n{output}"
    );
    assert!(
        diverged
            .iter()
            .any(|name| name.starts_with("parent update then child insert")),
        "{diverged:?}\n{output}"
    );
}

#[test]
fn v2_without_the_child_to_parent_trigger_is_caught() {
    // Edits of an album row no longer reach the image: both directions promised, one kept.
    let project = seed_project(|v2| {
        format!("{v2}\nDROP TRIGGER sync_album_image_details_to_images ON album_images;\n")
    });
    let (code, report, output) = verify(&project.path, "image_details", "1");
    assert_eq!(code, 1, "{output}");
    assert!(report["divergent"].as_i64().unwrap() > 0, "{output}");
    let diverged = diverged(&report);
    assert!(
        diverged
            .iter()
            .any(|name| name.contains("opposite updates")),
        "{diverged:?}\n{output}"
    );
}

/// users.name kept equal to users.full_name (up: btrim(name), down: full_name) by a BEFORE
/// trigger; `one_way` syncs only name -> full_name.
fn column_project(one_way: bool) -> TempDir {
    let from_new = if one_way {
        ""
    } else {
        "ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
            NEW.name := NEW.full_name;"
    };
    let migration = format!(
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
         ALTER TABLE users ADD COLUMN full_name text;
         CREATE FUNCTION users_names() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF TG_OP = 'INSERT' THEN
                 IF NEW.name IS NULL AND NEW.full_name IS NOT NULL THEN
                     NEW.name := NEW.full_name;
                 END IF;
                 NEW.full_name := btrim(NEW.name);
             ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
                 NEW.full_name := btrim(NEW.name);
             {from_new}
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER users_names BEFORE INSERT OR UPDATE ON users
             FOR EACH ROW EXECUTE FUNCTION users_names();"
    );
    TempDir::with_files(&[
        ("migrations/V1__users.sql", &migration),
        (
            "rollbacks/V1__users.sql",
            "DROP TABLE users; DROP FUNCTION users_names();",
        ),
        (
            "sync/user_names.toml",
            "kind = \"column\"\ntable = \"public.users\"\nold = \"name\"\nnew = \"full_name\"\n\
             type = \"text\"\nup = \"btrim(name)\"\ndown = \"full_name\"\n",
        ),
    ])
}

#[test]
fn a_column_kind_that_syncs_both_ways_converges() {
    let project = column_project(false);
    let (code, report, output) = verify(&project.path, "user_names", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    assert_eq!(
        report["interleavings"].as_array().unwrap().len(),
        16,
        "{output}"
    );
    assert!(report["rows"].as_u64().unwrap() >= 2000, "{output}");
}

#[test]
fn a_column_kind_that_syncs_one_way_is_caught() {
    let project = column_project(true);
    let (code, report, output) = verify(&project.path, "user_names", "1");
    assert_eq!(code, 1, "{output}");
    assert!(
        report["divergent_after_interleavings"].as_i64().unwrap() > 0,
        "{output}"
    );
    assert!(
        diverged(&report)
            .iter()
            .any(|name| name.contains("new update")),
        "{output}"
    );
}

#[test]
fn a_spec_naming_a_missing_column_is_an_error() {
    let project = seed_project(|v2| v2.to_string());
    project.write(
        "sync/wrong.toml",
        &IMAGE_DETAILS.replace("\"description\"", "\"no_such_column\""),
    );
    let (code, report, output) = verify(&project.path, "wrong", "0");
    assert_eq!(code, 2, "{output}");
    let message = report["error"].as_str().unwrap_or(&output);
    assert!(message.contains("no_such_column"), "{output}");
}

#[test]
fn text_report_names_counts_and_verdict() {
    let project = seed_project(|v2| v2.to_string());
    let db = TestDb::new();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args([
        "sync",
        "verify",
        "image_details",
        "--seconds",
        "0",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("34 interleavings"), "{out}");
    assert!(
        out.contains("sync verify passed: 0 divergent copies"),
        "{out}"
    );
}

/// A copy over a composite foreign key, names needing quotes, a numeric column, direction
/// parent_to_child: hand-written triggers in V2's manner; `refuse` false leaves direct edits
/// of a copy through (the broken case).
fn products_project(refuse: bool) -> TempDir {
    let refusal = if refuse {
        "RAISE EXCEPTION 'Line.\"Unit Price\" is a copy of Product.\"Unit Price\"; edit the product';"
    } else {
        ""
    };
    let migration = format!(
        r#"CREATE SCHEMA "Shop";
        CREATE TABLE "Shop"."Product" (sku text, region int, "Unit Price" numeric(10,2),
            PRIMARY KEY (sku, region));
        CREATE TABLE "Shop"."Line" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            sku text NOT NULL, region int NOT NULL, "Unit Price" numeric(10,2),
            CONSTRAINT line_product FOREIGN KEY (sku, region)
                REFERENCES "Shop"."Product" ON DELETE CASCADE);
        CREATE FUNCTION "Shop".fan_out() RETURNS trigger LANGUAGE plpgsql
        SET shop.syncing = 'on' AS $$
        BEGIN
            UPDATE "Shop"."Line" SET "Unit Price" = NEW."Unit Price"
            WHERE (sku, region) = (NEW.sku, NEW.region)
              AND "Unit Price" IS DISTINCT FROM NEW."Unit Price";
            RETURN NULL;
        END $$;
        CREATE FUNCTION "Shop".copy_in() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('shop.syncing', true) = 'on' THEN
                RETURN NEW;
            END IF;
            IF TG_OP = 'UPDATE' AND (NEW.sku, NEW.region) = (OLD.sku, OLD.region) THEN
                IF NEW."Unit Price" IS DISTINCT FROM OLD."Unit Price" THEN
                    {refusal}
                END IF;
                RETURN NEW;
            END IF;
            SELECT p."Unit Price" INTO NEW."Unit Price" FROM "Shop"."Product" AS p
            WHERE (p.sku, p.region) = (NEW.sku, NEW.region) FOR SHARE;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fan_out AFTER UPDATE OF "Unit Price" ON "Shop"."Product" FOR EACH ROW
            WHEN (OLD."Unit Price" IS DISTINCT FROM NEW."Unit Price")
            EXECUTE FUNCTION "Shop".fan_out();
        CREATE TRIGGER copy_in BEFORE INSERT OR UPDATE ON "Shop"."Line" FOR EACH ROW
            EXECUTE FUNCTION "Shop".copy_in();"#
    );
    TempDir::with_files(&[
        ("migrations/V1__shop.sql", &migration),
        ("rollbacks/V1__shop.sql", "DROP SCHEMA \"Shop\" CASCADE;"),
        (
            "sync/prices.toml",
            "kind = \"copy\"\nparent = \"Shop.Product\"\nchild = \"Shop.Line\"\n\
             columns = [\"Unit Price\"]\ndirection = \"parent_to_child\"\n",
        ),
    ])
}

#[test]
fn a_composite_key_copy_that_refuses_child_edits_converges() {
    let project = products_project(true);
    let (code, report, output) = verify(&project.path, "prices", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    // The opposite updates' child edits were refused, not failed.
    let refused = report["interleavings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["second"].as_str().unwrap_or("").contains("is a copy of"))
        .count();
    assert!(refused > 0, "{output}");
}

#[test]
fn a_copy_that_lets_child_edits_through_is_caught() {
    let project = products_project(false);
    let (code, report, output) = verify(&project.path, "prices", "1");
    assert_eq!(code, 1, "{output}");
    assert!(report["divergent"].as_i64().unwrap() > 0, "{output}");
}

/// A project of `files` with the migration `sync new SPEC` generates added to it.
fn generated(files: &[(&str, &str)], spec: &str) -> TempDir {
    let project = TempDir::with_files(files);
    let db = TestDb::new();
    let (code, out, err) = run(pgstrata_for(&db, &project.path).args(["sync", "new", spec]));
    assert_eq!(code, 0, "{out}\n{err}");
    project
}

fn repository_v1() -> Vec<(String, String)> {
    let read = |folder: &str| {
        fs::read_to_string(repository().join(folder).join("V1__baseline.sql")).unwrap()
    };
    vec![
        ("migrations/V1__baseline.sql".into(), read("migrations")),
        ("rollbacks/V1__baseline.sql".into(), read("rollbacks")),
        ("sync/image_details.toml".into(), IMAGE_DETAILS.into()),
    ]
}

fn borrowed(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

#[test]
fn the_triggers_sync_new_generates_for_the_seed_converge() {
    let project = generated(&borrowed(&repository_v1()), "image_details");
    let (code, report, output) = verify(&project.path, "image_details", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
}

#[test]
fn generated_parent_to_child_triggers_over_a_composite_key_converge() {
    // The child also has a second foreign key to the same parent: the spec names the one.
    let project = generated(
        &[
            (
                "migrations/V1__shop.sql",
                r#"CREATE SCHEMA "Shop";
                CREATE TABLE "Shop"."Product" (sku text, region int, "Unit Price" numeric(10,2),
                    PRIMARY KEY (sku, region));
                CREATE TABLE "Shop"."Line" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    sku text NOT NULL, region int NOT NULL, other_sku text, other_region int,
                    CONSTRAINT line_product FOREIGN KEY (sku, region)
                        REFERENCES "Shop"."Product" ON DELETE CASCADE,
                    CONSTRAINT line_other FOREIGN KEY (other_sku, other_region)
                        REFERENCES "Shop"."Product");"#,
            ),
            ("rollbacks/V1__shop.sql", "DROP SCHEMA \"Shop\" CASCADE;"),
            (
                "sync/prices.toml",
                "kind = \"copy\"\nparent = \"Shop.Product\"\nchild = \"Shop.Line\"\n\
                 foreign_key = \"line_product\"\ncolumns = [\"Unit Price\"]\n\
                 direction = \"parent_to_child\"\n",
            ),
        ],
        "prices",
    );
    let (code, report, output) = verify(&project.path, "prices", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    assert!(
        report["refused"].as_u64().unwrap() > 0,
        "child edits refused: {output}"
    );
}

#[test]
fn generated_column_triggers_converge() {
    let project = generated(
        &[
            (
                "migrations/V1__users.sql",
                "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);",
            ),
            ("rollbacks/V1__users.sql", "DROP TABLE users;"),
            (
                "sync/user_names.toml",
                "kind = \"column\"\ntable = \"public.users\"\nold = \"name\"\n\
                 new = \"full_name\"\ntype = \"text\"\nup = \"btrim(name)\"\ndown = \"full_name\"\n",
            ),
        ],
        "user_names",
    );
    let (code, report, output) = verify(&project.path, "user_names", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
}

/// `check --write-snapshots` with a JSON report.
fn check(project: &Path) -> (i32, Value, String) {
    let db = TestDb::new();
    let (code, out, err) =
        run(pgstrata_for(&db, project).args(["--format", "json", "check", "--write-snapshots"]));
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, format!("{out}\n{err}"))
}

#[test]
fn check_verifies_sync_migrations_and_finds_a_broken_one() {
    let project = generated(&borrowed(&repository_v1()), "image_details");
    project.write("pgstrata.toml", "sync_verify_seconds = 0.5\n");
    let (code, report, output) = check(&project.path);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        report["sync_verified"][0]["spec"], "image_details",
        "{output}"
    );
    assert_eq!(report["sync_verified"][0]["ok"], true, "{output}");

    // The generated migration edited by hand to read the parent without FOR SHARE.
    let migration = project.path.join("migrations/V2__sync_image_details.sql");
    let sql = fs::read_to_string(&migration).unwrap();
    let broken = sql.replace("    FOR SHARE;", "    ;");
    assert_ne!(
        broken, sql,
        "the generated migration no longer reads FOR SHARE"
    );
    fs::write(&migration, broken).unwrap();
    let (code, report, output) = check(&project.path);
    assert_eq!(code, 1, "{output}");
    assert_eq!(report["sync_verified"][0]["ok"], false, "{output}");
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["sync_diverged"], "{output}");

    // 0 turns it off.
    project.write("pgstrata.toml", "sync_verify_seconds = 0\n");
    let (code, report, output) = check(&project.path);
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["sync_verified"], serde_json::json!([]), "{output}");
}

/// The generated migration for the seed with its fan-out's WHEN clause comparing alt_text
/// only: an edit of description alone no longer reaches the other copies.
fn seed_with_a_fan_out_ignoring_description() -> TempDir {
    let project = generated(&borrowed(&repository_v1()), "image_details");
    let migration = project.path.join("migrations/V2__sync_image_details.sql");
    let sql = fs::read_to_string(&migration).unwrap();
    let whole = r#"WHEN ((OLD."alt_text", OLD."description") IS DISTINCT FROM (NEW."alt_text", NEW."description"))"#;
    let broken = sql.replacen(
        whole,
        r#"WHEN (OLD."alt_text" IS DISTINCT FROM NEW."alt_text")"#,
        1,
    );
    assert_ne!(broken, sql, "the fan-out's WHEN clause changed shape");
    fs::write(&migration, broken).unwrap();
    project
}

// Regression: the writers set every synced column together, so a trigger that ignored one
// of two columns passed.
#[test]
fn a_trigger_ignoring_one_of_two_columns_is_caught() {
    let project = seed_with_a_fan_out_ignoring_description();
    let (code, report, output) = verify(&project.path, "image_details", "2");
    assert_eq!(code, 1, "{output}");
    assert_eq!(report["ok"], false, "{output}");
    assert!(
        report["divergent_after_interleavings"].as_i64().unwrap() > 0,
        "the interleavings alone must catch it: {output}"
    );
    assert!(report["divergent"].as_i64().unwrap() > 0, "{output}");
}

/// Parents whose key children follow (`ON UPDATE CASCADE`), two synced columns, triggers
/// generated by `sync new`.
fn cascading_project() -> TempDir {
    generated(
        &[
            (
                "migrations/V1__cascade.sql",
                "CREATE TABLE parents (id bigint PRIMARY KEY, title text, note text);
                 CREATE TABLE children (id bigint PRIMARY KEY,
                     parent_id bigint NOT NULL REFERENCES parents (id)
                         ON UPDATE CASCADE ON DELETE CASCADE);",
            ),
            ("rollbacks/V1__cascade.sql", "DROP TABLE children, parents;"),
            (
                "sync/details.toml",
                "kind = \"copy\"\nparent = \"parents\"\nchild = \"children\"\n\
                 columns = [\"title\", \"note\"]\ndirection = \"both\"\n",
            ),
        ],
        "details",
    )
}

/// The outcome of the interleaving named `name`: (A's end, B's end, divergent copies).
fn outcome(report: &Value, name: &str) -> (String, String, i64) {
    let i = report["interleavings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"].as_str().unwrap_or_default().starts_with(name))
        .unwrap_or_else(|| panic!("no interleaving {name}: {report}"));
    (
        i["first"].as_str().unwrap().to_string(),
        i["second"].as_str().unwrap().to_string(),
        i["divergent"].as_i64().unwrap(),
    )
}

#[test]
fn generated_triggers_converge_under_key_updates_multi_row_statements_and_upserts() {
    let project = cascading_project();
    let (code, report, output) = verify(&project.path, "details", "2");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    // The key update went through (the children followed it), not refused, in both orders.
    for name in [
        "parent key update then parent update",
        "parent update then parent key update",
        "parent key update then child insert",
    ] {
        let (first, second, divergent) = outcome(&report, name);
        assert_eq!(divergent, 0, "{name}: {output}");
        assert!(
            name.starts_with("parent key") && first == "committed" || second == "committed",
            "{name}: {first} / {second}\n{output}"
        );
    }
    for name in [
        "update of several children then parent update",
        "parent update then update of several children",
        "update of several parents then child update",
        "child upsert then parent update",
        "parent upsert then child update",
        "parent update then child update (a parent's first column",
        "child update then parent update (a parent's last column",
    ] {
        let (first, second, divergent) = outcome(&report, name);
        assert_eq!(
            (first.as_str(), second.as_str(), divergent),
            ("committed", "committed", 0),
            "{name}: {output}"
        );
    }
}

// Regression: the filler numbered generated rows from 1, so rows the project's migrations
// inserted (explicit keys, a serial column behind them) made `sync verify` fail with a
// duplicate key.
#[test]
fn rows_the_migrations_inserted_are_filled_around() {
    let project = generated(
        &[
            (
                "migrations/V1__seeded.sql",
                "CREATE TABLE parents (id bigint PRIMARY KEY, code text NOT NULL UNIQUE,
                     title text, note text);
                 CREATE TABLE children (id bigint PRIMARY KEY,
                     parent_id bigint NOT NULL REFERENCES parents (id) ON DELETE CASCADE,
                     position serial UNIQUE);
                 INSERT INTO parents VALUES (1, '1', 'a', 'b'), (2, '2', NULL, 'c'),
                     (1500, '2500', 'x', NULL);
                 INSERT INTO children (id, parent_id, position)
                     VALUES (1, 1, 1), (2, 1, 2), (3, 2, 3), (3700, 1500, 4);",
            ),
            ("rollbacks/V1__seeded.sql", "DROP TABLE children, parents;"),
            (
                "sync/details.toml",
                "kind = \"copy\"\nparent = \"parents\"\nchild = \"children\"\n\
                 columns = [\"title\", \"note\"]\ndirection = \"both\"\n",
            ),
        ],
        "details",
    );
    let (code, report, output) = verify(&project.path, "details", "1");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    assert!(report["rows"].as_u64().unwrap() >= 3000, "{output}");
}

// Regression: a sync verify that could not run (here: no value can be made for a NOT NULL
// point column) aborted the whole check with an error.
#[test]
fn check_reports_a_verify_that_cannot_run_as_a_finding() {
    let project = generated(
        &[
            (
                "migrations/V1__shapes.sql",
                "CREATE TABLE parents (id bigint PRIMARY KEY, title text);
                 CREATE TABLE children (id bigint PRIMARY KEY,
                     parent_id bigint REFERENCES parents (id), shape point NOT NULL);",
            ),
            ("rollbacks/V1__shapes.sql", "DROP TABLE children, parents;"),
            (
                "sync/titles.toml",
                "kind = \"copy\"\nparent = \"parents\"\nchild = \"children\"\n\
                 columns = [\"title\"]\ndirection = \"both\"\n",
            ),
            ("pgstrata.toml", "sync_verify_seconds = 0.5\n"),
        ],
        "titles",
    );
    let (code, report, output) = check(&project.path);
    assert_eq!(code, 1, "{output}");
    // The rest of check ran: both migrations checked, their deltas and schema.sql written.
    assert_eq!(report["checked"].as_array().unwrap().len(), 2, "{output}");
    assert_eq!(report["written"].as_array().unwrap().len(), 3, "{output}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{output}");
    assert_eq!(findings[0]["kind"], "sync_verify_failed", "{output}");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(message.contains("could not run"), "{output}");
    assert!(message.contains("shape"), "{output}");
    assert_eq!(report["sync_verified"][0]["ok"], false, "{output}");
}

/// accounts.status (NOT NULL DEFAULT 'active') kept equal to state (up: upper(status), down:
/// lower(state)); `naive` is a hand-written trigger that takes a non-NULL status for the
/// written side of an insert, so an insert through state alone loses its value to the
/// default; otherwise `sync new` generates the triggers.
fn account_states(naive: bool) -> TempDir {
    let table = "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     status text NOT NULL DEFAULT 'active');";
    let spec = "kind = \"column\"\ntable = \"accounts\"\nold = \"status\"\nnew = \"state\"\n\
                type = \"text\"\nup = \"upper(status)\"\ndown = \"lower(state)\"\n";
    if !naive {
        return generated(
            &[
                ("migrations/V1__accounts.sql", table),
                ("rollbacks/V1__accounts.sql", "DROP TABLE accounts;"),
                ("sync/states.toml", spec),
            ],
            "states",
        );
    }
    let migration = format!(
        "{table}
         ALTER TABLE accounts ADD COLUMN state text;
         CREATE FUNCTION account_states() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF TG_OP = 'INSERT' THEN
                 IF NEW.status IS NULL AND NEW.state IS NOT NULL THEN
                     NEW.status := lower(NEW.state);
                 END IF;
                 NEW.state := upper(NEW.status);
             ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
                 NEW.state := upper(NEW.status);
             ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
                 NEW.status := lower(NEW.state);
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER account_states BEFORE INSERT OR UPDATE ON accounts
             FOR EACH ROW EXECUTE FUNCTION account_states();"
    );
    TempDir::with_files(&[
        ("migrations/V1__accounts.sql", &migration),
        (
            "rollbacks/V1__accounts.sql",
            "DROP TABLE accounts; DROP FUNCTION account_states();",
        ),
        ("sync/states.toml", spec),
    ])
}

// No copy diverges when an insert through new alone loses its value to old's default (new
// is then up(old)): verify checks that such inserts keep what they were given.
#[test]
fn a_column_kind_losing_inserts_through_new_to_old_default_is_caught() {
    let (code, report, output) = verify(&account_states(true).path, "states", "0.5");
    assert_eq!(code, 1, "{output}");
    assert_eq!(report["divergent"], 0, "{output}");
    let lost = report["lost_writes"].as_array().unwrap();
    assert!(!lost.is_empty(), "{output}");
    assert!(
        lost[0].as_str().unwrap().contains("came back as ACTIVE"),
        "{output}"
    );

    let (code, report, output) = verify(&account_states(false).path, "states", "0.5");
    assert_eq!(code, 0, "{output}");
    assert_eq!(report["lost_writes"], serde_json::json!([]), "{output}");
}

/// A bounded numeric `old` (the classic price -> price_cents spec): the numbers verify writes
/// to old stay under 100,000 (found by review: row numbers of 60,000,000 and more overflowed
/// `numeric(10,2)`, 22003, and correct triggers got "sync verify FAILED").
#[test]
fn a_numeric_price_to_cents_column_kind_verifies() {
    let project = generated(
        &[
            (
                "migrations/V1__products.sql",
                "CREATE SCHEMA shop;\n\
                 CREATE TABLE shop.products (id int PRIMARY KEY, price numeric(10,2) NOT NULL DEFAULT 0);",
            ),
            ("rollbacks/V1__products.sql", "DROP SCHEMA shop CASCADE;"),
            (
                "sync/cents.toml",
                "kind = \"column\"\ntable = \"shop.products\"\nold = \"price\"\n\
                 new = \"price_cents\"\ntype = \"bigint\"\nup = \"(price * 100)::bigint\"\n\
                 down = \"price_cents / 100.0\"\n",
            ),
        ],
        "cents",
    );
    let (code, report, output) = verify(&project.path, "cents", "1");
    assert_eq!(report["failed"], 0, "{output}");
    assert_eq!(code, 0, "{output}");
}

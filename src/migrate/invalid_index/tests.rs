//! Causes, fixes and which indexes a migration's statements could have left: all pure.

use super::*;

fn found(schema: &str, name: &str, table: &str) -> Found {
    Found {
        schema: schema.into(),
        name: name.into(),
        table_schema: schema.into(),
        table: table.into(),
        ready: false,
        live: true,
        partitioned: false,
        definition: format!("CREATE UNIQUE INDEX {name} ON {schema}.{table} USING btree (a)"),
        ancestors: vec![],
    }
}

fn index(schema: &str, name: &str, table: &str) -> InvalidIndex {
    explain(found(schema, name, table))
}

fn file(sql: &str) -> SqlFile {
    SqlFile {
        path: "migrations/V1__x.sql".into(),
        sql: sql.into(),
        statements: crate::sql::parse(sql).unwrap(),
        ..SqlFile::default()
    }
}

/// The names of the indexes of `all` that `sql` could have left.
fn left(sql: &str, all: &[InvalidIndex]) -> Vec<String> {
    left_by(&[&file(sql)], all)
        .iter()
        .map(|i| format!("{}.{}", i.schema, i.name))
        .collect()
}

#[test]
fn an_unfinished_create_is_dropped_and_built_again_concurrently() {
    let index = index("app", "t_a_key", "t");
    assert_eq!(index.cause, Cause::Create);
    assert_eq!(
        index.fix,
        [
            "DROP INDEX CONCURRENTLY \"app\".\"t_a_key\";",
            "CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON app.t USING btree (a);",
        ]
    );
    assert!(
        index.note.contains("writes do not maintain it"),
        "{index:?}"
    );
    let mut ready = found("app", "t_a_key", "t");
    ready.ready = true;
    assert!(explain(ready).note.contains("but writes maintain it"));
    assert_eq!(index.describe(), "app.t_a_key on app.t");
}

#[test]
fn reindex_leftovers_and_others_are_only_dropped() {
    let copy = index("app", "t_a_key_ccnew1", "t");
    assert_eq!(copy.cause, Cause::ReindexCopy);
    assert_eq!(
        copy.fix,
        ["DROP INDEX CONCURRENTLY \"app\".\"t_a_key_ccnew1\";"]
    );
    assert_eq!(
        index("app", "t_a_key_ccold", "t").cause,
        Cause::ReindexOriginal
    );
    // A name that only contains the suffix is not a leftover.
    assert_eq!(index("app", "t_ccnew_x", "t").cause, Cause::Create);
    let mut dropping = found("app", "t_a_key", "t");
    dropping.live = false;
    assert_eq!(explain(dropping).cause, Cause::Drop);
    let mut partitioned = found("app", "p_a", "p");
    partitioned.partitioned = true;
    let partitioned = explain(partitioned);
    assert_eq!(partitioned.cause, Cause::Partitioned);
    assert_eq!(partitioned.fix, ["DROP INDEX \"app\".\"p_a\";"]);
}

#[test]
fn a_create_index_concurrently_leaves_the_index_it_names() {
    let all = [
        index("app", "t_a", "t"),
        index("other", "t_a", "t"),
        index("app", "t_b", "t"),
        index("app", "u_a", "u"),
    ];
    let cic = "CREATE INDEX CONCURRENTLY t_a ON app.t (a)";
    assert_eq!(left(cic, &all), ["app.t_a"]);
    // Unqualified: the schema it ran in is not known afterwards.
    let cic = "CREATE INDEX CONCURRENTLY t_a ON t (a)";
    assert_eq!(left(cic, &all), ["app.t_a", "other.t_a"]);
    // Unnamed: any invalid index of its table.
    let cic = "CREATE INDEX CONCURRENTLY ON app.t (b)";
    assert_eq!(left(cic, &all), ["app.t_a", "app.t_b"]);
    // Without CONCURRENTLY a failure leaves nothing: not its index.
    assert!(left("CREATE INDEX u_a ON app.u (a)", &all).is_empty());
    assert!(left("SELECT 1", &all).is_empty());
}

#[test]
fn a_reindex_concurrently_leaves_the_copies_of_what_it_names() {
    let long = "x".repeat(63);
    let long_copy = format!("{}_ccnew", &long[..57]);
    let mut partition_copy = index("app", "p_2024_a_ccnew", "p_2024");
    partition_copy.ancestors = vec![("app".into(), "p".into())];
    let all = [
        index("app", "t_a_ccnew", "t"),
        index("app", "t_a_ccold1", "t"),
        index("app", "t_b_ccnew", "t"),
        index("app", "t_a", "t"),
        index("app", &long_copy, "t"),
        index("other", "u_a_ccnew", "u"),
        partition_copy,
    ];
    assert_eq!(
        left("REINDEX INDEX CONCURRENTLY app.t_a", &all),
        ["app.t_a_ccnew", "app.t_a_ccold1"]
    );
    assert_eq!(
        left(&format!("REINDEX INDEX CONCURRENTLY {long}"), &all),
        [format!("app.{long_copy}")]
    );
    assert_eq!(
        left("REINDEX TABLE CONCURRENTLY t", &all),
        [
            "app.t_a_ccnew",
            "app.t_a_ccold1",
            "app.t_b_ccnew",
            &format!("app.{long_copy}")
        ]
    );
    assert_eq!(
        left("REINDEX TABLE CONCURRENTLY app.p", &all),
        ["app.p_2024_a_ccnew"]
    );
    assert_eq!(
        left("REINDEX SCHEMA CONCURRENTLY other", &all),
        ["other.u_a_ccnew"]
    );
    assert_eq!(left("REINDEX DATABASE CONCURRENTLY", &all).len(), 6);
    assert!(left("REINDEX INDEX CONCURRENTLY app.t_c", &all).is_empty());
}

#[test]
fn the_refusal_names_each_index_its_fix_and_the_way_out() {
    let refusal = |indexes: Vec<InvalidIndex>, every_index| {
        Refusal::InvalidIndexes {
            version: 4,
            name: "tags_label".into(),
            every_index,
            indexes,
        }
        .to_string()
    };
    let one = refusal(vec![index("public", "tags_label_key", "tags")], false);
    assert!(
        one.starts_with(
            "migration 4 (tags_label) cannot be recorded as applied: it left an index \
             INVALID, as an interrupted CONCURRENTLY statement does"
        ),
        "{one}"
    );
    assert!(
        one.contains(
            "\n  public.tags_label_key on public.tags: queries do not use it and writes do \
             not maintain it; an unfinished CREATE INDEX CONCURRENTLY leaves this"
        ) && one.contains(
            "\n    fix: DROP INDEX CONCURRENTLY \"public\".\"tags_label_key\"; CREATE UNIQUE \
             INDEX CONCURRENTLY tags_label_key ON public.tags USING btree (a);"
        ) && one.contains(
            "\n  hint: drop it with DROP INDEX CONCURRENTLY, then build it again or finish \
             the migration by hand, then run `pgstrata repair --version 4 --mark-applied` \
             again"
        ),
        "{one}"
    );
    let two = refusal(vec![index("a", "x", "t"), index("b", "y_ccold", "u")], true);
    assert!(
        two.contains(
            "its file is not on disk to say which indexes it builds, and 2 indexes in the \
             database are INVALID"
        ) && two.contains("drop each with"),
        "{two}"
    );
}

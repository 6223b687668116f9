//! Introspection: reads one database's catalog into the [`Model`], one set-based query per
//! object kind (the `.sql` files under `queries/`), inside read-only repeatable-read
//! transactions that all see the same snapshot of the catalog.
//!
//! The session settings that change how the server prints definitions (search path, date
//! style, time zone...) are pinned for those transactions only, so the text depends on the
//! schema and not on the client. The queries fall in two halves of about equal cost, which
//! [`read_parallel`] runs on two connections at once. This module only reads; it neither
//! sorts for output nor renders.

mod operators;
mod prepared;
mod rows;
mod text_search;
mod wide;

use std::collections::HashMap;

use crate::conninfo::ConnInfo;
use anyhow::{Context, Result, anyhow, bail};
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, Row, Transaction};

use super::SnapshotOptions;
use super::model::*;
use super::sql::literal;
use rows::*;
use wide::*;

pub(crate) use prepared::Prepared;

// The catalog queries, one per kind.
const AGGREGATES: &str = include_str!("queries/aggregates.sql");
const CASTS: &str = include_str!("queries/casts.sql");
const COLLATIONS: &str = include_str!("queries/collations.sql");
const COLUMNS: &str = include_str!("queries/columns.sql");
const COMMENTS: &str = include_str!("queries/comments.sql");
const CONSTRAINTS: &str = include_str!("queries/constraints.sql");
const DEPENDS: &str = include_str!("queries/depends.sql");
const EXTENSIONS: &str = include_str!("queries/extensions.sql");
const FUNCTIONS: &str = include_str!("queries/functions.sql");
const INDEXES: &str = include_str!("queries/indexes.sql");
const POLICIES: &str = include_str!("queries/policies.sql");
const PRIVILEGES: &str = include_str!("queries/privileges.sql");
const SCHEMAS: &str = include_str!("queries/schemas.sql");
const RULES: &str = include_str!("queries/rules.sql");
const SEQUENCES: &str = include_str!("queries/sequences.sql");
const STATISTICS: &str = include_str!("queries/statistics.sql");
const TABLES: &str = include_str!("queries/tables.sql");
const TRIGGERS: &str = include_str!("queries/triggers.sql");
const TRIGGER_STATES: &str = include_str!("queries/trigger_states.sql");
const TYPES: &str = include_str!("queries/types.sql");
const VIEWS: &str = include_str!("queries/views.sql");
// Objects of the whole database, and security labels.
const DEFAULT_PRIVILEGES: &str = include_str!("queries/default_privileges.sql");
const EVENT_TRIGGERS: &str = include_str!("queries/event_triggers.sql");
const FOREIGN_DATA_WRAPPERS: &str = include_str!("queries/foreign_data_wrappers.sql");
const FOREIGN_SERVERS: &str = include_str!("queries/foreign_servers.sql");
const PUBLICATIONS: &str = include_str!("queries/publications.sql");
const PUBLICATION_MEMBERS: &str = include_str!("queries/publication_members.sql");
const SECURITY_LABELS: &str = include_str!("queries/security_labels.sql");
const USER_MAPPINGS: &str = include_str!("queries/user_mappings.sql");

/// Settings that reach the server's deparsed output, pinned for the transaction only. An
/// empty search path makes every name outside pg_catalog schema-qualified.
const SESSION: &str = "
    SELECT pg_catalog.set_config('search_path', '', true);
    SET LOCAL DateStyle = 'ISO, YMD';
    SET LOCAL IntervalStyle = postgres;
    SET LOCAL TimeZone = 'UTC';
    SET LOCAL extra_float_digits = 1;
    SET LOCAL bytea_output = hex;
    SET LOCAL standard_conforming_strings = on;
    SET LOCAL quote_all_identifiers = off;
    SET LOCAL lc_monetary = 'C';
    SET LOCAL lc_numeric = 'C';
";

/// Reads the schema of the connected database over that one connection.
pub(crate) fn read(client: &mut Client, options: &SnapshotOptions) -> Result<Model> {
    let mut tx = begin(client, None)?;
    let schemas = read_schemas(&mut tx, options)?;
    let kept: Vec<u32> = schemas.iter().map(|s| s.oid).collect();
    let relations = read_relations(&mut tx, &kept)?;
    let rest = read_the_rest(&mut tx, &kept)?;
    tx.commit().context("ending the snapshot transaction")?;
    Ok(combine(schemas, relations, rest))
}

/// Reads the schema over two connections to `conninfo`, the second importing the first's
/// snapshot (`pg_export_snapshot`), so that the server works on both halves at once.
pub(crate) fn read_parallel(conninfo: &ConnInfo, options: &SnapshotOptions) -> Result<Model> {
    let mut client = conninfo.connect()?;
    let mut tx = begin(&mut client, None)?;
    let snapshot: String = tx
        .query_one("SELECT pg_export_snapshot()", &[])
        .context("exporting the catalog snapshot")?
        .get(0);
    let schemas = read_schemas(&mut tx, options)?;
    let kept: Vec<u32> = schemas.iter().map(|s| s.oid).collect();
    // The exporting transaction stays open until the helper has imported its snapshot.
    let (relations, rest) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| read_the_rest_elsewhere(conninfo, &snapshot, &kept));
        let relations = read_relations(&mut tx, &kept);
        let rest = helper
            .join()
            .map_err(|_| anyhow!("the second snapshot connection's thread panicked"))?;
        Ok::<_, anyhow::Error>((relations?, rest?))
    })?;
    tx.commit().context("ending the snapshot transaction")?;
    Ok(combine(schemas, relations, rest))
}

fn read_the_rest_elsewhere(conninfo: &ConnInfo, snapshot: &str, kept: &[u32]) -> Result<Model> {
    let mut client = conninfo.connect().context("opening a second connection")?;
    let mut tx = begin(&mut client, Some(snapshot))?;
    let rest = read_the_rest(&mut tx, kept)?;
    tx.commit()
        .context("ending the second snapshot transaction")?;
    Ok(rest)
}

/// Starts a read-only repeatable-read transaction, on `snapshot` when given, with the
/// session settings pinned.
fn begin<'a>(client: &'a mut Client, snapshot: Option<&str>) -> Result<Transaction<'a>> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .context("starting the snapshot transaction")?;
    if let Some(id) = snapshot {
        // A utility statement takes no parameters; the id is the server's own (hex digits
        // and dashes), checked before it goes into the text.
        if !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            bail!("unexpected snapshot id {id:?} from pg_export_snapshot");
        }
        tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT {}", literal(id)))
            .context("importing the catalog snapshot")?;
    }
    tx.batch_execute(SESSION)
        .context("pinning the session settings for the snapshot")?;
    Ok(tx)
}

/// Runs one of the per-kind queries, which all take the kept schemas' oids as `$1`.
fn each<T>(
    tx: &mut Transaction,
    kept: &[u32],
    what: &str,
    sql: &'static str,
    map: impl Fn(&Row) -> Result<T, postgres::Error>,
) -> Result<Vec<T>> {
    let params: [&(dyn ToSql + Sync); 1] = [&kept];
    decode(query(tx, sql, &params), what, map)
}

fn read_all<T>(
    tx: &mut Transaction,
    what: &str,
    sql: &'static str,
    map: impl Fn(&Row) -> Result<T, postgres::Error>,
) -> Result<Vec<T>> {
    decode(query(tx, sql, &[]), what, map)
}

/// Runs a catalog query: its prepared statement when a [`Prepared`] is in use, else its text.
fn query(
    tx: &mut Transaction,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, postgres::Error> {
    match prepared::statement(tx, sql) {
        Some(statement) => tx.query(&statement?, params),
        None => tx.query(sql, params),
    }
}

/// Decodes rows. The server's `pg_get_*def` functions read the latest catalog, not the
/// transaction's snapshot, and give NULL for an object dropped since: a NULL where a
/// definition belongs means the schema changed while the snapshot was being taken.
fn decode<T>(
    rows: Result<Vec<Row>, postgres::Error>,
    what: &str,
    map: impl Fn(&Row) -> Result<T, postgres::Error>,
) -> Result<Vec<T>> {
    let rows = rows.with_context(|| format!("reading {what}"))?;
    rows.iter()
        .map(map)
        .collect::<Result<Vec<T>, _>>()
        .with_context(|| {
            format!(
                "reading {what}: a definition was missing, as when an object is dropped \
                 while the snapshot is taken; take the snapshot again"
            )
        })
}

fn read_schemas(tx: &mut Transaction, options: &SnapshotOptions) -> Result<Vec<Schema>> {
    let all = read_all(tx, "schemas", SCHEMAS, |r| {
        Ok(Schema {
            oid: r.try_get("oid")?,
            name: r.try_get("name")?,
        })
    })?;
    Ok(all
        .into_iter()
        .filter(|schema| options.keeps(&schema.name))
        .collect())
}

/// Tables, types, collations and sequences with their columns and constraints: half the
/// work.
fn read_relations(tx: &mut Transaction, kept: &[u32]) -> Result<Model> {
    let mut model = Model {
        extensions: each(tx, kept, "extensions", EXTENSIONS, extension)?,
        collations: each(tx, kept, "collations", COLLATIONS, collation_def)?,
        types: each(tx, kept, "types", TYPES, type_def)?,
        sequences: each(tx, kept, "sequences", SEQUENCES, sequence)?,
        tables: each(tx, kept, "tables", TABLES, table)?,
        ..Model::default()
    };
    let columns = each(tx, kept, "columns", COLUMNS, |r| {
        Ok((r.try_get("relation_oid")?, column(r)?))
    })?;
    attach_columns(&mut model, columns);
    let constraints = each(tx, kept, "constraints", CONSTRAINTS, constraint)?;
    attach_constraints(&mut model, constraints);
    read_wide(tx, kept, &mut model)?;
    Ok(model)
}

/// The objects of the whole database, and security labels: small catalogs, read with the
/// first half.
fn read_wide(tx: &mut Transaction, kept: &[u32], model: &mut Model) -> Result<()> {
    model.default_privileges = each(
        tx,
        kept,
        "default privileges",
        DEFAULT_PRIVILEGES,
        default_privilege,
    )?;
    model.event_triggers = each(tx, kept, "event triggers", EVENT_TRIGGERS, event_trigger)?;
    model.publications = each(tx, kept, "publications", PUBLICATIONS, publication)?;
    model.publication_members = each(
        tx,
        kept,
        "publication members",
        PUBLICATION_MEMBERS,
        publication_member,
    )?;
    model.foreign_data_wrappers = each(
        tx,
        kept,
        "foreign-data wrappers",
        FOREIGN_DATA_WRAPPERS,
        foreign_data_wrapper,
    )?;
    model.foreign_servers = read_all(tx, "foreign servers", FOREIGN_SERVERS, foreign_server)?;
    model.user_mappings = read_all(tx, "user mappings", USER_MAPPINGS, user_mapping)?;
    model.security_labels = read_all(tx, "security labels", SECURITY_LABELS, security_label)?;
    Ok(())
}

/// Indexes, extended statistics, routines and aggregates, views, triggers, rules, policies,
/// comments, privileges and dependencies: the other half.
fn read_the_rest(tx: &mut Transaction, kept: &[u32]) -> Result<Model> {
    Ok(Model {
        indexes: each(tx, kept, "indexes", INDEXES, index)?,
        statistics: each(tx, kept, "extended statistics", STATISTICS, statistics)?,
        functions: each(tx, kept, "functions", FUNCTIONS, function)?,
        aggregates: each(tx, kept, "aggregates", AGGREGATES, aggregate)?,
        casts: each(tx, kept, "casts", CASTS, cast)?,
        views: each(tx, kept, "views", VIEWS, view)?,
        triggers: each(tx, kept, "triggers", TRIGGERS, switchable)?,
        trigger_states: each(
            tx,
            kept,
            "partitions' trigger states",
            TRIGGER_STATES,
            trigger_state,
        )?,
        rules: each(tx, kept, "rules", RULES, switchable)?,
        policies: each(tx, kept, "policies", POLICIES, policy)?,
        privileges: each(tx, kept, "privileges", PRIVILEGES, privilege)?,
        comments: read_all(tx, "comments", COMMENTS, comment)?,
        dependencies: read_all(tx, "dependencies", DEPENDS, |r| {
            Ok((key(r, "catalog", "oid")?, key(r, "ref_catalog", "ref_oid")?))
        })?,
        operators: operators::read(tx, kept)?,
        conversions: operators::read_conversions(tx, kept)?,
        text_search: text_search::read(tx, kept)?,
        ..Model::default()
    })
}

fn combine(schemas: Vec<Schema>, relations: Model, rest: Model) -> Model {
    Model {
        schemas,
        indexes: rest.indexes,
        statistics: rest.statistics,
        functions: rest.functions,
        aggregates: rest.aggregates,
        casts: rest.casts,
        views: rest.views,
        triggers: rest.triggers,
        trigger_states: rest.trigger_states,
        rules: rest.rules,
        policies: rest.policies,
        privileges: rest.privileges,
        comments: rest.comments,
        dependencies: rest.dependencies,
        operators: rest.operators,
        conversions: rest.conversions,
        text_search: rest.text_search,
        ..relations
    }
}

/// Puts each column into its table or composite type, in attribute-number order.
fn attach_columns(model: &mut Model, columns: Vec<(u32, Column)>) {
    let mut by_relation: HashMap<u32, Vec<Column>> = HashMap::new();
    for (relation, column) in columns {
        by_relation.entry(relation).or_default().push(column);
    }
    for list in by_relation.values_mut() {
        list.sort_by_key(|c| c.position);
    }
    for table in &mut model.tables {
        table.columns = by_relation.remove(&table.oid).unwrap_or_default();
    }
    for def in &mut model.types {
        if let TypeKind::Composite {
            class_oid,
            attributes,
        } = &mut def.kind
        {
            *attributes = by_relation.remove(class_oid).unwrap_or_default();
        }
    }
}

/// Domain constraints go into their domain; table constraints stay a kind of their own.
fn attach_constraints(model: &mut Model, constraints: Vec<Constraint>) {
    let mut by_domain: HashMap<u32, Vec<Constraint>> = HashMap::new();
    for constraint in constraints {
        if constraint.domain_oid != 0 {
            by_domain
                .entry(constraint.domain_oid)
                .or_default()
                .push(constraint);
        } else {
            model.constraints.push(constraint);
        }
    }
    for def in &mut model.types {
        if let TypeKind::Domain { constraints, .. } = &mut def.kind {
            *constraints = by_domain.remove(&def.oid).unwrap_or_default();
        }
    }
}

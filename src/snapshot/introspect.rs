//! Introspection: reads one database's catalog into the [`Model`], one set-based query per
//! object kind (the `.sql` files under `queries/`), inside one read-only repeatable-read
//! transaction so that every query sees the same schema.
//!
//! The session settings that change how the server prints definitions (search path, date
//! style, time zone...) are pinned for the transaction, so the text depends on the schema and
//! not on the client. This module only reads; it neither sorts for output nor renders.

use std::collections::HashMap;

use anyhow::{Context, Result};
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, Row, Transaction};

use super::SnapshotOptions;
use super::model::*;

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

/// Reads the schema of the connected database.
pub(crate) fn read(client: &mut Client, options: &SnapshotOptions) -> Result<Model> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .context("starting the snapshot transaction")?;
    tx.batch_execute(SESSION)
        .context("pinning the session settings for the snapshot")?;
    let mut model = Model {
        schemas: read_schemas(&mut tx, options)?,
        ..Model::default()
    };
    let kept: Vec<u32> = model.schemas.iter().map(|s| s.oid).collect();
    let mut reader = Reader { tx: &mut tx, kept };
    model.extensions = reader.each("extensions", include_str!("queries/extensions.sql"), |r| {
        Extension {
            oid: r.get("oid"),
            name: r.get("name"),
            schema: r.get("schema"),
            version: r.get("version"),
        }
    })?;
    model.types = reader.each("types", include_str!("queries/types.sql"), type_def)?;
    model.sequences = reader.each("sequences", include_str!("queries/sequences.sql"), sequence)?;
    model.tables = reader.each("tables", include_str!("queries/tables.sql"), table)?;
    let columns = reader.each("columns", include_str!("queries/columns.sql"), |r| {
        (r.get::<_, u32>("relation_oid"), column(r))
    })?;
    attach_columns(&mut model, columns);
    let constraints = reader.each(
        "constraints",
        include_str!("queries/constraints.sql"),
        constraint,
    )?;
    attach_constraints(&mut model, constraints);
    model.indexes = reader.each("indexes", include_str!("queries/indexes.sql"), index)?;
    model.functions = reader.each("functions", include_str!("queries/functions.sql"), function)?;
    model.views = reader.each("views", include_str!("queries/views.sql"), view)?;
    model.triggers = reader.each("triggers", include_str!("queries/triggers.sql"), trigger)?;
    model.policies = reader.each("policies", include_str!("queries/policies.sql"), policy)?;
    model.privileges = reader.each(
        "privileges",
        include_str!("queries/privileges.sql"),
        privilege,
    )?;
    model.comments = read_all(
        &mut tx,
        "comments",
        include_str!("queries/comments.sql"),
        comment,
    )?;
    model.dependencies = read_all(
        &mut tx,
        "dependencies",
        include_str!("queries/depends.sql"),
        |r| (key(r, "catalog", "oid"), key(r, "ref_catalog", "ref_oid")),
    )?;
    tx.commit().context("ending the snapshot transaction")?;
    Ok(model)
}

/// Runs the per-kind queries, which all take the kept schemas' oids as `$1`.
struct Reader<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    kept: Vec<u32>,
}

impl Reader<'_, '_> {
    fn each<T>(&mut self, what: &str, sql: &str, map: impl Fn(&Row) -> T) -> Result<Vec<T>> {
        let params: [&(dyn ToSql + Sync); 1] = [&self.kept];
        let rows = self
            .tx
            .query(sql, &params)
            .with_context(|| format!("reading {what}"))?;
        Ok(rows.iter().map(map).collect())
    }
}

fn read_all<T>(
    tx: &mut Transaction,
    what: &str,
    sql: &str,
    map: impl Fn(&Row) -> T,
) -> Result<Vec<T>> {
    let rows = tx
        .query(sql, &[])
        .with_context(|| format!("reading {what}"))?;
    Ok(rows.iter().map(map).collect())
}

fn read_schemas(tx: &mut Transaction, options: &SnapshotOptions) -> Result<Vec<Schema>> {
    let all = read_all(tx, "schemas", include_str!("queries/schemas.sql"), |r| {
        Schema {
            oid: r.get("oid"),
            name: r.get("name"),
        }
    })?;
    Ok(all
        .into_iter()
        .filter(|schema| options.keeps(&schema.name))
        .collect())
}

fn key(row: &Row, catalog: &str, oid: &str) -> Key {
    (Catalog::from_name(row.get(catalog)), row.get(oid))
}

fn collation(row: &Row) -> Collation {
    let schema: Option<String> = row.get("collation_schema");
    let name: Option<String> = row.get("collation_name");
    schema.zip(name)
}

fn type_def(r: &Row) -> TypeDef {
    let kind: String = r.get("kind");
    let kind = match kind.as_str() {
        "e" => TypeKind::Enum {
            labels: r.get("labels"),
        },
        "d" => TypeKind::Domain {
            base_type: r.get("base_type"),
            collation: collation(r),
            not_null: r.get("not_null"),
            default: r.get("default_expr"),
            constraints: Vec::new(),
        },
        _ => TypeKind::Composite {
            class_oid: r.get("class_oid"),
            attributes: Vec::new(),
        },
    };
    TypeDef {
        oid: r.get("oid"),
        array_oid: r.get("array_oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        kind,
    }
}

fn sequence(r: &Row) -> Sequence {
    let owner_oid: Option<u32> = r.get("owner_oid");
    Sequence {
        oid: r.get("oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        unlogged: r.get("unlogged"),
        data_type: r.get("data_type"),
        options: SequenceOptions {
            start: r.get("start"),
            increment: r.get("increment"),
            min_value: r.get("min_value"),
            max_value: r.get("max_value"),
            cache: r.get("cache"),
            cycle: r.get("cycle"),
        },
        owner: owner_oid.map(|oid| {
            (
                oid,
                r.get("owner_schema"),
                r.get("owner_table"),
                r.get("owner_column"),
            )
        }),
    }
}

fn table(r: &Row) -> Table {
    let parent_oid: Option<u32> = r.get("parent_oid");
    Table {
        oid: r.get("oid"),
        type_oid: r.get("type_oid"),
        array_oid: r.get("array_oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        unlogged: r.get("unlogged"),
        partition_key: r.get("partition_key"),
        partition_of: parent_oid.map(|parent_oid| Partition {
            parent_oid,
            parent_schema: r.get("parent_schema"),
            parent_name: r.get("parent_name"),
            bound: r.get("partition_bound"),
        }),
        options: r.get("options"),
        toast_options: r.get("toast_options"),
        access_method: r.get("access_method"),
        row_security: r.get("row_security"),
        force_row_security: r.get("force_row_security"),
        replica_identity: r.get("replica_identity"),
        columns: Vec::new(),
    }
}

fn column(r: &Row) -> Column {
    let identity: String = r.get("identity");
    let generated: String = r.get("generated");
    let identity = (!identity.is_empty()).then(|| Identity {
        always: identity == "a",
        sequence_schema: r.get("identity_schema"),
        sequence_name: r.get("identity_name"),
        options: SequenceOptions {
            start: r.get("identity_start"),
            increment: r.get("identity_increment"),
            min_value: r.get("identity_min"),
            max_value: r.get("identity_max"),
            cache: r.get("identity_cache"),
            cycle: r.get("identity_cycle"),
        },
    });
    Column {
        position: r.get("position"),
        name: r.get("name"),
        data_type: r.get("data_type"),
        collation: collation(r),
        not_null: r.get("not_null"),
        default: r.get("default_expr"),
        default_oid: r.get("default_oid"),
        generated: generated == "s",
        identity,
        storage: r.get("storage"),
        compression: r.get("compression"),
        statistics: r.get("statistics"),
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

fn constraint(r: &Row) -> Constraint {
    let index_oid: Option<u32> = r.get("index_oid");
    Constraint {
        oid: r.get("oid"),
        name: r.get("name"),
        kind: r.get("kind"),
        relation_oid: r.get("relation_oid"),
        domain_oid: r.get("domain_oid"),
        definition: r.get("definition"),
        index: index_oid.map(|oid| ConstraintIndex {
            oid,
            name: r.get("index_name"),
            options: r.get("index_options"),
            clustered: r.get("clustered"),
            replica_identity: r.get("replica_identity"),
        }),
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

fn index(r: &Row) -> Index {
    Index {
        oid: r.get("oid"),
        relation_oid: r.get("relation_oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        definition: r.get("definition"),
        on_partitioned: r.get("on_partitioned"),
        clustered: r.get("clustered"),
        replica_identity: r.get("replica_identity"),
        table_schema: r.get("table_schema"),
        table_name: r.get("table_name"),
    }
}

fn function(r: &Row) -> Function {
    Function {
        oid: r.get("oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        is_procedure: r.get("is_procedure"),
        arguments: r.get("arguments"),
        definition: r.get("definition"),
    }
}

fn view(r: &Row) -> View {
    View {
        oid: r.get("oid"),
        type_oid: r.get("type_oid"),
        array_oid: r.get("array_oid"),
        rule_oid: r.get("rule_oid"),
        schema: r.get("schema"),
        name: r.get("name"),
        materialized: r.get("materialized"),
        definition: r.get("definition"),
        options: r.get("options"),
        access_method: r.get("access_method"),
    }
}

fn trigger(r: &Row) -> Trigger {
    Trigger {
        oid: r.get("oid"),
        relation_oid: r.get("relation_oid"),
        schema: r.get("schema"),
        table_name: r.get("table_name"),
        name: r.get("name"),
        definition: r.get("definition"),
        enabled: r.get("enabled"),
    }
}

fn policy(r: &Row) -> Policy {
    Policy {
        oid: r.get("oid"),
        relation_oid: r.get("relation_oid"),
        schema: r.get("schema"),
        table_name: r.get("table_name"),
        name: r.get("name"),
        command: r.get("command"),
        permissive: r.get("permissive"),
        roles: r.get("roles"),
        using_expr: r.get("using_expr"),
        check_expr: r.get("check_expr"),
    }
}

fn comment(r: &Row) -> Comment {
    Comment {
        object: key(r, "catalog", "oid"),
        position: r.get("position"),
        column: r.get("column_name"),
        text: r.get("description"),
    }
}

fn privilege(r: &Row) -> Privilege {
    Privilege {
        object: key(r, "catalog", "oid"),
        position: r.get("position"),
        column: r.get("column_name"),
        grant: r.get("is_grant"),
        grantee: r.get("grantee"),
        privilege: r.get("privilege_type"),
        grantable: r.get("is_grantable"),
    }
}

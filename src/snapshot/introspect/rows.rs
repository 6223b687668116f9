//! Row decoding: one function per query, from a catalog row to a model value. Nothing
//! here queries, sorts or renders.

use postgres::{Error, Row};

use crate::snapshot::model::*;

pub(super) fn key(row: &Row, catalog: &str, oid: &str) -> Result<Key, Error> {
    Ok((Catalog::from_name(row.try_get(catalog)?), row.try_get(oid)?))
}

pub(super) fn collation(row: &Row) -> Result<Collation, Error> {
    let schema: Option<String> = row.try_get("collation_schema")?;
    let name: Option<String> = row.try_get("collation_name")?;
    Ok(schema.zip(name))
}

pub(super) fn type_def(r: &Row) -> Result<TypeDef, Error> {
    let kind: String = r.try_get("kind")?;
    let kind = match kind.as_str() {
        "e" => TypeKind::Enum {
            labels: r.try_get("labels")?,
        },
        "d" => TypeKind::Domain {
            base_type: r.try_get("base_type")?,
            collation: collation(r)?,
            not_null: r.try_get("not_null")?,
            default: r.try_get("default_expr")?,
            constraints: Vec::new(),
        },
        "r" => TypeKind::Range(range(r)?),
        _ => TypeKind::Composite {
            class_oid: r.try_get("class_oid")?,
            attributes: Vec::new(),
        },
    };
    Ok(TypeDef {
        oid: r.try_get("oid")?,
        array_oid: r.try_get("array_oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        kind,
    })
}

pub(super) fn sequence(r: &Row) -> Result<Sequence, Error> {
    let owner_oid: Option<u32> = r.try_get("owner_oid")?;
    Ok(Sequence {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        unlogged: r.try_get("unlogged")?,
        data_type: r.try_get("data_type")?,
        options: SequenceOptions {
            start: r.try_get("start")?,
            increment: r.try_get("increment")?,
            min_value: r.try_get("min_value")?,
            max_value: r.try_get("max_value")?,
            cache: r.try_get("cache")?,
            cycle: r.try_get("cycle")?,
        },
        owner: match owner_oid {
            Some(oid) => Some((
                oid,
                r.try_get("owner_schema")?,
                r.try_get("owner_table")?,
                r.try_get("owner_column")?,
            )),
            None => None,
        },
    })
}

fn parents(r: &Row) -> Result<Vec<Parent>, Error> {
    let oids: Vec<u32> = r.try_get("inherits_oids")?;
    let schemas: Vec<String> = r.try_get("inherits_schemas")?;
    let names: Vec<String> = r.try_get("inherits_names")?;
    Ok(oids
        .into_iter()
        .zip(schemas)
        .zip(names)
        .map(|((oid, schema), name)| Parent { oid, schema, name })
        .collect())
}

pub(super) fn table(r: &Row) -> Result<Table, Error> {
    let parent_oid: Option<u32> = r.try_get("parent_oid")?;
    Ok(Table {
        oid: r.try_get("oid")?,
        type_oid: r.try_get("type_oid")?,
        array_oid: r.try_get("array_oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        unlogged: r.try_get("unlogged")?,
        partition_key: r.try_get("partition_key")?,
        partition_of: match parent_oid {
            Some(parent_oid) => Some(Partition {
                parent_oid,
                parent_schema: r.try_get("parent_schema")?,
                parent_name: r.try_get("parent_name")?,
                bound: r.try_get("partition_bound")?,
            }),
            None => None,
        },
        options: r.try_get("options")?,
        toast_options: r.try_get("toast_options")?,
        access_method: r.try_get("access_method")?,
        row_security: r.try_get("row_security")?,
        force_row_security: r.try_get("force_row_security")?,
        replica_identity: r.try_get("replica_identity")?,
        inherits: parents(r)?,
        of_type: r.try_get("of_type")?,
        foreign: match r.try_get::<_, Option<String>>("foreign_server")? {
            Some(server) => Some(ForeignTable {
                server,
                options: r.try_get("foreign_options")?,
            }),
            None => None,
        },
        columns: Vec::new(),
    })
}

pub(super) fn column(r: &Row) -> Result<Column, Error> {
    let identity: String = r.try_get("identity")?;
    let generated: String = r.try_get("generated")?;
    let identity = match identity.as_str() {
        "" => None,
        kind => Some(Identity {
            always: kind == "a",
            sequence_schema: r.try_get("identity_schema")?,
            sequence_name: r.try_get("identity_name")?,
            options: SequenceOptions {
                start: r.try_get("identity_start")?,
                increment: r.try_get("identity_increment")?,
                min_value: r.try_get("identity_min")?,
                max_value: r.try_get("identity_max")?,
                cache: r.try_get("identity_cache")?,
                cycle: r.try_get("identity_cycle")?,
            },
        }),
    };
    Ok(Column {
        position: r.try_get("position")?,
        name: r.try_get("name")?,
        data_type: r.try_get("data_type")?,
        collation: collation(r)?,
        not_null: r.try_get("not_null")?,
        default: r.try_get("default_expr")?,
        default_oid: r.try_get("default_oid")?,
        generated: generated == "s",
        identity,
        storage: r.try_get("storage")?,
        compression: r.try_get("compression")?,
        statistics: r.try_get("statistics")?,
        options: r.try_get("options")?,
        local: r.try_get("local")?,
        fdw_options: r.try_get("fdw_options")?,
    })
}

pub(super) fn constraint(r: &Row) -> Result<Constraint, Error> {
    let index_oid: Option<u32> = r.try_get("index_oid")?;
    Ok(Constraint {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        relation_oid: r.try_get("relation_oid")?,
        domain_oid: r.try_get("domain_oid")?,
        definition: r.try_get("definition")?,
        index: match index_oid {
            Some(oid) => Some(ConstraintIndex {
                oid,
                name: r.try_get("index_name")?,
                options: r.try_get("index_options")?,
                clustered: r.try_get("clustered")?,
                replica_identity: r.try_get("replica_identity")?,
            }),
            None => None,
        },
    })
}

pub(super) fn index(r: &Row) -> Result<Index, Error> {
    Ok(Index {
        oid: r.try_get("oid")?,
        relation_oid: r.try_get("relation_oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        definition: r.try_get("definition")?,
        on_partitioned: r.try_get("on_partitioned")?,
        clustered: r.try_get("clustered")?,
        replica_identity: r.try_get("replica_identity")?,
        table_schema: r.try_get("table_schema")?,
        table_name: r.try_get("table_name")?,
        valid: r.try_get("valid")?,
        ready: r.try_get("ready")?,
        live: r.try_get("live")?,
        statistics: {
            let columns: Vec<i32> = r.try_get("stat_columns")?;
            let targets: Vec<i32> = r.try_get("stat_targets")?;
            columns.into_iter().zip(targets).collect()
        },
    })
}

pub(super) fn function(r: &Row) -> Result<Function, Error> {
    Ok(Function {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        is_procedure: r.try_get("is_procedure")?,
        arguments: r.try_get("arguments")?,
        definition: r.try_get("definition")?,
    })
}

pub(super) fn view(r: &Row) -> Result<View, Error> {
    Ok(View {
        oid: r.try_get("oid")?,
        type_oid: r.try_get("type_oid")?,
        array_oid: r.try_get("array_oid")?,
        rule_oid: r.try_get("rule_oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        materialized: r.try_get("materialized")?,
        definition: r.try_get("definition")?,
        options: r.try_get("options")?,
        access_method: r.try_get("access_method")?,
        defaults: {
            let columns: Vec<String> = r.try_get("default_columns")?;
            let expressions: Vec<String> = r.try_get("default_expressions")?;
            let oids: Vec<u32> = r.try_get("default_oids")?;
            columns
                .into_iter()
                .zip(expressions)
                .zip(oids)
                .map(|((column, expression), oid)| (column, expression, oid))
                .collect()
        },
    })
}

/// A trigger or rule row (`triggers.sql`, `rules.sql` give the same columns).
pub(super) fn switchable(r: &Row) -> Result<Switchable, Error> {
    Ok(Switchable {
        oid: r.try_get("oid")?,
        relation_oid: r.try_get("relation_oid")?,
        schema: r.try_get("schema")?,
        table_name: r.try_get("table_name")?,
        name: r.try_get("name")?,
        definition: r.try_get("definition")?,
        enabled: r.try_get("enabled")?,
    })
}

pub(super) fn trigger_state(r: &Row) -> Result<TriggerState, Error> {
    Ok(TriggerState {
        root_oid: r.try_get("root_oid")?,
        depth: r.try_get("depth")?,
        relation_oid: r.try_get("relation_oid")?,
        schema: r.try_get("schema")?,
        table_name: r.try_get("table_name")?,
        name: r.try_get("name")?,
        enabled: r.try_get("enabled")?,
    })
}

pub(super) fn cast(r: &Row) -> Result<Cast, Error> {
    Ok(Cast {
        oid: r.try_get("oid")?,
        source: r.try_get("source")?,
        target: r.try_get("target")?,
        function: r.try_get("function")?,
        method: r.try_get("method")?,
        context: r.try_get("context")?,
    })
}

pub(super) fn statistics(r: &Row) -> Result<Statistics, Error> {
    Ok(Statistics {
        oid: r.try_get("oid")?,
        relation_oid: r.try_get("relation_oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        definition: r.try_get("definition")?,
        target: r.try_get("target")?,
    })
}

pub(super) fn policy(r: &Row) -> Result<Policy, Error> {
    Ok(Policy {
        oid: r.try_get("oid")?,
        relation_oid: r.try_get("relation_oid")?,
        schema: r.try_get("schema")?,
        table_name: r.try_get("table_name")?,
        name: r.try_get("name")?,
        command: r.try_get("command")?,
        permissive: r.try_get("permissive")?,
        roles: r.try_get("roles")?,
        using_expr: r.try_get("using_expr")?,
        check_expr: r.try_get("check_expr")?,
    })
}

pub(super) fn comment(r: &Row) -> Result<Comment, Error> {
    Ok(Comment {
        object: key(r, "catalog", "oid")?,
        position: r.try_get("position")?,
        column: r.try_get("column_name")?,
        text: r.try_get("description")?,
    })
}

pub(super) fn privilege(r: &Row) -> Result<Privilege, Error> {
    Ok(Privilege {
        object: key(r, "catalog", "oid")?,
        position: r.try_get("position")?,
        column: r.try_get("column_name")?,
        grant: r.try_get("is_grant")?,
        grantee: r.try_get("grantee")?,
        to_owner: r.try_get("to_owner")?,
        member_of: match r.try_get::<_, Option<u32>>("extension_oid")? {
            Some(extension) => Some((extension, r.try_get("member")?)),
            None => None,
        },
        privilege: r.try_get("privilege_type")?,
        grantable: r.try_get("is_grantable")?,
    })
}

pub(super) fn extension(r: &Row) -> Result<Extension, Error> {
    Ok(Extension {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        schema: r.try_get("schema")?,
        version: r.try_get("version")?,
    })
}

fn range(r: &Row) -> Result<Range, Error> {
    let opclass_schema: Option<String> = r.try_get("range_opclass_schema")?;
    let opclass_name: Option<String> = r.try_get("range_opclass_name")?;
    let collation_schema: Option<String> = r.try_get("range_collation_schema")?;
    let collation_name: Option<String> = r.try_get("range_collation_name")?;
    let multirange: Option<u32> = r.try_get("multirange_oid")?;
    Ok(Range {
        subtype: r.try_get("range_subtype")?,
        opclass: opclass_schema.zip(opclass_name),
        collation: collation_schema.zip(collation_name),
        canonical: r.try_get("range_canonical")?,
        subdiff: r.try_get("range_subdiff")?,
        multirange: match multirange {
            Some(oid) => Some((
                oid,
                r.try_get("multirange_array_oid")?,
                r.try_get("multirange_schema")?,
                r.try_get("multirange_name")?,
            )),
            None => None,
        },
    })
}

pub(super) fn collation_def(r: &Row) -> Result<CollationDef, Error> {
    Ok(CollationDef {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        provider: r.try_get("provider")?,
        deterministic: r.try_get("deterministic")?,
        lc_collate: r.try_get("lc_collate")?,
        lc_ctype: r.try_get("lc_ctype")?,
        locale: r.try_get("locale")?,
    })
}

pub(super) fn aggregate(r: &Row) -> Result<Aggregate, Error> {
    Ok(Aggregate {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        arguments: r.try_get("arguments")?,
        signature: r.try_get("signature")?,
        identity: r.try_get("identity")?,
        kind: r.try_get("kind")?,
        sfunc: r.try_get("sfunc")?,
        stype: r.try_get("stype")?,
        sspace: r.try_get("sspace")?,
        finalfunc: r.try_get("finalfunc")?,
        finalfunc_extra: r.try_get("finalfunc_extra")?,
        finalfunc_modify: r.try_get("finalfunc_modify")?,
        combinefunc: r.try_get("combinefunc")?,
        serialfunc: r.try_get("serialfunc")?,
        deserialfunc: r.try_get("deserialfunc")?,
        initcond: r.try_get("initcond")?,
        msfunc: r.try_get("msfunc")?,
        minvfunc: r.try_get("minvfunc")?,
        mstype: r.try_get("mstype")?,
        msspace: r.try_get("msspace")?,
        mfinalfunc: r.try_get("mfinalfunc")?,
        mfinalfunc_extra: r.try_get("mfinalfunc_extra")?,
        mfinalfunc_modify: r.try_get("mfinalfunc_modify")?,
        minitcond: r.try_get("minitcond")?,
        sortop: r.try_get("sortop")?,
        parallel: r.try_get("parallel")?,
    })
}

//! Reads operators, operator families and classes with their members, and conversions
//! (`queries/operators.sql`, `operator_families.sql`, `operator_classes.sql`,
//! `operator_members.sql`, `conversions.sql`) into the model. Reads only.

use anyhow::Result;
use postgres::{Error, Row, Transaction};

use super::each;
use crate::snapshot::model::*;

const OPERATORS: &str = include_str!("../queries/operators.sql");
const FAMILIES: &str = include_str!("../queries/operator_families.sql");
const CLASSES: &str = include_str!("../queries/operator_classes.sql");
const MEMBERS: &str = include_str!("../queries/operator_members.sql");
const CONVERSIONS: &str = include_str!("../queries/conversions.sql");

pub(super) fn read(tx: &mut Transaction, kept: &[u32]) -> Result<OperatorKinds> {
    Ok(OperatorKinds {
        operators: each(tx, kept, "operators", OPERATORS, operator)?,
        families: each(tx, kept, "operator families", FAMILIES, family)?,
        classes: each(tx, kept, "operator classes", CLASSES, class)?,
        members: each(tx, kept, "operator family members", MEMBERS, member)?,
    })
}

pub(super) fn read_conversions(tx: &mut Transaction, kept: &[u32]) -> Result<Vec<Conversion>> {
    each(tx, kept, "conversions", CONVERSIONS, conversion)
}

/// A (schema, name) pair from two nullable columns.
fn pair(r: &Row, schema: &str, name: &str) -> Result<Option<(String, String)>, Error> {
    let schema: Option<String> = r.try_get(schema)?;
    let name: Option<String> = r.try_get(name)?;
    Ok(schema.zip(name))
}

fn operator(r: &Row) -> Result<Operator, Error> {
    Ok(Operator {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        left_type: r.try_get("left_type")?,
        right_type: r.try_get("right_type")?,
        function: r.try_get("function")?,
        commutator: pair(r, "commutator_schema", "commutator")?,
        negator: pair(r, "negator_schema", "negator")?,
        restrict: r.try_get("restrict")?,
        join: r.try_get("join")?,
        hashes: r.try_get("hashes")?,
        merges: r.try_get("merges")?,
    })
}

fn family(r: &Row) -> Result<OperatorFamily, Error> {
    Ok(OperatorFamily {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        method: r.try_get("method")?,
    })
}

fn class(r: &Row) -> Result<OperatorClass, Error> {
    Ok(OperatorClass {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        method: r.try_get("method")?,
        input_type: r.try_get("input_type")?,
        is_default: r.try_get("is_default")?,
        family: (r.try_get("family_schema")?, r.try_get("family_name")?),
        storage: r.try_get("storage")?,
    })
}

fn member(r: &Row) -> Result<OperatorMember, Error> {
    Ok(OperatorMember {
        catalog: r.try_get("catalog")?,
        oid: r.try_get("oid")?,
        owner_catalog: r.try_get("owner_catalog")?,
        owner_oid: r.try_get("owner_oid")?,
        kind: r.try_get("kind")?,
        number: r.try_get("number")?,
        left_type: r.try_get("left_type")?,
        right_type: r.try_get("right_type")?,
        member: r.try_get("member")?,
        sort_family: pair(r, "sort_family_schema", "sort_family")?,
    })
}

fn conversion(r: &Row) -> Result<Conversion, Error> {
    Ok(Conversion {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        target: r.try_get("target")?,
        function: r.try_get("function")?,
        is_default: r.try_get("is_default")?,
    })
}

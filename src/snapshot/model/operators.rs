//! The model of operators, operator families and classes, and conversions: what
//! `queries/operators.sql`, `operator_families.sql`, `operator_classes.sql`,
//! `operator_members.sql` and `conversions.sql` read. Names as the server prints them with
//! the empty search path (qualified where not in pg_catalog), unless a field says otherwise.

/// Operators, operator families and classes, as read.
#[derive(Debug, Default)]
pub(crate) struct OperatorKinds {
    pub operators: Vec<Operator>,
    pub families: Vec<OperatorFamily>,
    pub classes: Vec<OperatorClass>,
    /// Every member of a family or class, each under what holds it.
    pub members: Vec<OperatorMember>,
}

/// `CREATE OPERATOR`.
#[derive(Debug)]
pub(crate) struct Operator {
    pub oid: u32,
    pub schema: String,
    /// The operator's symbol (`<<<`): never quoted.
    pub name: String,
    /// `None` for a prefix operator.
    pub left_type: Option<String>,
    pub right_type: String,
    /// The function, by name alone.
    pub function: String,
    /// (schema, symbol) of the commutator and the negator.
    pub commutator: Option<(String, String)>,
    pub negator: Option<(String, String)>,
    pub restrict: Option<String>,
    pub join: Option<String>,
    pub hashes: bool,
    pub merges: bool,
}

/// `CREATE OPERATOR FAMILY`; its loose members are [`OperatorMember`]s owned by it.
#[derive(Debug)]
pub(crate) struct OperatorFamily {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// The index access method (`btree`).
    pub method: String,
}

/// `CREATE OPERATOR CLASS`; its own members are [`OperatorMember`]s owned by it.
#[derive(Debug)]
pub(crate) struct OperatorClass {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub method: String,
    pub input_type: String,
    pub is_default: bool,
    /// The family: (schema, name), raw.
    pub family: (String, String),
    /// The storage type, where it is not the input type.
    pub storage: Option<String>,
}

/// An operator (`pg_amop`) or support function (`pg_amproc`) of a family: in its class's
/// `CREATE OPERATOR CLASS`, or in its family's `ALTER OPERATOR FAMILY ... ADD`.
#[derive(Debug)]
pub(crate) struct OperatorMember {
    /// `pg_amop` or `pg_amproc`, and the member's oid.
    pub catalog: String,
    pub oid: u32,
    /// `pg_opclass` or `pg_opfamily`, and its oid.
    pub owner_catalog: String,
    pub owner_oid: u32,
    /// `OPERATOR` or `FUNCTION`.
    pub kind: String,
    /// Strategy or support number.
    pub number: i32,
    pub left_type: String,
    pub right_type: String,
    /// `app.<<<(integer,integer)` or `app.cmp(integer,integer)`.
    pub member: String,
    /// An ordering operator's sort family: (schema, name), raw.
    pub sort_family: Option<(String, String)>,
}

/// `CREATE [DEFAULT] CONVERSION`.
#[derive(Debug)]
pub(crate) struct Conversion {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// Encoding names (`LATIN1`).
    pub source: String,
    pub target: String,
    /// The function, by name alone.
    pub function: String,
    pub is_default: bool,
}

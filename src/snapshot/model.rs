//! The catalog model: what introspection read, as plain data, before it becomes text.
//!
//! Names are raw (unquoted) and definitions are the server's own text (`pg_get_*def`,
//! `format_type`, `pg_get_expr`). Oids are kept only to tie objects together (a column to its
//! table, a comment to its object, a dependency to its block); rendering must never print
//! one, because they differ between two databases with the same schema.

mod operators;
mod text_search;

pub(crate) use operators::*;
pub(crate) use text_search::*;

/// The system catalog an oid belongs to, as `pg_depend` and `pg_description` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Catalog {
    Namespace,
    Extension,
    Collation,
    Type,
    Class,
    Proc,
    Constraint,
    AttrDef,
    Rewrite,
    Trigger,
    Policy,
    Cast,
    StatisticExt,
    Operator,
    OpFamily,
    OpClass,
    AmOp,
    AmProc,
    Conversion,
    TsParser,
    TsTemplate,
    TsDict,
    TsConfig,
    EventTrigger,
    Publication,
    ForeignDataWrapper,
    ForeignServer,
    Other,
}

impl Catalog {
    /// From `classid::regclass::text` (read with an empty search path, so unqualified).
    pub(crate) fn from_name(name: &str) -> Catalog {
        match name {
            "pg_namespace" => Catalog::Namespace,
            "pg_extension" => Catalog::Extension,
            "pg_collation" => Catalog::Collation,
            "pg_type" => Catalog::Type,
            "pg_class" => Catalog::Class,
            "pg_proc" => Catalog::Proc,
            "pg_constraint" => Catalog::Constraint,
            "pg_attrdef" => Catalog::AttrDef,
            "pg_rewrite" => Catalog::Rewrite,
            "pg_trigger" => Catalog::Trigger,
            "pg_policy" => Catalog::Policy,
            "pg_cast" => Catalog::Cast,
            "pg_statistic_ext" => Catalog::StatisticExt,
            "pg_operator" => Catalog::Operator,
            "pg_opfamily" => Catalog::OpFamily,
            "pg_opclass" => Catalog::OpClass,
            "pg_amop" => Catalog::AmOp,
            "pg_amproc" => Catalog::AmProc,
            "pg_conversion" => Catalog::Conversion,
            "pg_ts_parser" => Catalog::TsParser,
            "pg_ts_template" => Catalog::TsTemplate,
            "pg_ts_dict" => Catalog::TsDict,
            "pg_ts_config" => Catalog::TsConfig,
            "pg_event_trigger" => Catalog::EventTrigger,
            "pg_publication" => Catalog::Publication,
            "pg_foreign_data_wrapper" => Catalog::ForeignDataWrapper,
            "pg_foreign_server" => Catalog::ForeignServer,
            _ => Catalog::Other,
        }
    }
}

/// One catalog row: which catalog, which oid.
pub(crate) type Key = (Catalog, u32);

/// Everything introspection read from one database.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub schemas: Vec<Schema>,
    pub extensions: Vec<Extension>,
    pub collations: Vec<CollationDef>,
    pub types: Vec<TypeDef>,
    pub sequences: Vec<Sequence>,
    pub tables: Vec<Table>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub functions: Vec<Function>,
    pub aggregates: Vec<Aggregate>,
    pub casts: Vec<Cast>,
    pub views: Vec<View>,
    pub triggers: Vec<Switchable>,
    pub trigger_states: Vec<TriggerState>,
    pub rules: Vec<Switchable>,
    pub policies: Vec<Policy>,
    pub statistics: Vec<Statistics>,
    pub comments: Vec<Comment>,
    pub privileges: Vec<Privilege>,
    pub dependencies: Vec<(Key, Key)>,
    pub operators: OperatorKinds,
    pub conversions: Vec<Conversion>,
    pub text_search: TextSearchKinds,
    /// Objects of the whole database (below), and security labels.
    pub default_privileges: Vec<DefaultPrivilege>,
    pub event_triggers: Vec<EventTrigger>,
    pub publications: Vec<Publication>,
    pub publication_members: Vec<PublicationMember>,
    pub foreign_data_wrappers: Vec<ForeignDataWrapper>,
    pub foreign_servers: Vec<ForeignServer>,
    pub user_mappings: Vec<UserMapping>,
    pub security_labels: Vec<SecurityLabel>,
}

#[derive(Debug)]
pub(crate) struct Schema {
    pub oid: u32,
    pub name: String,
}

#[derive(Debug)]
pub(crate) struct Extension {
    pub oid: u32,
    pub name: String,
    pub schema: String,
    pub version: String,
}

/// A schema-qualified collation, given only where it is not the type's default.
pub(crate) type Collation = Option<(String, String)>;

/// A collation created with CREATE COLLATION.
#[derive(Debug)]
pub(crate) struct CollationDef {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// collprovider: `i` ICU, `c` libc.
    pub provider: String,
    pub deterministic: bool,
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    /// The ICU locale.
    pub locale: Option<String>,
}

#[derive(Debug)]
pub(crate) struct TypeDef {
    pub oid: u32,
    pub array_oid: u32,
    pub schema: String,
    pub name: String,
    pub kind: TypeKind,
}

#[derive(Debug)]
pub(crate) enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base_type: String,
        collation: Collation,
        not_null: bool,
        default: Option<String>,
        /// Check constraints, attached after reading constraints.sql.
        constraints: Vec<Constraint>,
    },
    Composite {
        class_oid: u32,
        /// Attributes, attached after reading columns.sql.
        attributes: Vec<Column>,
    },
    Range(Range),
}

/// A range type; opclass and collation only where they are not the subtype's defaults.
#[derive(Debug)]
pub(crate) struct Range {
    pub subtype: String,
    pub opclass: Option<(String, String)>,
    pub collation: Collation,
    pub canonical: Option<String>,
    pub subdiff: Option<String>,
    /// The multirange type created with it: oid, array oid, schema, name.
    pub multirange: Option<(u32, u32, String, String)>,
}

/// START, INCREMENT, MINVALUE, MAXVALUE, CACHE and CYCLE of a sequence or identity column.
#[derive(Debug, PartialEq)]
pub(crate) struct SequenceOptions {
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
}

#[derive(Debug)]
pub(crate) struct Sequence {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub unlogged: bool,
    pub data_type: String,
    pub options: SequenceOptions,
    /// The column that owns it (OWNED BY): table oid, schema, table, column.
    pub owner: Option<(u32, String, String, String)>,
}

#[derive(Debug)]
pub(crate) struct Identity {
    pub always: bool,
    pub sequence_schema: String,
    pub sequence_name: String,
    pub options: SequenceOptions,
}

#[derive(Debug)]
pub(crate) struct Column {
    /// attnum: orders columns; never printed (dropped columns leave gaps).
    pub position: i16,
    pub name: String,
    pub data_type: String,
    pub collation: Collation,
    pub not_null: bool,
    pub default: Option<String>,
    pub default_oid: Option<u32>,
    /// The default is a stored generation expression (GENERATED ALWAYS AS ... STORED).
    pub generated: bool,
    pub identity: Option<Identity>,
    pub storage: Option<String>,
    pub compression: Option<String>,
    /// SET STATISTICS target; -1 is the default.
    pub statistics: i32,
    /// Attribute options (`n_distinct=...`).
    pub options: Vec<String>,
    /// attislocal: defined by the table itself, not (only) inherited from a parent.
    pub local: bool,
    /// A foreign table's column options (`name=value` each).
    pub fdw_options: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Partition {
    pub parent_oid: u32,
    pub parent_schema: String,
    pub parent_name: String,
    pub bound: String,
}

#[derive(Debug)]
pub(crate) struct Table {
    pub oid: u32,
    pub type_oid: u32,
    pub array_oid: u32,
    pub schema: String,
    pub name: String,
    pub unlogged: bool,
    pub partition_key: Option<String>,
    pub partition_of: Option<Partition>,
    pub options: Vec<String>,
    pub toast_options: Vec<String>,
    pub access_method: Option<String>,
    pub row_security: bool,
    pub force_row_security: bool,
    /// relreplident: `d` default, `f` full, `n` nothing, `i` index (rendered with the index).
    pub replica_identity: String,
    /// The parents of a child table (`INHERITS`; not a partition's), in INHERITS order.
    pub inherits: Vec<Parent>,
    /// A typed table's composite type (`CREATE TABLE ... OF type`), as `format_type` gives it.
    pub of_type: Option<String>,
    /// A foreign table's server and options.
    pub foreign: Option<ForeignTable>,
    pub columns: Vec<Column>,
}

/// What makes a table foreign (`CREATE FOREIGN TABLE ... SERVER s OPTIONS (...)`).
#[derive(Debug)]
pub(crate) struct ForeignTable {
    pub server: String,
    /// `name=value` each.
    pub options: Vec<String>,
}

/// A parent of a child table (`INHERITS`).
#[derive(Debug)]
pub(crate) struct Parent {
    pub oid: u32,
    pub schema: String,
    pub name: String,
}

#[derive(Debug)]
pub(crate) struct Constraint {
    pub oid: u32,
    pub name: String,
    /// contype: `c`, `f`, `p`, `u` or `x`.
    pub kind: String,
    pub relation_oid: u32,
    pub domain_oid: u32,
    pub definition: String,
    /// The index behind a primary-key, unique or exclusion constraint.
    pub index: Option<ConstraintIndex>,
}

#[derive(Debug)]
pub(crate) struct ConstraintIndex {
    pub oid: u32,
    pub name: String,
    pub options: Vec<String>,
    pub clustered: bool,
    pub replica_identity: bool,
}

#[derive(Debug)]
pub(crate) struct Index {
    pub oid: u32,
    pub relation_oid: u32,
    pub schema: String,
    pub name: String,
    pub definition: String,
    pub on_partitioned: bool,
    pub clustered: bool,
    pub replica_identity: bool,
    pub table_schema: String,
    pub table_name: String,
    /// pg_index.indisvalid: false after an interrupted `CREATE INDEX CONCURRENTLY` or
    /// `REINDEX CONCURRENTLY` (queries do not use it), and for an index created `ON ONLY` a
    /// partitioned table until every partition has one attached.
    pub valid: bool,
    /// pg_index.indisready: writes maintain it (a unique one rejects duplicates).
    pub ready: bool,
    /// pg_index.indislive: false while (or after an interrupted) `DROP INDEX CONCURRENTLY`.
    pub live: bool,
    /// (column number, statistics target) of the columns given one, in column order.
    pub statistics: Vec<(i32, i32)>,
}

#[derive(Debug)]
pub(crate) struct Function {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub is_procedure: bool,
    /// Input argument types, as `oidvectortypes` gives them: `integer, text`.
    pub arguments: String,
    pub definition: String,
}

/// An aggregate: what CREATE AGGREGATE says, functions and types as the server prints them.
#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// Input argument types, as for functions.
    pub arguments: String,
    /// The argument list of CREATE AGGREGATE (`double precision ORDER BY double precision`).
    pub signature: String,
    /// The identity COMMENT ON AGGREGATE takes.
    pub identity: String,
    /// aggkind: `n` normal, `o` ordered-set, `h` hypothetical-set.
    pub kind: String,
    pub sfunc: String,
    pub stype: String,
    pub sspace: i32,
    pub finalfunc: Option<String>,
    pub finalfunc_extra: bool,
    pub finalfunc_modify: String,
    pub combinefunc: Option<String>,
    pub serialfunc: Option<String>,
    pub deserialfunc: Option<String>,
    pub initcond: Option<String>,
    pub msfunc: Option<String>,
    pub minvfunc: Option<String>,
    pub mstype: Option<String>,
    pub msspace: i32,
    pub mfinalfunc: Option<String>,
    pub mfinalfunc_extra: bool,
    pub mfinalfunc_modify: String,
    pub minitcond: Option<String>,
    pub sortop: Option<String>,
    /// proparallel: `s` safe, `r` restricted, `u` unsafe.
    pub parallel: String,
}

#[derive(Debug)]
pub(crate) struct View {
    pub oid: u32,
    pub type_oid: u32,
    pub array_oid: u32,
    pub rule_oid: Option<u32>,
    pub schema: String,
    pub name: String,
    pub materialized: bool,
    pub definition: String,
    pub options: Vec<String>,
    pub access_method: Option<String>,
    /// Column defaults of a view (column, expression, pg_attrdef oid).
    pub defaults: Vec<(String, String, u32)>,
}

/// A trigger or a rewrite rule: defined on one table or view, and switched on or off with
/// `ALTER TABLE ... ENABLE/DISABLE TRIGGER|RULE`.
#[derive(Debug)]
pub(crate) struct Switchable {
    pub oid: u32,
    pub relation_oid: u32,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// `pg_get_triggerdef` (no semicolon) or `pg_get_ruledef` (with one).
    pub definition: String,
    /// tgenabled / ev_enabled: `O` enabled, `D` disabled, `R` replica, `A` always.
    pub enabled: String,
}

/// A trigger a partition inherits from its partitioned parent, switched apart from the
/// parent's trigger (`trigger_states.sql`): rendered in the block of the trigger that
/// `CREATE TRIGGER` made, `root_oid`.
#[derive(Debug)]
pub(crate) struct TriggerState {
    pub root_oid: u32,
    /// 1 for a partition of the trigger's table, 2 for a partition of that partition...
    pub depth: i32,
    pub relation_oid: u32,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// tgenabled, as in [`Switchable::enabled`].
    pub enabled: String,
}

/// A cast (`casts.sql`). Types and function as the server prints them (qualified).
#[derive(Debug)]
pub(crate) struct Cast {
    pub oid: u32,
    pub source: String,
    pub target: String,
    /// The function's signature (`app.f(app.mood)`), for method `f`.
    pub function: Option<String>,
    /// castmethod: `f` function, `i` I/O conversion (WITH INOUT), `b` binary coercible.
    pub method: String,
    /// castcontext: `e` explicit only, `a` in assignment, `i` implicit.
    pub context: String,
}

/// An extended statistics object (`CREATE STATISTICS`).
#[derive(Debug)]
pub(crate) struct Statistics {
    pub oid: u32,
    pub relation_oid: u32,
    pub schema: String,
    pub name: String,
    /// `pg_get_statisticsobjdef`: `CREATE STATISTICS ... FROM ...`, without a semicolon.
    pub definition: String,
    /// The statistics target; -1 is the default.
    pub target: i32,
}

#[derive(Debug)]
pub(crate) struct Policy {
    pub oid: u32,
    pub relation_oid: u32,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// polcmd: `r` SELECT, `a` INSERT, `w` UPDATE, `d` DELETE, `*` ALL.
    pub command: String,
    pub permissive: bool,
    /// Role names; `""` is PUBLIC.
    pub roles: Vec<String>,
    pub using_expr: Option<String>,
    pub check_expr: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Comment {
    pub object: Key,
    /// 0 for the object itself, the attnum for a column.
    pub position: i32,
    pub column: Option<String>,
    pub text: String,
}

#[derive(Debug)]
pub(crate) struct Privilege {
    pub object: Key,
    pub position: i32,
    pub column: Option<String>,
    /// GRANT (beyond the defaults) or REVOKE (of a default).
    pub grant: bool,
    /// Role name; `""` is PUBLIC.
    pub grantee: String,
    /// The grantee is the object's owner (not a predefined role): written as `CURRENT_USER`,
    /// who owns what a loaded snapshot creates, so the text does not name the owner.
    pub to_owner: bool,
    /// On an object an extension made: the extension's oid and the object as GRANT names it
    /// (`ROUTINE public.digest(text,text)`); written in the extension's block.
    pub member_of: Option<(u32, String)>,
    pub privilege: String,
    pub grantable: bool,
}

// Objects of the whole database, and security labels.

/// One privilege an `ALTER DEFAULT PRIVILEGES` entry grants beyond, or revokes from, the
/// built-in defaults (`default_privileges.sql`).
#[derive(Debug)]
pub(crate) struct DefaultPrivilege {
    /// The role whose new objects get it (`FOR ROLE`).
    pub role: String,
    /// That role is the one taking the snapshot: written `CURRENT_USER`.
    pub role_is_current: bool,
    /// `IN SCHEMA`, or none for the whole database.
    pub schema: Option<String>,
    /// defaclobjtype: `r` tables, `S` sequences, `f` functions, `T` types, `n` schemas.
    pub object_type: String,
    pub grant: bool,
    /// Role name; `""` is PUBLIC.
    pub grantee: String,
    pub grantee_is_current: bool,
    pub privilege: String,
    pub grantable: bool,
}

#[derive(Debug)]
pub(crate) struct EventTrigger {
    pub oid: u32,
    pub name: String,
    pub event: String,
    /// The function, qualified and quoted.
    pub function: String,
    /// evtenabled: `O` enabled, `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    /// WHEN TAG IN, as stored (upper case).
    pub tags: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Publication {
    pub oid: u32,
    pub name: String,
    pub all_tables: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
    pub via_root: bool,
}

/// A table (FOR TABLE) or schema (FOR TABLES IN SCHEMA, `table_name` none) a publication
/// lists.
#[derive(Debug)]
pub(crate) struct PublicationMember {
    pub publication_oid: u32,
    pub schema: String,
    pub table_name: Option<String>,
    /// The column list, if any (unordered).
    pub columns: Option<Vec<String>>,
    /// The row filter, as `pg_get_expr` gives it.
    pub row_filter: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ForeignDataWrapper {
    pub oid: u32,
    pub name: String,
    pub handler: Option<String>,
    pub validator: Option<String>,
    /// `name=value` each.
    pub options: Vec<String>,
    /// Made by an extension: not written, but its servers are.
    pub member: bool,
    /// A loaded snapshot has it (see `foreign_data_wrappers.sql`).
    pub usable: bool,
}

#[derive(Debug)]
pub(crate) struct ForeignServer {
    pub oid: u32,
    pub name: String,
    pub wrapper_oid: u32,
    pub wrapper: String,
    pub server_type: Option<String>,
    pub version: Option<String>,
    pub options: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct UserMapping {
    pub server_oid: u32,
    pub server: String,
    /// Role name; `""` is PUBLIC.
    pub role: String,
    /// For the server's owner: written `CURRENT_USER`.
    pub for_owner: bool,
    pub options: Vec<String>,
}

/// A security label (`SECURITY LABEL FOR provider ON ... IS ...`), written in the block of
/// the object it is on, like a comment.
#[derive(Debug)]
pub(crate) struct SecurityLabel {
    pub object: Key,
    pub position: i32,
    pub column: Option<String>,
    pub provider: String,
    pub label: String,
}

//! What pgstrata needs to know about one statement, read off PostgreSQL's own parse tree:
//! whether it controls the transaction, cannot run inside one, talks to the client (COPY),
//! changes how the server reads the text pgstrata sends, or touches objects shared by the
//! whole server. Pure; never decides what to do about it (the loader and runner do).

use pg_query::protobuf::{
    self, AlterTableType, DiscardMode, ObjectType, ReindexObjectType, TransactionStmtKind,
    VariableSetKind,
};
use pg_query::{NodeEnum, NodeRef};

use super::view::{RelationName, ViewRole, altered, view_role};

/// The facts about one statement that the loader and the runner act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Class {
    /// `BEGIN`, `COMMIT`, `SAVEPOINT`…: what it does to the transaction, if anything.
    pub transaction: Option<TransactionControl>,
    /// The statement cannot run inside a transaction block (`CREATE INDEX CONCURRENTLY`,
    /// `VACUUM`, `CREATE DATABASE`…): the command, for messages.
    pub needs_autocommit: Option<&'static str>,
    /// A `CONCURRENTLY` statement: its waits block no reader or writer, so the default
    /// `lock_timeout` does not apply to it (a timeout would only make it fail half done).
    pub concurrent: bool,
    /// `COPY … FROM STDIN` or `COPY … TO STDOUT`: data exchanged with the client.
    pub copy_with_client: Option<&'static str>,
    /// Sets `client_encoding` or `standard_conforming_strings` to something else than what
    /// pgstrata reads and sends (UTF-8, standard strings): the setting's name.
    pub changes_reading: Option<&'static str>,
    /// `RESET ALL`, `RESET lock_timeout`, `RESET statement_timeout`: returns the time limits
    /// pgstrata set for the file to the session's defaults.
    pub resets_limits: bool,
    /// `DISCARD ALL` or `pg_advisory_unlock_all()`: releases every advisory lock of the
    /// session, pgstrata's migration lock included.
    pub releases_locks: bool,
    /// `PREPARE`: a prepared statement outlives the file's transaction and the file.
    pub prepares: bool,
    /// Creates, changes or drops objects shared by every database of the server (roles,
    /// databases, tablespaces, server settings): what kind, for messages.
    pub cluster_wide: Option<&'static str>,
    /// `CREATE INDEX CONCURRENTLY`: the index it builds, which a failure leaves INVALID.
    pub concurrent_index: Option<IndexName>,
    /// `REINDEX … CONCURRENTLY`: what it rebuilds. A failure leaves the INVALID copies it was
    /// building (`<index>_ccnew`) or the originals it had replaced (`<index>_ccold`).
    pub concurrent_reindex: Option<ReindexTarget>,
    /// `CALL`, or a `DO` block whose body may end transactions: outside a transaction block
    /// it can COMMIT part of its work before it fails, so it must not run twice.
    pub may_commit: bool,
    /// What the statement is to a view file: the view's definition, a statement about one
    /// relation, or something a view file may not hold.
    pub view: ViewRole,
    /// The relations it alters or drops (`ALTER TABLE`, `DROP TABLE`…): where managed views
    /// reading them may stand in its way.
    pub alters: Vec<RelationName>,
}

/// What a `REINDEX … CONCURRENTLY` names: one index, the indexes of one table, of one
/// schema, or of the whole database (`REINDEX SYSTEM` cannot run concurrently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReindexTarget {
    /// `REINDEX INDEX [schema.]name`.
    Index {
        schema: Option<String>,
        name: String,
    },
    /// `REINDEX TABLE [schema.]name`: its indexes, its TOAST table's, and, for a partitioned
    /// table, its partitions'.
    Table {
        schema: Option<String>,
        name: String,
    },
    /// `REINDEX SCHEMA name`.
    Schema(String),
    /// `REINDEX DATABASE`: the database the session is connected to.
    Database,
}

/// How a statement controls the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    /// Starts or ends one: `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `PREPARE
    /// TRANSACTION`, `COMMIT PREPARED`…
    Block,
    /// Works inside one: `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`.
    Savepoint,
}

/// An index named by a statement: `schema.name` or `name`, on `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexName {
    /// The table's schema when the statement names it (the index is created there).
    pub schema: Option<String>,
    /// `None` when PostgreSQL chooses the name (`CREATE INDEX CONCURRENTLY ON t (a)`).
    pub name: Option<String>,
    pub table: String,
}

/// Classifies a top-level statement node.
pub fn classify(node: &NodeEnum) -> Class {
    let mut class = Class {
        view: view_role(node),
        alters: altered(node),
        ..Class::default()
    };
    match node {
        NodeEnum::TransactionStmt(stmt) => {
            class.transaction = Some(match TransactionStmtKind::try_from(stmt.kind) {
                Ok(
                    TransactionStmtKind::TransStmtSavepoint
                    | TransactionStmtKind::TransStmtRelease
                    | TransactionStmtKind::TransStmtRollbackTo,
                ) => TransactionControl::Savepoint,
                _ => TransactionControl::Block,
            });
        }
        NodeEnum::IndexStmt(stmt) if stmt.concurrent => {
            class.needs_autocommit = Some("CREATE INDEX CONCURRENTLY");
            class.concurrent = true;
            class.concurrent_index = stmt.relation.as_ref().map(|table| IndexName {
                schema: non_empty(&table.schemaname),
                name: non_empty(&stmt.idxname),
                table: table.relname.clone(),
            });
        }
        NodeEnum::DropStmt(stmt) if stmt.concurrent => {
            class.needs_autocommit = Some("DROP INDEX CONCURRENTLY");
            class.concurrent = true;
        }
        NodeEnum::ReindexStmt(stmt) => {
            let concurrently = stmt
                .params
                .iter()
                .any(|p| def_name(p) == Some("concurrently"));
            let many = matches!(
                ReindexObjectType::try_from(stmt.kind),
                Ok(ReindexObjectType::ReindexObjectSchema
                    | ReindexObjectType::ReindexObjectSystem
                    | ReindexObjectType::ReindexObjectDatabase)
            );
            if concurrently {
                class.needs_autocommit = Some("REINDEX CONCURRENTLY");
                class.concurrent = true;
                class.concurrent_reindex = reindex_target(stmt);
            } else if many {
                class.needs_autocommit = Some("REINDEX SCHEMA/SYSTEM/DATABASE");
            }
        }
        NodeEnum::AlterTableStmt(stmt) => {
            let detach_concurrently = stmt.cmds.iter().any(|cmd| match &cmd.node {
                Some(NodeEnum::AlterTableCmd(cmd)) => {
                    cmd.subtype == AlterTableType::AtDetachPartition as i32
                        && matches!(
                            cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::PartitionCmd(p)) if p.concurrent
                        )
                }
                _ => false,
            });
            if detach_concurrently {
                class.needs_autocommit = Some("ALTER TABLE … DETACH PARTITION … CONCURRENTLY");
                class.concurrent = true;
            }
        }
        NodeEnum::VacuumStmt(stmt) if stmt.is_vacuumcmd => {
            class.needs_autocommit = Some("VACUUM");
        }
        NodeEnum::ClusterStmt(stmt) if stmt.relation.is_none() => {
            class.needs_autocommit = Some("CLUSTER without a table");
        }
        NodeEnum::DiscardStmt(stmt) if stmt.target == DiscardMode::DiscardAll as i32 => {
            class.needs_autocommit = Some("DISCARD ALL");
            class.releases_locks = true;
        }
        NodeEnum::CreatedbStmt(_) => {
            class.needs_autocommit = Some("CREATE DATABASE");
            class.cluster_wide = Some("databases");
        }
        NodeEnum::DropdbStmt(_) => {
            class.needs_autocommit = Some("DROP DATABASE");
            class.cluster_wide = Some("databases");
        }
        NodeEnum::AlterDatabaseStmt(stmt) => {
            if stmt
                .options
                .iter()
                .any(|o| def_name(o) == Some("tablespace"))
            {
                class.needs_autocommit = Some("ALTER DATABASE … SET TABLESPACE");
            }
            class.cluster_wide = Some("databases");
        }
        NodeEnum::CreateTableSpaceStmt(_) => {
            class.needs_autocommit = Some("CREATE TABLESPACE");
            class.cluster_wide = Some("tablespaces");
        }
        NodeEnum::DropTableSpaceStmt(_) => {
            class.needs_autocommit = Some("DROP TABLESPACE");
            class.cluster_wide = Some("tablespaces");
        }
        NodeEnum::AlterSystemStmt(_) => {
            class.needs_autocommit = Some("ALTER SYSTEM");
            class.cluster_wide = Some("server settings (ALTER SYSTEM)");
        }
        NodeEnum::CreateSubscriptionStmt(stmt) => {
            // It creates a replication slot on the publisher unless told not to, and that
            // cannot be done inside a transaction block.
            let off = |name: &str| {
                stmt.options
                    .iter()
                    .any(|o| def_name(o) == Some(name) && def_is_false(o))
            };
            if !off("create_slot") && !off("connect") {
                class.needs_autocommit = Some("CREATE SUBSCRIPTION (creating a slot)");
            }
        }
        NodeEnum::CopyStmt(stmt) if stmt.filename.is_empty() && !stmt.is_program => {
            class.copy_with_client = Some(if stmt.is_from {
                "COPY … FROM STDIN"
            } else {
                "COPY … TO STDOUT"
            });
        }
        // A procedure may COMMIT (its body is not in the file). A DO block can only through
        // COMMIT or ROLLBACK in its own body or a procedure it CALLs (functions cannot), so
        // a body that mentions none of them cannot; any mention counts, in whatever language.
        NodeEnum::CallStmt(_) => class.may_commit = true,
        NodeEnum::PrepareStmt(_) => class.prepares = true,
        NodeEnum::DoStmt(stmt) => {
            let body = stmt
                .args
                .iter()
                .find(|arg| def_name(arg) == Some("as"))
                .and_then(def_text)
                .map(str::to_ascii_lowercase);
            class.may_commit = body.as_deref().is_none_or(|body| {
                ["commit", "rollback", "call"]
                    .iter()
                    .any(|word| body.contains(word))
            });
            // Role DDL in a block (a baseline makes missing roles so): a mention counts, as
            // above, so that `check` keeps such a project off a server it would outlive.
            if body.as_deref().is_some_and(|body| {
                ["create role", "alter role", "drop role", "create user"]
                    .iter()
                    .any(|words| body.contains(words))
            }) {
                class.cluster_wide = Some("roles");
            }
        }
        NodeEnum::VariableSetStmt(stmt) => {
            class.changes_reading = changes_reading(stmt);
            // `SET lock_timeout TO DEFAULT` is RESET under another name.
            class.resets_limits = stmt.kind == VariableSetKind::VarResetAll as i32
                || ((stmt.kind == VariableSetKind::VarReset as i32
                    || stmt.kind == VariableSetKind::VarSetDefault as i32)
                    && matches!(stmt.name.as_str(), "lock_timeout" | "statement_timeout"));
        }
        NodeEnum::CreateRoleStmt(_)
        | NodeEnum::AlterRoleStmt(_)
        | NodeEnum::AlterRoleSetStmt(_)
        | NodeEnum::DropRoleStmt(_)
        | NodeEnum::GrantRoleStmt(_) => class.cluster_wide = Some("roles"),
        NodeEnum::AlterTableSpaceOptionsStmt(_) => class.cluster_wide = Some("tablespaces"),
        NodeEnum::CommentStmt(stmt) => class.cluster_wide = shared_kind(stmt.objtype),
        NodeEnum::SecLabelStmt(stmt) => class.cluster_wide = shared_kind(stmt.objtype),
        NodeEnum::GrantStmt(stmt) => class.cluster_wide = shared_kind(stmt.objtype),
        NodeEnum::AlterOwnerStmt(stmt) => class.cluster_wide = shared_kind(stmt.object_type),
        NodeEnum::RenameStmt(stmt) => class.cluster_wide = shared_kind(stmt.rename_type),
        _ => {}
    }
    if class.changes_reading.is_none() {
        class.changes_reading = set_config_changing_reading(node);
    }
    class.releases_locks |= calls(node, "pg_advisory_unlock_all");
    class
}

/// Whether a statement's expressions call the function `name` (`SELECT
/// pg_advisory_unlock_all()`). Function bodies are not looked into.
fn calls(node: &NodeEnum, name: &str) -> bool {
    node.nodes().into_iter().any(|(node, ..)| {
        let NodeRef::FuncCall(call) = node else {
            return false;
        };
        matches!(
            call.funcname.last().and_then(|n| n.node.as_ref()),
            Some(NodeEnum::String(f)) if f.sval == name
        )
    })
}

/// What a REINDEX statement names; `None` for `REINDEX SYSTEM`, which never runs
/// concurrently.
fn reindex_target(stmt: &protobuf::ReindexStmt) -> Option<ReindexTarget> {
    let relation = || {
        let table = stmt.relation.as_ref()?;
        Some((non_empty(&table.schemaname), table.relname.clone()))
    };
    match ReindexObjectType::try_from(stmt.kind).ok()? {
        ReindexObjectType::ReindexObjectIndex => {
            relation().map(|(schema, name)| ReindexTarget::Index { schema, name })
        }
        ReindexObjectType::ReindexObjectTable => {
            relation().map(|(schema, name)| ReindexTarget::Table { schema, name })
        }
        ReindexObjectType::ReindexObjectSchema => Some(ReindexTarget::Schema(stmt.name.clone())),
        ReindexObjectType::ReindexObjectDatabase => Some(ReindexTarget::Database),
        _ => None,
    }
}

/// `SET client_encoding` to anything but UTF-8, `SET standard_conforming_strings` to off:
/// after either, the server reads (or encodes) what pgstrata sends differently from how
/// pgstrata and PostgreSQL's parser read it.
fn changes_reading(stmt: &protobuf::VariableSetStmt) -> Option<&'static str> {
    if stmt.kind != VariableSetKind::VarSetValue as i32 {
        return None;
    }
    let value = stmt.args.first().and_then(const_text)?;
    reading_setting(&stmt.name, Some(&value))
}

/// `set_config('client_encoding', …)` or `set_config('standard_conforming_strings', …)` in
/// a statement's expressions (`SELECT set_config(…)`): the function form of `SET`, with the
/// same effect on every statement sent after it. Function bodies are not looked into: they
/// change nothing until called.
fn set_config_changing_reading(node: &NodeEnum) -> Option<&'static str> {
    node.nodes().into_iter().find_map(|(node, ..)| {
        let NodeRef::FuncCall(call) = node else {
            return None;
        };
        let name = match call.funcname.last().and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::String(name)) => name.sval.as_str(),
            _ => return None,
        };
        if name != "set_config" {
            return None;
        }
        let setting = call.args.first().and_then(const_text)?;
        // A value that is not a constant may be anything: refuse it like a bad one.
        let value = call.args.get(1).and_then(const_text);
        reading_setting(&setting, value.as_deref())
    })
}

/// The setting's name when `name = value` makes the server read SQL differently from how
/// pgstrata sends it (UTF-8, standard conforming strings); `None` for an unknown value.
fn reading_setting(name: &str, value: Option<&str>) -> Option<&'static str> {
    let value = value.map(str::to_ascii_lowercase);
    match (name.to_ascii_lowercase().as_str(), value.as_deref()) {
        ("client_encoding", Some("utf8" | "utf-8" | "unicode")) => None,
        ("client_encoding", _) => Some("client_encoding"),
        ("standard_conforming_strings", Some("on" | "true" | "yes" | "1")) => None,
        ("standard_conforming_strings", _) => Some("standard_conforming_strings"),
        _ => None,
    }
}

/// Roles, databases and tablespaces live in catalogs shared by every database.
fn shared_kind(object_type: i32) -> Option<&'static str> {
    match ObjectType::try_from(object_type) {
        Ok(ObjectType::ObjectRole) => Some("roles"),
        Ok(ObjectType::ObjectDatabase) => Some("databases"),
        Ok(ObjectType::ObjectTablespace) => Some("tablespaces"),
        _ => None,
    }
}

/// The text of a constant (`'LATIN1'`, `off`, `0`, `true`).
fn const_text(node: &protobuf::Node) -> Option<String> {
    use protobuf::a_const::Val;
    let Some(NodeEnum::AConst(constant)) = &node.node else {
        return None;
    };
    match constant.val.as_ref()? {
        Val::Sval(s) => Some(s.sval.clone()),
        Val::Ival(i) => Some(i.ival.to_string()),
        Val::Boolval(b) => Some(b.boolval.to_string()),
        Val::Fval(f) => Some(f.fval.clone()),
        Val::Bsval(b) => Some(b.bsval.clone()),
    }
}

/// The name of a `DefElem` option node.
fn def_name(node: &protobuf::Node) -> Option<&str> {
    match &node.node {
        Some(NodeEnum::DefElem(def)) => Some(def.defname.as_str()),
        _ => None,
    }
}

/// The text of a `DefElem` option's string value (a DO block's body).
fn def_text(node: &protobuf::Node) -> Option<&str> {
    let Some(NodeEnum::DefElem(def)) = &node.node else {
        return None;
    };
    match def.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    }
}

/// Whether a `DefElem` option's value reads as false (`false`, `off`, `0`).
fn def_is_false(node: &protobuf::Node) -> bool {
    let Some(NodeEnum::DefElem(def)) = &node.node else {
        return false;
    };
    let value = match def.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::String(s)) => s.sval.to_ascii_lowercase(),
        Some(NodeEnum::Boolean(b)) => b.boolval.to_string(),
        Some(NodeEnum::Integer(i)) => i.ival.to_string(),
        _ => return false,
    };
    matches!(value.as_str(), "false" | "off" | "0" | "no")
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

//! `pgstrata lint`: static rules over migrations and rollbacks, read off PostgreSQL's own
//! parse tree. Each finding names what the statement locks, rewrites or loses, and the safe
//! alternative. No database: a rule judges the text only, so it never fires on a table the
//! file created earlier (nobody reads it yet), and says "may" where only the database knows.
//!
//! A finding is suppressed by `-- pgstrata:lint-ignore RULE reason` on a line right before
//! the statement (several such lines may stack); a directive without a reason, or naming no
//! known rule, is itself a finding (`lint-ignore`, an error), so the rest of the file is
//! still linted. Pure: nothing here touches a database.

use std::collections::{HashMap, HashSet};

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType, ReindexObjectType};
use serde::Serialize;

use super::parse::{SyntaxError, parse_tree_of};
use super::text;
// Compared with `RelationName::may_be`: by schema only when both give one.
use super::view::RelationName as Table;

/// How bad a finding is. Errors rewrite, block or lose data of an existing table (and
/// `check` reports them); warnings are about the running application or need judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One rule: its id (as `lint-ignore` names it), severity and safe alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub safe: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $safe:literal;)*) => {
        $(pub const $name: Rule = Rule { id: $id, severity: Severity::$sev, safe: $safe };)*
        /// Every rule, in the order of the documentation.
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    INDEX_NOT_CONCURRENT = "index-not-concurrently", Error,
        "CREATE INDEX CONCURRENTLY in a file of its own with `-- pgstrata:no-transaction`";
    ADD_COLUMN_REWRITE = "add-column-rewrite", Error,
        "add the column without a default (or with a constant one), then backfill it in batches and set the default";
    COLUMN_TYPE_REWRITE = "alter-column-type", Error,
        "add a column of the new type, backfill it in batches, switch the application, then drop the old column";
    SET_NOT_NULL = "set-not-null", Error,
        "ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT (in a later migration), then SET NOT NULL, which uses it";
    CONSTRAINT_NOT_VALID = "constraint-not-valid", Error,
        "add it with NOT VALID, then VALIDATE CONSTRAINT in a later migration (which blocks no writes)";
    UNIQUE_WITHOUT_INDEX = "unique-without-index", Error,
        "CREATE UNIQUE INDEX CONCURRENTLY first (no-transaction file), then ADD CONSTRAINT … UNIQUE/PRIMARY KEY USING INDEX";
    DROP_TABLE = "drop-table", Error,
        "stop the application using it first, and drop it in a later release (or rename it aside and drop it once nothing broke)";
    DROP_COLUMN = "drop-column", Error,
        "stop the application reading the column first (deploy that), then drop it in a later migration";
    DROP_SCHEMA = "drop-schema", Error,
        "drop the objects one by one once nothing uses them";
    TRUNCATE = "truncate", Error,
        "delete in batches with a WHERE clause, or archive the rows first";
    DELETE_WITHOUT_WHERE = "delete-without-where", Error,
        "delete with a WHERE clause, in batches";
    UPDATE_WITHOUT_WHERE = "update-without-where", Warning,
        "backfill in batches (UPDATE … WHERE id BETWEEN …), outside the schema migration";
    RENAME_TABLE = "rename-table", Warning,
        "create the new name as a view over the old table (or the reverse) while both versions of the application run";
    RENAME_COLUMN = "rename-column", Warning,
        "add a new column, write both, backfill, switch readers, then drop the old one";
    VACUUM_FULL = "vacuum-full", Error,
        "plain VACUUM, or pg_repack / pg_squeeze, which rebuild without a long ACCESS EXCLUSIVE lock";
    CLUSTER = "cluster", Error,
        "pg_repack --order-by, which rebuilds without a long ACCESS EXCLUSIVE lock";
    REINDEX_NOT_CONCURRENT = "reindex-not-concurrently", Error,
        "REINDEX … CONCURRENTLY in a no-transaction file";
    LOCK_TABLE = "lock-table", Warning,
        "let each statement take the lock it needs, with a lock_timeout; keep the transaction short";
    MANY_EXCLUSIVE_LOCKS = "many-exclusive-locks", Warning,
        "split the migration so each transaction takes ACCESS EXCLUSIVE on one existing table, or take them in one fixed order everywhere";
    LINT_IGNORE = "lint-ignore", Error,
        "write `-- pgstrata:lint-ignore RULE reason` with a known rule and the reason the finding does not apply";
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    /// Byte offset of the statement (or directive) in the file.
    pub offset: usize,
    /// What it locks, rewrites or loses.
    pub message: String,
}

impl Finding {
    /// `(line, column)` in `script`, 1-based.
    pub fn position(&self, script: &str) -> (usize, usize) {
        text::line_col(script, self.offset)
    }
}

/// Whether a file is a migration (data-loss rules apply) or a rollback (they do not: undoing
/// a migration drops what it made, and `down` guards data loss in the database itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Migration,
    Rollback,
}

/// Lints files in order, remembering across them the `IS NOT NULL` checks validated (a check
/// validated in V5 makes V6's `SET NOT NULL` safe).
#[derive(Debug, Default)]
pub struct Linter {
    /// (table, column) with a validated `CHECK (column IS NOT NULL)`.
    not_null_checked: HashSet<(String, String)>,
    /// Constraint name -> (table, column) of `CHECK (column IS NOT NULL) NOT VALID` seen.
    not_null_pending: HashMap<String, (String, String)>,
}

/// What one file has done so far.
struct FileState {
    kind: FileKind,
    no_transaction: bool,
    created: Vec<Table>,
    /// Existing tables locked ACCESS EXCLUSIVE in the current transaction.
    exclusive: Vec<Table>,
    findings: Vec<Finding>,
    offset: usize,
}

impl FileState {
    fn created(&self, table: &Table) -> bool {
        self.created.iter().any(|t| t.may_be(table))
    }

    fn add(&mut self, rule: Rule, message: String) {
        self.findings.push(Finding {
            rule,
            offset: self.offset,
            message,
        });
    }

    /// Records an ACCESS EXCLUSIVE lock on `table`; a second existing table in the same
    /// transaction is a finding.
    fn exclusive(&mut self, table: &Table) {
        if self.no_transaction || self.created(table) {
            return;
        }
        if self.exclusive.iter().any(|t| t.may_be(table)) {
            return;
        }
        if let Some(first) = self.exclusive.first() {
            let message = format!(
                "takes ACCESS EXCLUSIVE on {table} while the transaction already holds it on \
                 {first}: both tables are blocked until the migration commits, and another \
                 transaction locking them in the other order deadlocks"
            );
            self.add(MANY_EXCLUSIVE_LOCKS, message);
        }
        self.exclusive.push(table.clone());
    }
}

impl Linter {
    pub fn new() -> Linter {
        Linter::default()
    }

    /// The findings of one file, in file order, without the suppressed ones. A very deep
    /// statement needs [`super::with_room`].
    pub fn lint(
        &mut self,
        script: &str,
        kind: FileKind,
        no_transaction: bool,
    ) -> Result<Vec<Finding>, SyntaxError> {
        let tree = parse_tree_of(script)?;
        let mut file = FileState {
            kind,
            no_transaction,
            created: Vec::new(),
            exclusive: Vec::new(),
            findings: Vec::new(),
            offset: 0,
        };
        for raw in &tree.stmts {
            let start = usize::try_from(raw.stmt_location)
                .unwrap_or(0)
                .min(script.len());
            let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
                continue;
            };
            file.offset = start;
            let before = file.findings.len();
            self.statement(node, &mut file);
            let ignored = ignores(script, start, &mut file.findings);
            let mut index = before;
            while index < file.findings.len() {
                if ignored.contains(&file.findings[index].rule.id) {
                    file.findings.remove(index);
                } else {
                    index += 1;
                }
            }
        }
        let mut findings = file.findings;
        findings.sort_by_key(|f| f.offset);
        Ok(findings)
    }

    fn statement(&mut self, node: &NodeEnum, file: &mut FileState) {
        let migration = file.kind == FileKind::Migration;
        match node {
            NodeEnum::TransactionStmt(_) => file.exclusive.clear(),
            NodeEnum::CreateStmt(stmt) => {
                if let Some(range) = &stmt.relation {
                    file.created.push(Table::of(range));
                }
            }
            NodeEnum::CreateForeignTableStmt(stmt) => {
                let base = stmt.base_stmt.as_ref();
                if let Some(range) = base.and_then(|b| b.relation.as_ref()) {
                    file.created.push(Table::of(range));
                }
            }
            NodeEnum::CreateTableAsStmt(stmt) => {
                if let Some(range) = stmt.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    file.created.push(Table::of(range));
                }
            }
            NodeEnum::IndexStmt(stmt) => {
                let Some(table) = stmt.relation.as_ref().map(Table::of) else {
                    return;
                };
                if !stmt.concurrent && !file.created(&table) {
                    file.add(
                        INDEX_NOT_CONCURRENT,
                        format!(
                            "CREATE INDEX without CONCURRENTLY locks {table} against every \
                             INSERT, UPDATE and DELETE (SHARE lock) while the whole index is \
                             built"
                        ),
                    );
                }
            }
            NodeEnum::AlterTableStmt(stmt) => self.alter_table(stmt, file),
            NodeEnum::RenameStmt(stmt) => {
                let Some(table) = stmt.relation.as_ref().map(Table::of) else {
                    return;
                };
                if file.created(&table) {
                    return;
                }
                let rename_type = ObjectType::try_from(stmt.rename_type).ok();
                match rename_type {
                    Some(ObjectType::ObjectTable) => file.add(
                        RENAME_TABLE,
                        format!(
                            "renaming table {table} to {} breaks the running application, which \
                             still uses the old name, until it is redeployed",
                            stmt.newname
                        ),
                    ),
                    Some(ObjectType::ObjectColumn) => file.add(
                        RENAME_COLUMN,
                        format!(
                            "renaming column {table}.{} to {} breaks the running application, \
                             which still uses the old name, until it is redeployed",
                            stmt.subname, stmt.newname
                        ),
                    ),
                    _ => {}
                }
                if matches!(
                    rename_type,
                    Some(ObjectType::ObjectTable | ObjectType::ObjectColumn)
                ) {
                    file.exclusive(&table);
                }
            }
            NodeEnum::DropStmt(stmt) => {
                let remove_type = ObjectType::try_from(stmt.remove_type).ok();
                match remove_type {
                    Some(ObjectType::ObjectTable) => {
                        for table in stmt.objects.iter().filter_map(list_table) {
                            if file.created(&table) {
                                continue;
                            }
                            if !migration {
                                // A rollback drops what its migration made: `down` guards the
                                // data, and nothing else uses these tables yet.
                                continue;
                            }
                            file.add(
                                DROP_TABLE,
                                format!(
                                    "DROP TABLE {table} loses every row it holds, and breaks \
                                     the running application that still uses it"
                                ),
                            );
                            file.exclusive(&table);
                        }
                    }
                    Some(ObjectType::ObjectSchema) if migration => {
                        let names: Vec<String> =
                            stmt.objects.iter().filter_map(string_of).collect();
                        file.add(
                            DROP_SCHEMA,
                            format!(
                                "DROP SCHEMA {} loses every object in it (with CASCADE) and \
                                 their data",
                                names.join(", ")
                            ),
                        );
                    }
                    _ => {}
                }
            }
            NodeEnum::TruncateStmt(stmt) => {
                for table in relations(&stmt.relations) {
                    if file.created(&table) {
                        continue;
                    }
                    if migration {
                        file.add(
                            TRUNCATE,
                            format!(
                                "TRUNCATE {table} loses every row, under an ACCESS EXCLUSIVE lock"
                            ),
                        );
                    }
                    file.exclusive(&table);
                }
            }
            NodeEnum::DeleteStmt(stmt) => {
                let Some(table) = stmt.relation.as_ref().map(Table::of) else {
                    return;
                };
                if migration && stmt.where_clause.is_none() && !file.created(&table) {
                    file.add(
                        DELETE_WITHOUT_WHERE,
                        format!("DELETE without WHERE loses every row of {table}"),
                    );
                }
            }
            NodeEnum::UpdateStmt(stmt) => {
                let Some(table) = stmt.relation.as_ref().map(Table::of) else {
                    return;
                };
                if migration && stmt.where_clause.is_none() && !file.created(&table) {
                    file.add(
                        UPDATE_WITHOUT_WHERE,
                        format!(
                            "UPDATE without WHERE rewrites every row of {table} and holds their \
                             row locks until the migration commits, blocking every writer"
                        ),
                    );
                }
            }
            NodeEnum::VacuumStmt(stmt)
                if stmt.is_vacuumcmd && stmt.options.iter().any(|o| def_enabled(o, "full")) =>
            {
                let tables: Vec<Table> = stmt
                    .rels
                    .iter()
                    .filter_map(|r| match &r.node {
                        Some(NodeEnum::VacuumRelation(v)) => v.relation.as_ref().map(Table::of),
                        _ => None,
                    })
                    .collect();
                if tables.is_empty() || tables.iter().any(|t| !file.created(t)) {
                    file.add(
                        VACUUM_FULL,
                        "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock: no \
                         reads or writes until it is done"
                            .to_string(),
                    );
                }
            }
            NodeEnum::ClusterStmt(stmt) => {
                let table = stmt.relation.as_ref().map(Table::of);
                if table.as_ref().is_none_or(|t| !file.created(t)) {
                    file.add(
                        CLUSTER,
                        "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock: no reads or \
                         writes until it is done"
                            .to_string(),
                    );
                }
                if let Some(table) = table {
                    file.exclusive(&table);
                }
            }
            NodeEnum::ReindexStmt(stmt) => {
                if stmt.params.iter().any(|p| def_enabled(p, "concurrently")) {
                    return;
                }
                let table = stmt.relation.as_ref().map(Table::of);
                let on_created_table = stmt.kind == ReindexObjectType::ReindexObjectTable as i32
                    && table.as_ref().is_some_and(|t| file.created(t));
                if !on_created_table {
                    file.add(
                        REINDEX_NOT_CONCURRENT,
                        "REINDEX without CONCURRENTLY blocks writes to the table, and reads \
                         that use the index, while it rebuilds"
                            .to_string(),
                    );
                }
            }
            NodeEnum::LockStmt(stmt) => {
                let tables: Vec<Table> = relations(&stmt.relations)
                    .into_iter()
                    .filter(|t| !file.created(t))
                    .collect();
                if tables.is_empty() {
                    return;
                }
                let names: Vec<String> = tables.iter().map(ToString::to_string).collect();
                file.add(
                    LOCK_TABLE,
                    format!(
                        "LOCK TABLE {} holds its lock until the migration commits, and every \
                         query queued behind it waits too",
                        names.join(", ")
                    ),
                );
                // Mode 8 is ACCESS EXCLUSIVE, LOCK TABLE's default.
                if stmt.mode == 8 {
                    for table in &tables {
                        file.exclusive(table);
                    }
                }
            }
            _ => {}
        }
    }

    fn alter_table(&mut self, stmt: &protobuf::AlterTableStmt, file: &mut FileState) {
        let Some(table) = stmt.relation.as_ref().map(Table::of) else {
            return;
        };
        if stmt.objtype != ObjectType::ObjectTable as i32 {
            return;
        }
        let key = table.name.clone();
        if file.created(&table) {
            // Still remember the checks it validates: nothing else to say about it.
            for cmd in commands(stmt) {
                self.remember_check(&key, cmd);
            }
            return;
        }
        let mut exclusive = false;
        for cmd in commands(stmt) {
            let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or_default();
            // Only these take less than ACCESS EXCLUSIVE.
            if !matches!(
                subtype,
                AlterTableType::AtValidateConstraint
                    | AlterTableType::AtSetStatistics
                    | AlterTableType::AtSetOptions
                    | AlterTableType::AtResetOptions
                    | AlterTableType::AtClusterOn
                    | AlterTableType::AtDropCluster
                    | AlterTableType::AtEnableTrig
                    | AlterTableType::AtDisableTrig
            ) && !is_foreign_key(cmd)
            {
                exclusive = true;
            }
            match subtype {
                AlterTableType::AtAddColumn => {
                    if let Some(NodeEnum::ColumnDef(column)) = cmd.def.as_deref().and_then(node) {
                        add_column(&table, column, file);
                    }
                }
                AlterTableType::AtAlterColumnType => {
                    if let Some(NodeEnum::ColumnDef(column)) = cmd.def.as_deref().and_then(node)
                        && rewrites(column)
                    {
                        file.add(
                            COLUMN_TYPE_REWRITE,
                            format!(
                                "changing the type of {table}.{} rewrites the table and its \
                                 indexes under an ACCESS EXCLUSIVE lock (only varchar and text \
                                 widenings without USING are known not to)",
                                cmd.name
                            ),
                        );
                    }
                }
                AlterTableType::AtSetNotNull
                    if !self
                        .not_null_checked
                        .contains(&(key.clone(), cmd.name.clone())) =>
                {
                    file.add(
                        SET_NOT_NULL,
                        format!(
                            "SET NOT NULL on {table}.{} scans the whole table under an \
                             ACCESS EXCLUSIVE lock, unless a validated CHECK ({} IS NOT \
                             NULL) exists (none seen in the files linted)",
                            cmd.name, cmd.name
                        ),
                    );
                }
                AlterTableType::AtAddConstraint => {
                    if let Some(NodeEnum::Constraint(c)) = cmd.def.as_deref().and_then(node) {
                        let contype = ConstrType::try_from(c.contype).unwrap_or_default();
                        match contype {
                            ConstrType::ConstrForeign | ConstrType::ConstrCheck
                                if !c.skip_validation =>
                            {
                                let what = if contype == ConstrType::ConstrForeign {
                                    "FOREIGN KEY"
                                } else {
                                    "CHECK"
                                };
                                file.add(
                                    CONSTRAINT_NOT_VALID,
                                    format!(
                                        "ADD {what} without NOT VALID checks every row of \
                                         {table} while holding a lock that blocks its writes"
                                    ),
                                );
                            }
                            ConstrType::ConstrPrimary | ConstrType::ConstrUnique
                                if c.indexname.is_empty() =>
                            {
                                let what = if contype == ConstrType::ConstrPrimary {
                                    "PRIMARY KEY"
                                } else {
                                    "UNIQUE"
                                };
                                file.add(
                                    UNIQUE_WITHOUT_INDEX,
                                    format!(
                                        "ADD {what} without USING INDEX builds its index under \
                                         an ACCESS EXCLUSIVE lock on {table}: no reads or writes \
                                         until it is built"
                                    ),
                                );
                            }
                            _ => {}
                        }
                    }
                    self.remember_check(&key, cmd);
                }
                AlterTableType::AtValidateConstraint => self.remember_check(&key, cmd),
                AlterTableType::AtDropColumn if file.kind == FileKind::Migration => {
                    file.add(
                        DROP_COLUMN,
                        format!(
                            "DROP COLUMN {table}.{} loses its data, and breaks the running \
                             application that still reads it",
                            cmd.name
                        ),
                    );
                }
                _ => {}
            }
        }
        if exclusive {
            file.exclusive(&table);
        }
    }

    /// Remembers `CHECK (col IS NOT NULL)` constraints: validated ones (added without NOT
    /// VALID, or validated by name later) make `SET NOT NULL` on the column safe.
    fn remember_check(&mut self, table: &str, cmd: &protobuf::AlterTableCmd) {
        let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or_default();
        if subtype == AlterTableType::AtValidateConstraint {
            if let Some(pair) = self.not_null_pending.remove(&cmd.name) {
                self.not_null_checked.insert(pair);
            }
            return;
        }
        let Some(NodeEnum::Constraint(c)) = cmd.def.as_deref().and_then(node) else {
            return;
        };
        if c.contype != ConstrType::ConstrCheck as i32 {
            return;
        }
        let Some(column) = c.raw_expr.as_deref().and_then(is_not_null_test) else {
            return;
        };
        let pair = (table.to_string(), column);
        if c.skip_validation {
            self.not_null_pending.insert(c.conname.clone(), pair);
        } else {
            self.not_null_checked.insert(pair);
        }
    }
}

fn add_column(table: &Table, column: &protobuf::ColumnDef, file: &mut FileState) {
    let name = &column.colname;
    let serial = column
        .type_name
        .as_ref()
        .and_then(|t| t.names.last())
        .and_then(string_of)
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
            )
        });
    let mut reason = serial.then_some("a serial type (a nextval() default, volatile)");
    for constraint in &column.constraints {
        let Some(NodeEnum::Constraint(c)) = &constraint.node else {
            continue;
        };
        match ConstrType::try_from(c.contype).unwrap_or_default() {
            ConstrType::ConstrDefault if c.raw_expr.as_deref().is_some_and(volatile) => {
                reason = Some("a volatile default");
            }
            ConstrType::ConstrGenerated if c.generated_kind == "s" => {
                reason = Some("a generated STORED column");
            }
            ConstrType::ConstrIdentity => reason = Some("an identity column"),
            _ => {}
        }
    }
    if let Some(reason) = reason {
        file.add(
            ADD_COLUMN_REWRITE,
            format!(
                "ADD COLUMN {name} with {reason} rewrites every row of {table} under an ACCESS \
                 EXCLUSIVE lock"
            ),
        );
    }
}

/// Functions whose value differs per row: a default calling one is computed for every
/// existing row, which rewrites the table. Stable ones (`now()`, `current_timestamp`) are
/// computed once and stored in the catalog: no rewrite.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "statement_timestamp",
    "nextval",
    "txid_current",
    "random_normal",
    "setseed",
];

/// Whether an expression calls a volatile function anywhere.
fn volatile(expr: &protobuf::Node) -> bool {
    expr.node.as_ref().is_some_and(|expr| {
        expr.nodes().into_iter().any(|(n, ..)| match n {
            pg_query::NodeRef::FuncCall(call) => call
                .funcname
                .last()
                .and_then(string_of)
                .is_some_and(|name| VOLATILE.contains(&name.to_ascii_lowercase().as_str())),
            _ => false,
        })
    })
}

/// Whether `ALTER COLUMN … TYPE` may rewrite: anything but a change to `text` or `varchar`
/// (with or without a length) without USING, the widenings PostgreSQL does without a
/// rewrite when the column is varchar or text already.
fn rewrites(column: &protobuf::ColumnDef) -> bool {
    if column.raw_default.is_some() {
        return true; // USING
    }
    let Some(type_name) = &column.type_name else {
        return true;
    };
    if !type_name.array_bounds.is_empty() {
        return true;
    }
    let name = type_name
        .names
        .last()
        .and_then(string_of)
        .unwrap_or_default();
    !matches!(name.as_str(), "text" | "varchar" | "citext")
}

/// `col IS NOT NULL`: the column's name.
fn is_not_null_test(expr: &protobuf::Node) -> Option<String> {
    let Some(NodeEnum::NullTest(test)) = &expr.node else {
        return None;
    };
    if test.nulltesttype != protobuf::NullTestType::IsNotNull as i32 {
        return None;
    }
    match test.arg.as_deref().and_then(node) {
        Some(NodeEnum::ColumnRef(column)) => column.fields.last().and_then(string_of),
        _ => None,
    }
}

fn is_foreign_key(cmd: &protobuf::AlterTableCmd) -> bool {
    matches!(
        cmd.def.as_deref().and_then(node),
        Some(NodeEnum::Constraint(c)) if c.contype == ConstrType::ConstrForeign as i32
    )
}

fn commands(stmt: &protobuf::AlterTableStmt) -> impl Iterator<Item = &protobuf::AlterTableCmd> {
    stmt.cmds.iter().filter_map(|c| match &c.node {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
        _ => None,
    })
}

fn node(n: &protobuf::Node) -> Option<&NodeEnum> {
    n.node.as_ref()
}

fn relations(nodes: &[protobuf::Node]) -> Vec<Table> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(range)) => Some(Table::of(range)),
            _ => None,
        })
        .collect()
}

/// A table named as a list of strings (`DROP TABLE s.t`).
fn list_table(n: &protobuf::Node) -> Option<Table> {
    match &n.node {
        Some(NodeEnum::List(list)) => Table::of_list(&list.items, 0),
        _ => None,
    }
}

fn string_of(n: &protobuf::Node) -> Option<String> {
    match &n.node {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

/// Whether a `DefElem` option (`FULL`, `CONCURRENTLY`) is named and not turned off.
fn def_enabled(n: &protobuf::Node, name: &str) -> bool {
    let Some(NodeEnum::DefElem(def)) = &n.node else {
        return false;
    };
    if !def.defname.eq_ignore_ascii_case(name) {
        return false;
    }
    match def.arg.as_deref().and_then(node) {
        None => true,
        Some(NodeEnum::Boolean(b)) => b.boolval,
        Some(NodeEnum::Integer(i)) => i.ival != 0,
        Some(NodeEnum::String(s)) => !matches!(
            s.sval.to_ascii_lowercase().as_str(),
            "false" | "off" | "0" | "no"
        ),
        Some(_) => true,
    }
}

/// The rules suppressed for the statement at `start` by `-- pgstrata:lint-ignore` lines
/// right above it. A directive without a reason or with an unknown rule is a finding.
fn ignores(script: &str, start: usize, findings: &mut Vec<Finding>) -> Vec<&'static str> {
    let mut ignored = Vec::new();
    let line_start = script[..start].rfind('\n').map_or(0, |i| i + 1);
    if !script[line_start..start].trim().is_empty() {
        return ignored; // Another statement ends on the statement's line.
    }
    let mut end = line_start;
    while end > 0 {
        let above_start = script[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = script[above_start..end - 1].trim();
        let Some(rest) = line
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix("pgstrata:lint-ignore"))
        else {
            break;
        };
        let mut words = rest.split_whitespace();
        let rule = words.next().unwrap_or("");
        let reason = words.next().is_some();
        match RULES.iter().find(|r| r.id == rule) {
            Some(known) if reason => ignored.push(known.id),
            Some(_) => findings.push(Finding {
                rule: LINT_IGNORE,
                offset: above_start,
                message: format!(
                    "`pgstrata:lint-ignore {rule}` gives no reason; a suppression must say why \
                     the finding does not apply"
                ),
            }),
            None => findings.push(Finding {
                rule: LINT_IGNORE,
                offset: above_start,
                message: format!("`pgstrata:lint-ignore` names no known rule (`{rule}`)"),
            }),
        }
        end = above_start;
    }
    ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(sql: &str) -> Vec<&'static str> {
        Linter::new()
            .lint(sql, FileKind::Migration, false)
            .unwrap()
            .iter()
            .map(|f| f.rule.id)
            .collect()
    }

    #[test]
    fn volatile_defaults_and_stable_ones() {
        assert_eq!(
            rules_of("ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();"),
            ["add-column-rewrite"]
        );
        assert!(rules_of("ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now();").is_empty());
    }

    #[test]
    fn not_null_after_a_validated_check_in_an_earlier_file() {
        let mut linter = Linter::new();
        let first = linter
            .lint(
                "ALTER TABLE t ADD CONSTRAINT c CHECK (x IS NOT NULL) NOT VALID;",
                FileKind::Migration,
                false,
            )
            .unwrap();
        assert!(first.is_empty(), "{first:?}");
        let second = linter
            .lint(
                "ALTER TABLE t VALIDATE CONSTRAINT c;",
                FileKind::Migration,
                false,
            )
            .unwrap();
        assert!(second.is_empty(), "{second:?}");
        let third = linter
            .lint(
                "ALTER TABLE t ALTER COLUMN x SET NOT NULL;",
                FileKind::Migration,
                false,
            )
            .unwrap();
        assert!(third.is_empty(), "{third:?}");
    }

    #[test]
    fn a_foreign_table_created_in_the_file_takes_its_check_without_a_finding() {
        // A baseline of a database with a checked foreign table: found by `check`.
        let created = "CREATE FOREIGN TABLE app.r (id int) SERVER s; \
                       ALTER TABLE ONLY app.r ADD CONSTRAINT c CHECK (id > 0);";
        assert!(rules_of(created).is_empty(), "{:?}", rules_of(created));
        assert_eq!(
            rules_of("ALTER TABLE ONLY app.r ADD CONSTRAINT c CHECK (id > 0);"),
            ["constraint-not-valid"]
        );
    }

    #[test]
    fn every_rule_has_a_distinct_id() {
        let ids: HashSet<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
    }
}

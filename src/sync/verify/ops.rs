//! The writes the verifier races, as SQL with text parameters (rows named by their key as
//! text, see `Table::row_name`), built once per target; running one transaction of them with
//! the retries a client would make; and the count of divergent copies.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Client;
use postgres::error::SqlState;

use super::fill::{Filler, child_synced, value_sql};
use super::target::{Direction, Table, Target, ValueKind, qualified, quoted};
use crate::db::quote_ident;

/// How many values a write picks from (plus NULL): few, so equal writes happen.
pub const VALUES: i64 = 7;

/// Which synced columns a copy's write sets: bit j for the j-th (a column past the 64th is
/// always set). Writes of single columns and subsets catch a trigger that watches, copies or
/// pushes only some of them.
pub type Which = u64;
/// Every synced column.
pub const ALL: Which = u64::MAX;

/// One statement and its parameters (text; NULL as `None`).
#[derive(Debug, Clone)]
pub struct Op {
    pub label: &'static str,
    pub sql: String,
    pub params: Vec<Option<String>>,
}

/// The SQL of every write, for one target.
pub struct Writes {
    pub target: Target,
    /// Copy: parent key, n. Column: n.
    insert: String,
    /// Column kind: a row given only its new column (n, the new value).
    insert_new: String,
    /// Column kind: `up` of each of the `VALUES` values of old, as text (None: NULL).
    new_values: Vec<Option<String>>,
}

impl Writes {
    pub fn new(client: &mut Client, target: Target) -> Result<Writes> {
        let mut filler = Filler::new(client);
        // `$2` is read in FROM even when no column needs it, so its type is known.
        let n = "one.n";
        let (insert, insert_new) = match &target {
            Target::Copy {
                parent,
                child,
                link,
                columns,
                direction,
            } => {
                let mut given: Vec<(String, String)> = link
                    .columns
                    .iter()
                    .zip(&link.referenced_columns)
                    .map(|(c, r)| (c.clone(), format!("p.{}", quote_ident(r))))
                    .collect();
                let (values, omit) = child_synced(child, columns, *direction, n)?;
                given.extend(values);
                let row = filler.row_sql(child, n, &given, &omit, 0)?;
                let from = format!(
                    "{} AS p CROSS JOIN (SELECT $2::text::bigint AS n) AS one",
                    parent.name
                );
                let tail = format!("WHERE {} = $1", parent.row_name("p"));
                (row.insert(&child.name, &from, &tail), String::new())
            }
            Target::Column {
                table, old, new, ..
            } => {
                // `$1` is read here even when no column needs it, so its type is known.
                let n = "one.n";
                let from = "(SELECT $1::text::bigint AS n) AS one";
                // A number written to old is kept small: row numbers reach 10^8, which a
                // bounded numeric (a price, `numeric(10,2)`) cannot hold.
                let old_column = table.column(old)?;
                let old_n = match old_column.kind {
                    ValueKind::Number => format!("(({n}) % 100000)"),
                    _ => n.to_string(),
                };
                let old_value = value_sql(old_column, &old_n).unwrap_or("NULL".into());
                let row = filler.row_sql(
                    table,
                    n,
                    &[(old.clone(), old_value)],
                    std::slice::from_ref(new),
                    0,
                )?;
                let insert = row.insert(&table.name, from, "");
                let new_type = &table.column(new)?.type_sql;
                let given = [(new.clone(), format!("$2::text::{new_type}"))];
                let row = filler.row_sql(table, n, &given, std::slice::from_ref(old), 0)?;
                (insert, row.insert(&table.name, from, ""))
            }
        };
        let new_values = match &target {
            Target::Column { table, old, up, .. } => {
                let column = table.column(old)?;
                let mut values = Vec::new();
                for i in 0..VALUES {
                    let value = value_sql(column, &i.to_string()).unwrap_or("NULL".into());
                    let sql = format!(
                        "SELECT ({up})::text FROM (SELECT {value} AS {}) AS s",
                        quote_ident(old)
                    );
                    let row = client.query_one(&sql, &[]).with_context(|| {
                        format!("computing `up` ({up}) of a generated value of {old}")
                    })?;
                    values.push(row.get(0));
                }
                values
            }
            Target::Copy { .. } => Vec::new(),
        };
        Ok(Writes {
            target,
            insert,
            insert_new,
            new_values,
        })
    }

    fn copy(&self) -> (&Table, &Table, &[String], &[String], &[String]) {
        match &self.target {
            Target::Copy {
                parent,
                child,
                link,
                columns,
                ..
            } => (
                parent,
                child,
                &link.columns,
                &link.referenced_columns,
                columns,
            ),
            Target::Column { .. } => unreachable!("a copy's write asked of a column kind"),
        }
    }

    /// How many columns a copy keeps equal (1 for a column kind: its writes pick no subset).
    pub fn synced_count(&self) -> usize {
        match &self.target {
            Target::Copy { columns, .. } => columns.len(),
            Target::Column { .. } => 1,
        }
    }

    /// `SET a = …, b = …` giving the synced columns in `which` value `n` (SQL of an integer;
    /// NULL for `None`).
    fn set_synced(
        &self,
        table: &Table,
        columns: &[String],
        which: Which,
        n: Option<&str>,
    ) -> String {
        columns
            .iter()
            .enumerate()
            .filter(|(j, _)| *j >= 64 || which & (1 << j) != 0)
            .map(|(_, name)| {
                let value = match (n, table.column(name)) {
                    (Some(n), Ok(column)) => value_sql(column, n),
                    _ => None,
                };
                format!("{} = {}", quote_ident(name), value.unwrap_or("NULL".into()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Sets the parent's synced columns in `which` to value `i` (NULL for `None`).
    pub fn parent_update(&self, parent_key: &str, which: Which, i: Option<i64>) -> Op {
        let (parent, _, _, _, columns) = self.copy();
        let n = i.map(|i| i.to_string());
        Op {
            label: "parent update",
            sql: format!(
                "UPDATE {} AS p SET {} WHERE {} = $1",
                parent.name,
                self.set_synced(parent, columns, which, n.as_deref()),
                parent.row_name("p")
            ),
            params: vec![Some(parent_key.into())],
        }
    }

    /// Sets one child's synced columns in `which` to value `i` (NULL for `None`).
    pub fn child_update(&self, child_key: &str, which: Which, i: Option<i64>) -> Op {
        let (_, child, _, _, columns) = self.copy();
        let n = i.map(|i| i.to_string());
        Op {
            label: "child update",
            sql: format!(
                "UPDATE {} AS c SET {} WHERE {} = $1",
                child.name,
                self.set_synced(child, columns, which, n.as_deref()),
                child.row_name("c")
            ),
            params: vec![Some(child_key.into())],
        }
    }

    /// One UPDATE of several rows (parents, or children: siblings among them), each row
    /// given its own value near `i` (so siblings get different ones in one statement).
    pub fn many_update(&self, parents: bool, keys: &[&str], which: Which, i: Option<i64>) -> Op {
        let (parent, child, _, _, columns) = self.copy();
        let (table, label) = if parents {
            (parent, "update of several parents")
        } else {
            (child, "update of several children")
        };
        let name = table.row_name("r");
        let n = i.map(|i| format!("({i} + abs(hashtext({name})::bigint) % 3)"));
        Op {
            label,
            sql: format!(
                "UPDATE {} AS r SET {} WHERE {name} = ANY (string_to_array($1, chr(31)))",
                table.name,
                self.set_synced(table, columns, which, n.as_deref()),
            ),
            params: vec![Some(keys.join("\u{1f}"))],
        }
    }

    /// `INSERT … ON CONFLICT (key) DO UPDATE` of an existing row (a copy of it inserted, the
    /// conflict turning it into an update of the synced columns in `which`). `None` for a
    /// table without a primary key to conflict on.
    pub fn upsert(&self, parent: bool, key: &str, which: Which, i: Option<i64>) -> Option<Op> {
        let (p, c, _, _, columns) = self.copy();
        let (table, label) = if parent {
            (p, "parent upsert")
        } else {
            (c, "child upsert")
        };
        let n = i.map(|i| i.to_string());
        let set = self.set_synced(table, columns, which, n.as_deref());
        Some(Op {
            label,
            sql: upsert_sql(table, &set)?,
            params: vec![Some(key.into())],
        })
    }

    /// Changes a parent's referenced key to value `n` (its children follow with an
    /// `ON UPDATE CASCADE` foreign key; otherwise a parent with children refuses). `None`
    /// when a key column cannot be written or made.
    pub fn parent_rekey(&self, parent_key: &str, n: i64) -> Option<Op> {
        let (parent, _, _, refs, _) = self.copy();
        let mut set = Vec::new();
        for name in refs {
            let column = parent.column(name).ok()?;
            if column.generated || column.identity_always {
                return None;
            }
            set.push(format!(
                "{} = {}",
                quote_ident(name),
                value_sql(column, "$2::text::bigint")?
            ));
        }
        Some(Op {
            label: "parent key update",
            sql: format!(
                "UPDATE {} AS p SET {} WHERE {} = $1",
                parent.name,
                set.join(", "),
                parent.row_name("p")
            ),
            params: vec![Some(parent_key.into()), Some(n.to_string())],
        })
    }

    pub fn child_insert(&self, parent_key: &str, n: i64) -> Op {
        Op {
            label: "child insert",
            sql: self.insert.clone(),
            params: vec![Some(parent_key.into()), Some(n.to_string())],
        }
    }

    /// Moves a child to another parent (none when that parent is gone).
    pub fn child_repoint(&self, child_key: &str, parent_key: &str) -> Op {
        let (parent, child, fk, refs, _) = self.copy();
        let set = fk
            .iter()
            .zip(refs)
            .map(|(c, r)| format!("{} = p.{}", quote_ident(c), quote_ident(r)))
            .collect::<Vec<_>>()
            .join(", ");
        Op {
            label: "child re-point",
            sql: format!(
                "UPDATE {} AS c SET {set} FROM {} AS p WHERE {} = $2 AND {} = $1",
                child.name,
                parent.name,
                parent.row_name("p"),
                child.row_name("c")
            ),
            params: vec![Some(child_key.into()), Some(parent_key.into())],
        }
    }

    pub fn child_delete(&self, child_key: &str) -> Op {
        let (_, child, _, _, _) = self.copy();
        Op {
            label: "child delete",
            sql: format!(
                "DELETE FROM {} AS c WHERE {} = $1",
                child.name,
                child.row_name("c")
            ),
            params: vec![Some(child_key.into())],
        }
    }

    pub fn parent_delete(&self, parent_key: &str) -> Op {
        let (parent, _, _, _, _) = self.copy();
        Op {
            label: "parent delete",
            sql: format!(
                "DELETE FROM {} AS p WHERE {} = $1",
                parent.name,
                parent.row_name("p")
            ),
            params: vec![Some(parent_key.into())],
        }
    }

    fn column(&self) -> (&Table, &str, &str) {
        match &self.target {
            Target::Column {
                table, old, new, ..
            } => (table, old, new),
            Target::Copy { .. } => unreachable!("a column kind's write asked of a copy"),
        }
    }

    /// Sets the old column to value `i` (NULL for `None`).
    pub fn old_update(&self, key: &str, i: Option<i64>) -> Op {
        let (table, old, _) = self.column();
        let value = i
            .and_then(|i| value_sql(table.column(old).ok()?, &i.to_string()))
            .unwrap_or("NULL".into());
        Op {
            label: "old update",
            sql: format!(
                "UPDATE {} AS r SET {} = {value} WHERE {} = $1",
                table.name,
                quote_ident(old),
                table.row_name("r")
            ),
            params: vec![Some(key.into())],
        }
    }

    /// Sets the new column to `up` of value `i` (NULL for `None`): what an application
    /// already moved to the new column writes.
    pub fn new_update(&self, key: &str, i: Option<i64>) -> Op {
        let (table, _, new) = self.column();
        let new_type = table
            .column(new)
            .map(|c| c.type_sql.clone())
            .unwrap_or_default();
        Op {
            label: "new update",
            sql: format!(
                "UPDATE {} AS r SET {} = $2::text::{new_type} WHERE {} = $1",
                table.name,
                quote_ident(new),
                table.row_name("r")
            ),
            params: vec![Some(key.into()), self.new_value(i)],
        }
    }

    fn new_value(&self, i: Option<i64>) -> Option<String> {
        i.and_then(|i| self.new_values[i.rem_euclid(VALUES) as usize].clone())
    }

    pub fn insert_old(&self, n: i64) -> Op {
        Op {
            label: "insert with old only",
            sql: self.insert.clone(),
            params: vec![Some(n.to_string())],
        }
    }

    pub fn insert_new(&self, n: i64, i: Option<i64>) -> Op {
        Op {
            label: "insert with new only",
            sql: self.insert_new.clone(),
            params: vec![Some(n.to_string()), self.new_value(i)],
        }
    }

    /// Column kind: one UPDATE of several rows, through `new` (set to `up` of value `i`) or
    /// through `old` (set to value `i`); NULL for `None`.
    pub fn many_column_update(&self, keys: &[&str], through_new: bool, i: Option<i64>) -> Op {
        let (table, _, _) = self.column();
        let set = self.column_set(through_new, i);
        Op {
            label: "update of several rows",
            sql: format!(
                "UPDATE {} AS r SET {set} WHERE {} = ANY (string_to_array($1, chr(31)))",
                table.name,
                table.row_name("r")
            ),
            params: self.column_params(keys.join("\u{1f}"), through_new, i),
        }
    }

    /// Column kind: `INSERT … ON CONFLICT (key) DO UPDATE` of an existing row, writing through
    /// `new` or `old` as `many_column_update` does. `None` for a table without a primary key.
    pub fn column_upsert(&self, key: &str, through_new: bool, i: Option<i64>) -> Option<Op> {
        let (table, _, _) = self.column();
        Some(Op {
            label: "upsert",
            sql: upsert_sql(table, &self.column_set(through_new, i))?,
            params: self.column_params(key.into(), through_new, i),
        })
    }

    /// `new = $2::type` (the value travels as parameter 2) or `old = value i`.
    fn column_set(&self, through_new: bool, i: Option<i64>) -> String {
        let (table, old, new) = self.column();
        let new_type = table
            .column(new)
            .map(|c| c.type_sql.clone())
            .unwrap_or_default();
        if through_new {
            return format!("{} = $2::text::{new_type}", quote_ident(new));
        }
        let value = i
            .and_then(|i| value_sql(table.column(old).ok()?, &i.to_string()))
            .unwrap_or("NULL".into());
        format!("{} = {value}", quote_ident(old))
    }

    /// The parameters of a column kind's write of several rows or upsert: the row(s), and the
    /// new value when written through `new`.
    fn column_params(&self, row: String, through_new: bool, i: Option<i64>) -> Vec<Option<String>> {
        let mut params = vec![Some(row)];
        if through_new {
            params.push(self.new_value(i));
        }
        params
    }

    /// Column kind: inserts a row through `new` alone for each value of the few, and returns
    /// the values not kept (with what came back instead): the trigger took `old` (its
    /// default, say) for the written side. No divergence shows it, since `new` is then
    /// `up(old)`. Rows numbered from `first_n`; an insert the schema refuses is skipped.
    pub fn lost_inserts_through_new(
        &self,
        client: &mut Client,
        first_n: i64,
    ) -> Result<Vec<String>> {
        let (_, _, new) = self.column();
        let sql = format!("{} RETURNING {}::text", self.insert_new, quote_ident(new));
        let mut lost = Vec::new();
        for i in 0..VALUES {
            let Some(given) = self.new_value(Some(i)) else {
                continue;
            };
            let params = [Some((first_n + i).to_string()), Some(given.clone())];
            let kept: Option<String> = match client.query_opt(&sql, &[&params[0], &params[1]]) {
                Ok(row) => row.and_then(|r| r.get(0)),
                Err(err) if err.code().is_some_and(|c| c.code().starts_with("23")) => continue,
                Err(err) => {
                    return Err(err).context("inserting rows through the new column alone");
                }
            };
            if kept.as_deref() != Some(given.as_str()) {
                lost.push(format!(
                    "{new} = {given} inserted alone came back as {}",
                    kept.as_deref().unwrap_or("NULL")
                ));
            }
        }
        Ok(lost)
    }

    pub fn row_delete(&self, key: &str) -> Op {
        let (table, _, _) = self.column();
        Op {
            label: "delete",
            sql: format!(
                "DELETE FROM {} AS r WHERE {} = $1",
                table.name,
                table.row_name("r")
            ),
            params: vec![Some(key.into())],
        }
    }

    /// Whether a direct edit of a child copy must be refused.
    pub fn copies_follow_parent(&self) -> bool {
        matches!(
            self.target,
            Target::Copy {
                direction: Direction::ParentToChild,
                ..
            }
        )
    }

    /// Rows whose copies differ (a copy: child rows whose synced columns differ from their
    /// parent's; a column kind: rows whose new column differs from `up` of the old one),
    /// with the names of the first few.
    pub fn divergent(&self, client: &mut Client) -> Result<(i64, Vec<String>)> {
        let condition = match &self.target {
            Target::Copy {
                parent,
                child,
                link,
                columns,
                ..
            } => format!(
                "FROM {} AS c JOIN {} AS p ON ({}) = ({}) WHERE ROW({}) IS DISTINCT FROM ROW({})",
                child.name,
                parent.name,
                qualified("c", &link.columns),
                qualified("p", &link.referenced_columns),
                qualified("c", columns),
                qualified("p", columns),
            ),
            Target::Column { table, new, up, .. } => format!(
                "FROM {} AS c WHERE {} IS DISTINCT FROM ({up})",
                table.name,
                quote_ident(new)
            ),
        };
        let table = match &self.target {
            Target::Copy { child, .. } => child,
            Target::Column { table, .. } => table,
        };
        let count: i64 = client
            .query_one(&format!("SELECT count(*) {condition}"), &[])
            .context("counting divergent copies")?
            .get(0);
        let sample = client
            .query(
                &format!("SELECT {} {condition} LIMIT 5", table.row_name("c")),
                &[],
            )
            .context("naming divergent copies")?
            .iter()
            .map(|row| row.get(0))
            .collect();
        Ok((count, sample))
    }

    /// The keys of (up to `limit`) rows: `parent` or child rows of a copy, rows of a column
    /// kind's table (`parent` ignored). `filter` is SQL over alias `r`.
    pub fn keys(&self, client: &mut Client, parent: bool, filter: &str) -> Result<Vec<String>> {
        let table = match &self.target {
            Target::Copy { parent: p, .. } if parent => p,
            Target::Copy { child, .. } => child,
            Target::Column { table, .. } => table,
        };
        let sql = format!(
            "SELECT {} FROM {} AS r {filter}",
            table.row_name("r"),
            table.name
        );
        Ok(client
            .query(&sql, &[])
            .with_context(|| format!("reading the keys of {}", table.name))?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    /// Keys of the children of one parent.
    pub fn children_of(&self, client: &mut Client, parent_key: &str) -> Result<Vec<String>> {
        let (parent, child, fk, refs, _) = self.copy();
        let sql = format!(
            "SELECT {} FROM {} AS r JOIN {} AS p ON ({}) = ({}) WHERE {} = $1 ORDER BY 1",
            child.row_name("r"),
            child.name,
            parent.name,
            qualified("r", fk),
            qualified("p", refs),
            parent.row_name("p"),
        );
        Ok(client
            .query(&sql, &[&parent_key])
            .context("reading the children of a parent")?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Committed,
    /// Refused as the schema means it to be (an integrity violation: unique, foreign key,
    /// NOT NULL, CHECK; a copy's edit refused by its triggers): the client gets an error and
    /// nothing is written.
    Refused(String),
    /// Failed for another reason: a trigger that breaks writes it should let through.
    Failed(String),
}

/// `INSERT INTO table SELECT … FROM table WHERE row = $1 ON CONFLICT (key) DO UPDATE SET …`:
/// an existing row inserted again, the conflict turning it into an update (`OVERRIDING SYSTEM
/// VALUE` for identity columns; generated ones left out). `None` without a primary key.
fn upsert_sql(table: &Table, set: &str) -> Option<String> {
    if table.key.is_empty() {
        return None;
    }
    let written: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !c.generated)
        .map(|c| c.name.clone())
        .collect();
    Some(format!(
        "INSERT INTO {t} AS t ({list}) OVERRIDING SYSTEM VALUE SELECT {select} FROM {t} AS r \
         WHERE {name} = $1 ON CONFLICT ({key}) DO UPDATE SET {set}",
        t = table.name,
        list = quoted(&written),
        select = qualified("r", &written),
        name = table.row_name("r"),
        key = quoted(&table.key),
    ))
}

/// Whether a client retries the transaction that got this error.
pub fn retryable(err: &postgres::Error) -> bool {
    matches!(
        err.code(),
        Some(&SqlState::T_R_DEADLOCK_DETECTED) | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    )
}

/// How an error ends a transaction made of `ops` (not retried).
pub fn judge(err: &postgres::Error, ops: &[Op], writes: &Writes) -> Ended {
    let message = match err.as_db_error() {
        Some(db) => format!(
            "{}: {} ({})",
            ops_label(ops),
            db.message(),
            db.code().code()
        ),
        None => format!("{}: {err}", ops_label(ops)),
    };
    // Integrity violations (class 23: unique, foreign key, NOT NULL, CHECK, restrict) are the
    // schema refusing a random write, as it would refuse a client's.
    let expected = err.code().is_some_and(|code| code.code().starts_with("23"));
    let refused_edit = writes.copies_follow_parent()
        && ops.iter().any(|op| {
            matches!(
                op.label,
                "child update" | "update of several children" | "child upsert"
            )
        })
        && err.as_db_error().is_some();
    if expected || refused_edit {
        Ended::Refused(message)
    } else {
        Ended::Failed(message)
    }
}

fn ops_label(ops: &[Op]) -> String {
    ops.iter()
        .map(|op| op.label)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Runs `ops` as one transaction, retrying it whole on a deadlock or serialization failure as
/// a client would. Returns how it ended and the retries it took; an error only when the
/// connection itself fails.
pub fn transaction(client: &mut Client, ops: &[Op], writes: &Writes) -> Result<(Ended, u64)> {
    let mut retries = 0;
    loop {
        match attempt(client, ops) {
            Ok(()) => return Ok((Ended::Committed, retries)),
            Err(err) if retryable(&err) && retries < 50 => {
                retries += 1;
                std::thread::sleep(Duration::from_millis(retries.min(20)));
            }
            Err(err) if err.as_db_error().is_some() => {
                return Ok((judge(&err, ops, writes), retries));
            }
            Err(err) => bail!("running {}: {err}", ops_label(ops)),
        }
    }
}

fn attempt(client: &mut Client, ops: &[Op]) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    for op in ops {
        run(&mut tx, op)?;
    }
    tx.commit()
}

/// Runs one statement of a transaction.
pub fn run(client: &mut impl postgres::GenericClient, op: &Op) -> Result<u64, postgres::Error> {
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = op
        .params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    client.execute(&op.sql, &params)
}

//! Generated rows: the SQL for a value of any column the verifier knows how to make, the SQL
//! for a whole row of a table (tables it references by a NOT NULL foreign key get rows of
//! their own first), and the fill of a copy's parent and children or a column's table with
//! thousands of rows, NULLs included.
//!
//! Values are functions of a row number, so they are distinct per row (unique constraints
//! hold) and the same for every run. Rows the project's migrations inserted stay: numbering
//! starts past every digit-only value of the table's unique columns, and a sequence behind
//! its column's values (rows inserted with explicit keys) is moved past them. Text values are digits, so that a column kind whose
//! `up` casts (`name::int`) finds values it can compute from.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use postgres::Client;

use super::target::{Column, Direction, Table, Target, ValueKind, qualified, quoted};
use crate::db::quote_ident;

/// Parents generated for a copy (every fourth keeps no children: a place to insert or
/// re-point children to without colliding with an existing one).
pub const PARENTS: i64 = 1200;
/// Children per parent that has children.
pub const CHILDREN: i64 = 3;
/// Rows generated for a column kind's table.
pub const ROWS: i64 = 2000;
/// Rows given to a table the filled ones reference (and that has none).
const REFERENCED_ROWS: i64 = 7;
/// How deep references are followed before giving up.
const MAX_DEPTH: usize = 4;

const UNIQUE_COLUMNS: &str = include_str!("queries/unique_columns.sql");

/// The `n`-th value of a column's kind, as SQL of the column's type; `n` is SQL of an integer
/// type. `None` when the verifier cannot make one (NULL is used).
pub fn value_sql(column: &Column, n: &str) -> Option<String> {
    let ty = &column.type_sql;
    let value = match column.kind {
        ValueKind::Text => format!("(({n})::text)::{ty}"),
        ValueKind::SmallInt => format!("(({n}) % 32000)::{ty}"),
        ValueKind::Number => format!("({n})::{ty}"),
        ValueKind::Bool => format!("((({n}) % 2) = 0)::{ty}"),
        ValueKind::Uuid => format!("md5(({n})::text)::uuid::{ty}"),
        ValueKind::Json => format!("jsonb_build_object('n', {n})::{ty}"),
        ValueKind::Date => format!("(date '2000-01-01' + (({n}) % 100000)::int)::{ty}"),
        ValueKind::Timestamp => format!("(timestamp '2000-01-01' + ({n}) * interval '1 s')::{ty}"),
        ValueKind::Enum => format!(
            "(enum_range(NULL::{ty}))[1 + (({n}) % cardinality(enum_range(NULL::{ty})))::int]"
        ),
        ValueKind::Other => return None,
    };
    Some(value)
}

/// A synced value for row `n`: one of seven values, or NULL for every fifth row of a nullable
/// column (NULLs are values too, and the few values make equal writes, which must not count
/// as changes).
pub fn synced_sql(column: &Column, n: &str) -> String {
    match value_sql(column, &format!("(({n}) % 7)")) {
        Some(value) if column.not_null => value,
        Some(value) => format!("CASE WHEN ({n}) % 5 = 0 THEN NULL ELSE {value} END"),
        None => "NULL".to_string(),
    }
}

/// Columns given by the caller, with the SQL of their values.
pub type Given = Vec<(String, String)>;

/// The SQL that generates rows of one table: columns and their expressions over a row number,
/// and the joins those expressions need.
#[derive(Debug, Default)]
pub struct RowSql {
    pub columns: Vec<String>,
    pub exprs: Vec<String>,
    pub joins: String,
}

impl RowSql {
    /// `INSERT INTO table (…) SELECT … FROM {from} {joins}{tail}`.
    pub fn insert(&self, table: &str, from: &str, tail: &str) -> String {
        format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {from} {}{tail}",
            self.columns.join(", "),
            self.exprs.join(", "),
            self.joins
        )
    }
}

/// Makes rows for tables, remembering the referenced tables it filled (and their sizes).
pub struct Filler<'a> {
    client: &'a mut Client,
    referenced: HashMap<String, i64>,
}

impl<'a> Filler<'a> {
    pub fn new(client: &'a mut Client) -> Filler<'a> {
        Filler {
            client,
            referenced: HashMap::new(),
        }
    }

    /// The SQL for rows of `table` numbered by `n`: `given` columns take the caller's
    /// expressions, `omit` ones their defaults (or the triggers' values); the others a
    /// generated value (a column with a default keeps it; a nullable foreign key stays NULL;
    /// a NOT NULL one points at a row of the referenced table, made when it has none).
    pub fn row_sql(
        &mut self,
        table: &Table,
        n: &str,
        given: &[(String, String)],
        omit: &[String],
        depth: usize,
    ) -> Result<RowSql> {
        let mut row = RowSql::default();
        let mut done: Vec<&str> = omit.iter().map(String::as_str).collect();
        for (column, expr) in given {
            row.columns.push(quote_ident(column));
            row.exprs.push(expr.clone());
            done.push(column);
        }
        for (i, fk) in table.foreign_keys.iter().enumerate() {
            if fk.columns.iter().any(|c| done.contains(&c.as_str())) {
                continue;
            }
            let required = fk
                .columns
                .iter()
                .any(|c| table.column(c).is_ok_and(|c| c.not_null && !c.has_default));
            if !required {
                continue;
            }
            if fk.referenced == table.name || depth >= MAX_DEPTH {
                bail!(
                    "cannot generate rows for {}: its NOT NULL foreign key {} references {} \
                     (itself, or too deep a chain of references)",
                    table.name,
                    fk.name,
                    fk.referenced
                );
            }
            let count = self.referenced_rows(&fk.referenced, depth + 1)?;
            let alias = format!("f{i}");
            row.joins.push_str(&format!(
                "CROSS JOIN LATERAL (SELECT {cols} FROM {table} ORDER BY {cols} \
                 OFFSET (({n}) % {count}) LIMIT 1) AS {alias} ",
                cols = quoted(&fk.referenced_columns),
                table = fk.referenced,
            ));
            for (column, referenced) in fk.columns.iter().zip(&fk.referenced_columns) {
                row.columns.push(quote_ident(column));
                row.exprs
                    .push(format!("{alias}.{}", quote_ident(referenced)));
                done.push(column);
            }
        }
        for column in &table.columns {
            if done.contains(&column.name.as_str()) || column.has_default {
                continue;
            }
            let is_fk = table
                .foreign_keys
                .iter()
                .any(|fk| fk.columns.contains(&column.name));
            match value_sql(column, n) {
                Some(value) if !is_fk => {
                    row.columns.push(quote_ident(&column.name));
                    row.exprs.push(value);
                }
                _ if !column.not_null => {}
                _ => bail!(
                    "cannot generate rows for {}: no value can be made for its NOT NULL column \
                     {} of type {} (give it a default)",
                    table.name,
                    column.name,
                    column.type_sql
                ),
            }
        }
        Ok(row)
    }

    /// How many rows a referenced table has to choose from, after giving it some when it
    /// had none (capped: a row is chosen by an offset).
    fn referenced_rows(&mut self, name: &str, depth: usize) -> Result<i64> {
        if let Some(count) = self.referenced.get(name) {
            return Ok(*count);
        }
        let table = Table::load(self.client, name)?;
        let mut count = count_rows(self.client, &table.name)?;
        if count == 0 {
            let row = self.row_sql(&table, "g.n", &[], &[], depth)?;
            let from = format!("generate_series(1, {REFERENCED_ROWS}) AS g(n)");
            self.execute(&row.insert(&table.name, &from, ""), &table.name)?;
            count = REFERENCED_ROWS;
        }
        let count = count.min(1000);
        self.referenced.insert(name.to_string(), count);
        Ok(count)
    }

    /// A row number past every value made of digits (at most 15) in the table's unique
    /// columns, so that rows numbered after it collide with none of the rows already there;
    /// sequences of those columns are set past their highest value.
    fn first_free(&mut self, table: &Table) -> Result<i64> {
        let unique: Vec<String> = self
            .client
            .query(UNIQUE_COLUMNS, &[&table.name])
            .with_context(|| format!("reading the unique columns of {}", table.name))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if unique.is_empty() {
            return Ok(0);
        }
        let digits: Vec<String> = unique
            .iter()
            .map(|c| {
                format!(
                    "CASE WHEN {q}::text ~ '^[0-9]{{1,15}}$' THEN {q}::text::bigint END",
                    q = quote_ident(c)
                )
            })
            .collect();
        let sql = format!(
            "SELECT coalesce(max(greatest({})), 0) FROM {}",
            digits.join(", "),
            table.name
        );
        let base: i64 = self
            .client
            .query_one(&sql, &[])
            .with_context(|| format!("reading the highest keys of {}", table.name))?
            .get(0);
        for name in unique.iter().filter(|c| {
            table
                .column(c)
                .is_ok_and(|c| c.has_default && c.kind == ValueKind::Number)
        }) {
            let sequence: Option<String> = self
                .client
                .query_one(
                    "SELECT pg_get_serial_sequence($1, $2)",
                    &[&table.name, name],
                )
                .with_context(|| format!("finding the sequence of {}.{name}", table.name))?
                .get(0);
            if let Some(sequence) = sequence {
                let sql = format!(
                    "SELECT setval($1::text::regclass, m) FROM (SELECT max({})::bigint AS m FROM {}) AS x \
                     WHERE m IS NOT NULL",
                    quote_ident(name),
                    table.name
                );
                self.client
                    .query(&sql, &[&sequence])
                    .with_context(|| format!("moving {sequence} past the rows already there"))?;
            }
        }
        Ok(base)
    }

    fn execute(&mut self, sql: &str, table: &str) -> Result<u64> {
        self.client
            .execute(sql, &[])
            .with_context(|| format!("filling {table} with generated rows"))
    }

    /// Fills the target's tables; returns the rows made.
    pub fn fill(&mut self, target: &Target) -> Result<u64> {
        match target {
            Target::Copy {
                parent,
                child,
                link,
                columns,
                direction,
            } => {
                let synced: Vec<(String, String)> = columns
                    .iter()
                    .map(|c| Ok((c.clone(), synced_sql(parent.column(c)?, "g.n"))))
                    .collect::<Result<_>>()?;
                let row = self.row_sql(parent, "g.n", &synced, &[], 0)?;
                let base = self.first_free(parent)?;
                let from = format!("generate_series({}, {}) AS g(n)", base + 1, base + PARENTS);
                let parents = self.execute(&row.insert(&parent.name, &from, ""), &parent.name)?;
                let base = self.first_free(child)?;
                let n = format!("({base} + p.rn * {CHILDREN} + s.k)");
                let mut given: Vec<(String, String)> = link
                    .columns
                    .iter()
                    .zip(&link.referenced_columns)
                    .map(|(c, r)| (c.clone(), format!("p.{}", quote_ident(r))))
                    .collect();
                let (values, omit) = child_synced(child, columns, *direction, &n)?;
                given.extend(values);
                let row = self.row_sql(child, &n, &given, &omit, 0)?;
                let from = format!(
                    "(SELECT {refs}, row_number() OVER (ORDER BY {name}) AS rn FROM {parent} AS p) \
                     AS p CROSS JOIN generate_series(0, {last}) AS s(k)",
                    refs = qualified("p", &link.referenced_columns),
                    name = parent.row_name("p"),
                    parent = parent.name,
                    last = CHILDREN - 1,
                );
                let children = self.execute(
                    &row.insert(&child.name, &from, "WHERE p.rn % 4 <> 0"),
                    &child.name,
                )?;
                Ok(parents + children)
            }
            Target::Column {
                table, old, new, ..
            } => {
                let old_column = table.column(old)?;
                let value = synced_sql(old_column, "g.n");
                let row = self.row_sql(
                    table,
                    "g.n",
                    &[(old.clone(), value)],
                    std::slice::from_ref(new),
                    0,
                )?;
                let base = self.first_free(table)?;
                let from = format!("generate_series({}, {}) AS g(n)", base + 1, base + ROWS);
                self.execute(&row.insert(&table.name, &from, ""), &table.name)
            }
        }
    }
}

/// What a new child row is given for its synced columns: values of its own when edits flow
/// both ways (the triggers must replace them with the parent's), nothing when copies only
/// follow the parent (unless a column must be given: NOT NULL without a default).
pub fn child_synced(
    child: &Table,
    columns: &[String],
    direction: Direction,
    n: &str,
) -> Result<(Given, Vec<String>)> {
    let mut given = Vec::new();
    let mut omit = Vec::new();
    for name in columns {
        let column = child.column(name)?;
        let must = column.not_null && !column.has_default;
        if direction == Direction::Both || must {
            given.push((name.clone(), synced_sql(column, &format!("({n}) + 3"))));
        } else {
            omit.push(name.clone());
        }
    }
    Ok((given, omit))
}

pub fn count_rows(client: &mut Client, table: &str) -> Result<i64> {
    Ok(client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .with_context(|| format!("counting the rows of {table}"))?
        .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(kind: ValueKind, type_sql: &str, not_null: bool) -> Column {
        Column {
            name: "c".into(),
            type_sql: type_sql.into(),
            not_null,
            has_default: false,
            generated: false,
            identity_always: false,
            kind,
        }
    }

    #[test]
    fn values_are_cast_to_the_column_type() {
        let text = column(ValueKind::Text, "character varying(20)", false);
        assert_eq!(
            value_sql(&text, "g.n").unwrap(),
            "((g.n)::text)::character varying(20)"
        );
        let state = column(ValueKind::Enum, "public.\"State\"", false);
        assert!(
            value_sql(&state, "7")
                .unwrap()
                .contains("enum_range(NULL::public.\"State\")")
        );
        assert_eq!(
            value_sql(&column(ValueKind::Other, "point", false), "1"),
            None
        );
    }

    #[test]
    fn synced_values_are_null_only_where_the_column_allows_it() {
        let nullable = column(ValueKind::Number, "integer", false);
        assert!(synced_sql(&nullable, "g.n").starts_with("CASE WHEN (g.n) % 5 = 0 THEN NULL"));
        let required = column(ValueKind::Number, "integer", true);
        assert!(!synced_sql(&required, "g.n").contains("NULL"));
        assert_eq!(
            synced_sql(&column(ValueKind::Other, "point", false), "1"),
            "NULL"
        );
    }
}

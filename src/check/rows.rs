//! Rows a rollback leaves behind: how many rows every table holds after a migration, and again
//! after its rollback and a second apply. A rollback that is right for the schema but deletes
//! less than its migration inserted (a seed row) makes the second apply double those rows, and
//! a later migration then fails (its `UNIQUE` is violated) far from the cause; the counts name
//! the rollback instead.
//!
//! Counts, not contents: a rollback that deletes a seed row, and a second apply that inserts it
//! again with the next serial id, are a correct pair that a checksum of the contents would call
//! different. This module only reads; it never prints.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use postgres::Client;

const ROW_COUNTS: &str = include_str!("queries/row_counts.sql");

/// Rows per table, by qualified name (`schema.table`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCounts(BTreeMap<String, i64>);

impl RowCounts {
    /// The rows `table` (`schema.table`) held, if it was counted.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn get(&self, table: &str) -> Option<i64> {
        self.0.get(table).copied()
    }
}

/// A table whose row count differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub table: String,
    /// Rows after the migration's first apply.
    pub first: i64,
    /// Rows after its rollback and second apply.
    pub again: i64,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = |n: i64| {
            if n == 1 {
                "1 row".into()
            } else {
                format!("{n} rows")
            }
        };
        write!(
            f,
            "{} has {} where the first apply left {}",
            self.table,
            rows(self.again),
            rows(self.first)
        )
    }
}

/// Counts the rows of every table outside the system schemas and `exclude_schemas`.
pub fn count(client: &mut Client, exclude_schemas: &[String]) -> Result<RowCounts> {
    let rows = client
        .query(ROW_COUNTS, &[&exclude_schemas])
        .context("counting the rows of every table (to see whether a rollback left rows behind)")?;
    Ok(RowCounts(
        rows.iter()
            .map(|row| {
                let (schema, name): (String, String) = (row.get("schema"), row.get("name"));
                (format!("{schema}.{name}"), row.get("rows"))
            })
            .collect(),
    ))
}

/// The tables whose count differs between the first apply and the second, in name order. A
/// table that exists in only one of them is the schema comparison's business, not this.
pub fn differences(first: &RowCounts, again: &RowCounts) -> Vec<Leftover> {
    first
        .0
        .iter()
        .filter_map(|(table, &before)| {
            let after = *again.0.get(table)?;
            (after != before).then(|| Leftover {
                table: table.clone(),
                first: before,
                again: after,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> RowCounts {
        RowCounts(pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect())
    }

    #[test]
    fn only_tables_in_both_with_another_count_differ() {
        let first = counts(&[("public.a", 1), ("public.b", 0), ("public.gone", 3)]);
        let again = counts(&[("public.a", 2), ("public.b", 0), ("public.new", 1)]);
        let found = differences(&first, &again);
        assert_eq!(
            found,
            vec![Leftover {
                table: "public.a".into(),
                first: 1,
                again: 2
            }]
        );
        assert_eq!(
            found[0].to_string(),
            "public.a has 2 rows where the first apply left 1 row"
        );
    }
}

//! The data-loss guard: what a rollback would destroy, found exactly in the target database,
//! never guessed from its SQL. The rollback is rehearsed inside a transaction behind a
//! savepoint; the tables, materialized views and columns that are gone afterwards are the ones
//! it drops; back at the savepoint they are counted (rows, non-null values); then everything is
//! rolled back. The rehearsal takes the rollback's locks for as long as it runs.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result};
use postgres::types::Type;
use postgres::{GenericClient, Transaction};
use serde::Serialize;

use crate::db::quote_ident;

/// One object a rollback would drop, with the data it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// `table public.images`, `materialized view public.mv`, `column public.images.explicit`.
    pub object: String,
    pub kind: LossKind,
    /// Rows (a table, a materialized view) or non-null values (a column).
    pub count: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    Table,
    MaterializedView,
    Column,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.kind, self.count) {
            (LossKind::Column, 1) => "value",
            (LossKind::Column, _) => "values",
            (_, 1) => "row",
            _ => "rows",
        };
        write!(f, "{} ({} {unit})", self.object, thousands(self.count))
    }
}

/// What one rollback would destroy.
#[derive(Debug, Clone, Serialize)]
pub struct StepLoss {
    pub version: i64,
    pub file: String,
    pub losses: Vec<Loss>,
}

/// A relation that holds data, and its columns (attnum → name).
#[derive(Debug, Clone)]
struct Relation {
    schema: String,
    name: String,
    kind: String,
    populated: bool,
    columns: BTreeMap<i32, String>,
}

/// Runs `rollback` in `tx` behind a savepoint, finds what it dropped, goes back to the
/// savepoint and counts what those objects hold, then runs `rollback` again, so that the next
/// rollback is rehearsed on what this one leaves. Only objects holding data are returned.
pub fn rehearse(
    tx: &mut Transaction,
    history_schema: &str,
    mut rollback: impl FnMut(&mut Transaction) -> Result<()>,
) -> Result<Vec<Loss>> {
    let mut rehearsal = tx
        .savepoint("pgstrata_rehearsal")
        .context("starting the rehearsal of the rollback")?;
    let before = objects(&mut rehearsal, history_schema)?;
    rollback(&mut rehearsal)?;
    let after = objects(&mut rehearsal, history_schema)?;
    rehearsal
        .rollback()
        .context("undoing the rehearsal of the rollback")?;
    let mut losses = Vec::new();
    for (oid, relation) in &before {
        let qualified = format!(
            "{}.{}",
            quote_ident(&relation.schema),
            quote_ident(&relation.name)
        );
        let shown = format!("{}.{}", relation.schema, relation.name);
        match after.get(oid) {
            None => {
                let (kind, word) = if relation.kind == "m" {
                    (LossKind::MaterializedView, "materialized view")
                } else {
                    (LossKind::Table, "table")
                };
                if !relation.populated {
                    continue;
                }
                let count = count(tx, &format!("SELECT count(*) FROM {qualified}"))?;
                losses.push(Loss {
                    object: format!("{word} {shown}"),
                    kind,
                    count,
                });
            }
            Some(still) => {
                for (attnum, column) in &relation.columns {
                    if still.columns.contains_key(attnum) {
                        continue;
                    }
                    let sql = format!("SELECT count({}) FROM {qualified}", quote_ident(column));
                    losses.push(Loss {
                        object: format!("column {shown}.{column}"),
                        kind: LossKind::Column,
                        count: count(tx, &sql)?,
                    });
                }
            }
        }
    }
    losses.retain(|loss| loss.count > 0);
    rollback(tx)?;
    Ok(losses)
}

/// The refusal: `rolling back V5 drops table public.t (10,000 rows) and …; nothing was
/// changed; rerun with --allow-data-loss …`.
pub fn refusal(steps: &[StepLoss]) -> String {
    let each: Vec<String> = steps
        .iter()
        .map(|step| {
            let objects: Vec<String> = step.losses.iter().map(Loss::to_string).collect();
            let listed = match objects.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                [most @ .., last] => format!("{} and {last}", most.join(", ")),
            };
            format!("rolling back V{} drops {listed}", step.version)
        })
        .collect();
    format!(
        "{}; nothing was changed; rerun with --allow-data-loss to lose that data",
        each.join("; ")
    )
}

fn objects(
    client: &mut impl GenericClient,
    history_schema: &str,
) -> Result<BTreeMap<i64, Relation>> {
    let rows = client
        .query_typed(
            include_str!("queries/data_objects.sql"),
            &[(&history_schema, Type::TEXT)],
        )
        .context("listing the tables and columns that hold data")?;
    let mut found: BTreeMap<i64, Relation> = BTreeMap::new();
    for row in rows {
        let oid: i64 = row.try_get(0)?;
        let relation = found.entry(oid).or_insert(Relation {
            schema: row.try_get(1)?,
            name: row.try_get(2)?,
            kind: row.try_get(3)?,
            populated: row.try_get(4)?,
            columns: BTreeMap::new(),
        });
        if let Some(attnum) = row.try_get::<_, Option<i32>>(5)? {
            relation.columns.insert(attnum, row.try_get(6)?);
        }
    }
    Ok(found)
}

fn count(client: &mut impl GenericClient, sql: &str) -> Result<i64> {
    Ok(client
        .query_typed_one(sql, &[])
        .with_context(|| format!("counting what the rollback would drop ({sql})"))?
        .try_get(0)?)
}

/// `10,000`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_every_object_with_its_count() {
        let losses = vec![
            Loss {
                object: "table public.offering_images".into(),
                kind: LossKind::Table,
                count: 10_000,
            },
            Loss {
                object: "column public.images.explicit".into(),
                kind: LossKind::Column,
                count: 1,
            },
        ];
        let steps = [StepLoss {
            version: 5,
            file: "rollbacks/V5__x.sql".into(),
            losses,
        }];
        assert_eq!(
            refusal(&steps),
            "rolling back V5 drops table public.offering_images (10,000 rows) and column \
             public.images.explicit (1 value); nothing was changed; rerun with \
             --allow-data-loss to lose that data"
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

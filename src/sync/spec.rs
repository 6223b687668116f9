//! A sync spec, `sync/{name}.toml`: what to keep equal (pure, no database). Parsing refuses
//! unknown keys, keys of the other kind, missing keys and impossible values with the line
//! and the key; what only the database can judge (does the foreign key exist, do the types
//! match) is `sync::resolve`'s.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;

/// One spec: its name (the file's stem) and what it keeps equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The file's stem: `sync/image_details.toml` is `image_details`. Names the migration
    /// (`sync_{name}`) and the functions and triggers it makes.
    pub name: String,
    pub kind: SpecKind,
    /// Backfill in committed batches of this many rows (a no-transaction migration), or in
    /// the migration's own transaction when absent.
    pub backfill_batch: Option<u32>,
}

/// The two kinds of spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecKind {
    /// `kind = "copy"`: parent columns copied into the child rows that reference the parent.
    Copy(CopySpec),
    /// `kind = "column"`: two columns of one table kept equal through `up`/`down`.
    Column(ColumnSpec),
}

/// `kind = "copy"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// The referenced table.
    pub parent: TableName,
    /// The referencing table, holding the copies.
    pub child: TableName,
    /// The foreign key's constraint name; optional when exactly one links child to parent.
    pub foreign_key: Option<String>,
    /// Parent column names (exact, as in the catalog); the child's copies have the same names.
    pub columns: Vec<String>,
    pub direction: Direction,
}

/// Which edits travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An edit of the parent or of any copy reaches every copy and the parent.
    Both,
    /// Copies follow the parent; a direct edit of a copy is refused.
    ParentToChild,
}

/// `kind = "column"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub table: TableName,
    /// The column the application moves away from.
    pub old: String,
    /// The column it moves to; created with `column_type` when missing.
    pub new: String,
    /// `type`: the new column's SQL type, as written.
    pub column_type: String,
    /// SQL expression computing `new` from the row (it names `old`).
    pub up: String,
    /// SQL expression computing `old` from the row (it names `new`).
    pub down: String,
}

/// A table named by schema and name, both exact (as in the catalog).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    /// Parses `schema.table` or `table` (schema `public`). A part in double quotes may hold
    /// dots and doubled quotes (`"odd.schema"."a""b"`); an unquoted part is taken exactly as
    /// written (no case folding), like the column names of a spec.
    pub fn parse(text: &str) -> Result<TableName, String> {
        let parts = split_qualified(text)?;
        match parts.as_slice() {
            [name] => Ok(TableName {
                schema: "public".into(),
                name: name.clone(),
            }),
            [schema, name] => Ok(TableName {
                schema: schema.clone(),
                name: name.clone(),
            }),
            _ => Err(format!(
                "`{text}` is not a table name: write `schema.table` or `table`"
            )),
        }
    }

    /// `"schema"."name"`, quoted through the one helper.
    pub fn quoted(&self) -> String {
        format!(
            "{}.{}",
            crate::db::quote_ident(&self.schema),
            crate::db::quote_ident(&self.name)
        )
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

fn split_qualified(text: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(format!("`{text}`: a quoted name is not closed")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(format!("`{text}`: an empty name"));
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => {}
            Some(c) => return Err(format!("`{text}`: unexpected `{c}` after a quoted name")),
        }
    }
}

/// The file as written, every key optional: what belongs to which kind is checked after, so
/// a key of the other kind is reported by name and line rather than as serde's "unknown".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    kind: Option<Spanned<String>>,
    parent: Option<Spanned<String>>,
    child: Option<Spanned<String>>,
    foreign_key: Option<Spanned<String>>,
    columns: Option<Spanned<Vec<Spanned<String>>>>,
    direction: Option<Spanned<String>>,
    backfill_batch: Option<Spanned<i64>>,
    table: Option<Spanned<String>>,
    old: Option<Spanned<String>>,
    new: Option<Spanned<String>>,
    #[serde(rename = "type")]
    column_type: Option<Spanned<String>>,
    up: Option<Spanned<String>>,
    down: Option<Spanned<String>>,
}

const COPY_KEYS: &[&str] = &[
    "kind",
    "parent",
    "child",
    "foreign_key",
    "columns",
    "direction",
    "backfill_batch",
];
const COLUMN_KEYS: &[&str] = &[
    "kind",
    "table",
    "old",
    "new",
    "type",
    "up",
    "down",
    "backfill_batch",
];

/// Where a spec file lives for a name or a path given on the command line: `image_details`
/// is `{project}/sync/image_details.toml`; anything with a `/` or ending in `.toml` is a path.
pub fn spec_path(project: &Path, arg: &str) -> PathBuf {
    if arg.contains('/') || arg.ends_with(".toml") {
        let path = PathBuf::from(arg);
        if path.is_absolute() || path.exists() {
            path
        } else {
            project.join(path)
        }
    } else {
        project.join("sync").join(format!("{arg}.toml"))
    }
}

/// Reads and parses a spec file; errors name the file, the line and the key.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading sync spec {}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    parse(stem, &text).with_context(|| format!("sync spec {}", path.display()))
}

/// Parses a spec's text; `name` is the file's stem.
pub fn parse(name: &str, text: &str) -> Result<Spec> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!(
            "the spec's file name must be [A-Za-z0-9_]+ (it names the migration sync_{{name}}), not `{name}`"
        );
    }
    let raw: Raw = toml::from_str(text).map_err(|err| {
        let at = err
            .span()
            .map(|s| format!("{}: ", position(text, s.start)))
            .unwrap_or_default();
        anyhow::anyhow!("{at}{}", err.message().trim_end())
    })?;
    let p = Parser { text };
    let kind = p.required(&raw.kind, "kind", "the file")?;
    let present = present_keys(&raw);
    let (allowed, kind_name) = match kind.get_ref().as_str() {
        "copy" => (COPY_KEYS, "copy"),
        "column" => (COLUMN_KEYS, "column"),
        other => bail!(
            "{} (key kind): unknown kind `{other}`, expected `copy` or `column`",
            p.at(kind.span().start)
        ),
    };
    if let Some((key, start)) = present.iter().find(|(k, _)| !allowed.contains(k)) {
        bail!(
            "{} (key {key}): `{key}` does not belong to a spec of kind = \"{kind_name}\" (its keys: {})",
            p.at(*start),
            allowed.join(", ")
        );
    }
    let backfill_batch = match &raw.backfill_batch {
        None => None,
        Some(b) => match u32::try_from(*b.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => bail!(
                "{} (key backfill_batch): must be a positive number of rows (at most {}), not {}",
                p.at(b.span().start),
                u32::MAX,
                b.get_ref()
            ),
        },
    };
    let kind = if kind_name == "copy" {
        SpecKind::Copy(p.copy(&raw)?)
    } else {
        SpecKind::Column(p.column(&raw)?)
    };
    Ok(Spec {
        name: name.to_string(),
        kind,
        backfill_batch,
    })
}

fn present_keys(raw: &Raw) -> Vec<(&'static str, usize)> {
    fn at<T>(key: &'static str, v: &Option<Spanned<T>>) -> Option<(&'static str, usize)> {
        v.as_ref().map(|s| (key, s.span().start))
    }
    let mut keys: Vec<_> = [
        at("kind", &raw.kind),
        at("parent", &raw.parent),
        at("child", &raw.child),
        at("foreign_key", &raw.foreign_key),
        at("columns", &raw.columns),
        at("direction", &raw.direction),
        at("backfill_batch", &raw.backfill_batch),
        at("table", &raw.table),
        at("old", &raw.old),
        at("new", &raw.new),
        at("type", &raw.column_type),
        at("up", &raw.up),
        at("down", &raw.down),
    ]
    .into_iter()
    .flatten()
    .collect();
    keys.sort_by_key(|(_, start)| *start);
    keys
}

/// `line 3, column 11`, counted from a byte offset into the text.
fn position(text: &str, offset: usize) -> String {
    let start = offset.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("line {line}, column {column}")
}

struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn at(&self, offset: usize) -> String {
        position(self.text, offset)
    }

    fn required<'r, T>(
        &self,
        value: &'r Option<Spanned<T>>,
        key: &str,
        kind: &str,
    ) -> Result<&'r Spanned<T>> {
        value
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("missing key `{key}` ({kind} needs it)"))
    }

    /// A required, non-empty string.
    fn string(&self, value: &Option<Spanned<String>>, key: &str, kind: &str) -> Result<String> {
        let v = self.required(value, key, kind)?;
        if v.get_ref().trim().is_empty() {
            bail!("{} (key {key}): must not be empty", self.at(v.span().start));
        }
        Ok(v.get_ref().clone())
    }

    fn table(&self, value: &Option<Spanned<String>>, key: &str, kind: &str) -> Result<TableName> {
        let v = self.required(value, key, kind)?;
        TableName::parse(v.get_ref())
            .map_err(|e| anyhow::anyhow!("{} (key {key}): {e}", self.at(v.span().start)))
    }

    fn copy(&self, raw: &Raw) -> Result<CopySpec> {
        const KIND: &str = "kind = \"copy\"";
        let parent = self.table(&raw.parent, "parent", KIND)?;
        let child = self.table(&raw.child, "child", KIND)?;
        if parent == child {
            let at = raw.child.as_ref().map_or(0, |c| c.span().start);
            bail!(
                "{} (key child): the child is the parent ({parent}); a copy spec links two tables",
                self.at(at)
            );
        }
        let columns_raw = self.required(&raw.columns, "columns", KIND)?;
        if columns_raw.get_ref().is_empty() {
            bail!(
                "{} (key columns): name at least one parent column",
                self.at(columns_raw.span().start)
            );
        }
        let mut columns: Vec<String> = Vec::new();
        for c in columns_raw.get_ref() {
            if c.get_ref().is_empty() {
                bail!(
                    "{} (key columns): an empty column name",
                    self.at(c.span().start)
                );
            }
            if columns.contains(c.get_ref()) {
                bail!(
                    "{} (key columns): `{}` is listed twice",
                    self.at(c.span().start),
                    c.get_ref()
                );
            }
            columns.push(c.get_ref().clone());
        }
        let direction = match &raw.direction {
            None => {
                bail!("missing key `direction` ({KIND} needs it: \"both\" or \"parent_to_child\")")
            }
            Some(d) => match d.get_ref().as_str() {
                "both" => Direction::Both,
                "parent_to_child" => Direction::ParentToChild,
                other => bail!(
                    "{} (key direction): unknown direction `{other}`, expected `both` or `parent_to_child`",
                    self.at(d.span().start)
                ),
            },
        };
        let foreign_key = match &raw.foreign_key {
            None => None,
            Some(_) => Some(self.string(&raw.foreign_key, "foreign_key", KIND)?),
        };
        Ok(CopySpec {
            parent,
            child,
            foreign_key,
            columns,
            direction,
        })
    }

    fn column(&self, raw: &Raw) -> Result<ColumnSpec> {
        const KIND: &str = "kind = \"column\"";
        let table = self.table(&raw.table, "table", KIND)?;
        let old = self.string(&raw.old, "old", KIND)?;
        let new = self.string(&raw.new, "new", KIND)?;
        if old == new {
            let at = raw.new.as_ref().map_or(0, |c| c.span().start);
            bail!(
                "{} (key new): `new` is `old` ({old}); name the column the application moves to",
                self.at(at)
            );
        }
        Ok(ColumnSpec {
            table,
            old,
            new,
            column_type: self.string(&raw.column_type, "type", KIND)?,
            up: self.string(&raw.up, "up", KIND)?,
            down: self.string(&raw.down, "down", KIND)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
kind = "copy"
parent = "public.images"
child = "public.album_images"
foreign_key = "album_images_image_id_fkey"
columns = ["alt_text", "description"]
direction = "both"
backfill_batch = 10000
"#;

    #[test]
    fn the_issues_copy_example_parses() {
        let spec = parse("image_details", SEED).unwrap();
        assert_eq!(spec.backfill_batch, Some(10000));
        let SpecKind::Copy(copy) = spec.kind else {
            panic!("copy")
        };
        assert_eq!(copy.parent.to_string(), "public.images");
        assert_eq!(copy.child.name, "album_images");
        assert_eq!(copy.columns, ["alt_text", "description"]);
        assert_eq!(copy.direction, Direction::Both);
        assert_eq!(
            copy.foreign_key.as_deref(),
            Some("album_images_image_id_fkey")
        );
    }

    #[test]
    fn the_issues_column_example_parses() {
        let text = r#"
kind = "column"
table = "users"
old = "name"
new = "full_name"
type = "text"
up = "btrim(name)"
down = "full_name"
"#;
        let spec = parse("users_full_name", text).unwrap();
        assert_eq!(spec.backfill_batch, None);
        let SpecKind::Column(c) = spec.kind else {
            panic!("column")
        };
        assert_eq!(c.table.schema, "public");
        assert_eq!(c.column_type, "text");
        assert_eq!(c.up, "btrim(name)");
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse("s", text).unwrap_err())
    }

    #[test]
    fn unknown_keys_and_keys_of_the_other_kind_name_the_key_and_the_line() {
        let e = err("kind = \"copy\"\nparent = \"a\"\nchild = \"b\"\ncolums = [\"x\"]\n");
        assert!(e.starts_with("line 4, column 1"), "{e}");
        assert!(e.contains("colums"), "{e}");
        let e = err(
            "kind = \"copy\"\nparent = \"a\"\nchild = \"b\"\ncolumns = [\"x\"]\ndirection = \"both\"\nup = \"x\"\n",
        );
        assert!(e.starts_with("line 6, ") && e.contains("(key up)"), "{e}");
    }

    #[test]
    fn impossible_values_are_refused_with_the_key() {
        let base = "kind = \"copy\"\nparent = \"a\"\nchild = \"b\"\ndirection = \"both\"\n";
        let e = err(&format!("{base}columns = []\n"));
        assert!(e.contains("line 5") && e.contains("key columns"), "{e}");
        let e = err(&format!("{base}columns = [\"x\", \"x\"]\n"));
        assert!(e.contains("listed twice"), "{e}");
        let e = err(&format!("{base}columns = [\"x\"]\nbackfill_batch = 0\n"));
        assert!(e.contains("line 6") && e.contains("backfill_batch"), "{e}");
        let e = err(
            "kind = \"copy\"\nparent = \"a\"\nchild = \"a\"\ncolumns = [\"x\"]\ndirection = \"both\"\n",
        );
        assert!(
            e.contains("line 3") && e.contains("the child is the parent"),
            "{e}"
        );
        let e = err(
            "kind = \"copy\"\nparent = \"a\"\nchild = \"b\"\ncolumns = [\"x\"]\ndirection = \"up\"\n",
        );
        assert!(e.contains("line 5") && e.contains("key direction"), "{e}");
        let e = err("kind = \"copy\"\nparent = \"a\"\ncolumns = [\"x\"]\ndirection = \"both\"\n");
        assert!(e.contains("missing key `child`"), "{e}");
        let e = err("kind = \"rename\"\n");
        assert!(e.contains("line 1") && e.contains("unknown kind"), "{e}");
        let e = err("table = \"t\"\n");
        assert!(e.contains("missing key `kind`"), "{e}");
    }

    #[test]
    fn table_names_take_a_schema_and_quotes() {
        let t = TableName::parse("\"Odd.Schema\".\"Mixed \"\"Case\"\"\"").unwrap();
        assert_eq!(t.schema, "Odd.Schema");
        assert_eq!(t.name, "Mixed \"Case\"");
        assert_eq!(t.quoted(), "\"Odd.Schema\".\"Mixed \"\"Case\"\"\"");
        assert_eq!(
            TableName::parse("Users").unwrap().to_string(),
            "public.Users"
        );
        assert!(TableName::parse("a.b.c").is_err());
        assert!(TableName::parse("a.").is_err());
    }
}

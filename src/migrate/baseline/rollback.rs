//! The baseline's rollback, written from the same snapshot text as the baseline itself: it
//! drops every object the baseline creates and puts the public schema back as a new database
//! has it, so that `check` finds the schema of an empty database after it. Pure text in, text
//! out; `check` is what proves the result exact.
//!
//! The snapshot creates objects in an order that satisfies every dependency, so the reverse of
//! that order drops them safely. Objects that belong to another (columns, constraints,
//! indexes, triggers, rules, policies, statistics, partitions, owned sequences) are not dropped
//! on their own: they go with their table. All tables go in one `DROP TABLE`, so the foreign
//! keys, rules and policies between them need no order. Nothing uses `CASCADE`: a drop that
//! would take something the baseline did not create fails instead of taking it silently.

use anyhow::{Result, bail};

use crate::db::quote_ident;
use crate::snapshot::split_blocks;

/// The comment every new database gives the public schema (`initdb`'s template).
const PUBLIC_COMMENT: &str = "COMMENT ON SCHEMA \"public\" IS 'standard public schema';";

/// What a statement of the rollback drops, for the comment that heads each run of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Last,
    Views,
    Tables,
    Sequences,
    ForeignData,
    Casts,
    Operators,
    Routines,
    Types,
    Collations,
    Extensions,
    Schemas,
    Public,
    NoPublic,
}

impl Group {
    fn comment(self) -> &'static str {
        match self {
            Group::Last => {
                "-- Event triggers, default privileges and publications, which the baseline makes\n\
                 -- last: default privileges are taken back to the built-in ones."
            }
            Group::Views => "-- Views and materialized views, newest first: one may read another.",
            Group::Tables => {
                "-- Tables (foreign ones first), in one statement so that the foreign keys between\n\
                 -- them need no order.\n\
                 -- Their constraints, indexes, triggers, rules, policies, partitions and owned\n\
                 -- sequences go with them."
            }
            Group::Sequences => "-- Sequences that no table owns.",
            Group::ForeignData => {
                "-- User mappings, foreign servers and foreign-data wrappers, now that no table\n\
                 -- uses them."
            }
            Group::Casts => "-- Casts, before the functions and types they join.",
            Group::Operators => {
                "-- Text search objects, conversions, operator classes, families and operators,\n\
                 -- before the functions they call."
            }
            Group::Routines => {
                "-- Functions, procedures and aggregates, in the reverse of their creation order."
            }
            Group::Types => "-- Types and domains, now that nothing uses them.",
            Group::Collations => "-- Collations.",
            Group::Extensions => "-- Extensions, with every object they created.",
            Group::Schemas => {
                "-- Schemas, now empty: without CASCADE, this fails rather than drop something\n\
                 -- the baseline did not create."
            }
            Group::NoPublic => {
                "-- The database had no public schema, and the baseline dropped the one every\n\
                 -- new database has: make it again as a new database has it."
            }
            Group::Public => {
                "-- Every database has the public schema: it stays, with its comment and\n\
                 -- privileges as a new database has them."
            }
        }
    }
}

/// The rollback's text for a baseline whose schema is `snapshot` (a rendered snapshot);
/// `title` names the migration (`V1__baseline`); `drops_public`: the baseline drops the
/// public schema (the database has none), so the rollback makes it again.
pub fn rollback(snapshot: &str, title: &str, drops_public: bool) -> Result<String> {
    let blocks = split_blocks(snapshot).blocks;
    let owned_sequences: Vec<&str> = blocks
        .iter()
        .filter_map(|b| b.object.strip_prefix("sequence ownership "))
        .collect();
    let mut statements: Vec<(Group, String)> = Vec::new();
    if drops_public {
        let create = format!(
            "CREATE SCHEMA \"public\";\n{PUBLIC_COMMENT}\nGRANT USAGE ON SCHEMA \"public\" TO PUBLIC;"
        );
        statements.push((Group::NoPublic, create));
    }
    let mut tables: Vec<String> = Vec::new();
    // DROP TABLE refuses a foreign table: they get a DROP FOREIGN TABLE of their own, first,
    // since one may inherit from a table.
    let mut foreign_tables: Vec<String> = Vec::new();
    // Where the one DROP TABLE goes: at the first table created, so that whatever was created
    // after it (views, functions reading tables) is dropped before, and the rest after.
    let mut tables_at = 0;
    for block in blocks.iter().rev() {
        let (kind, name) = kind_and_name(block.object)?;
        let sql =
            |word: &str| -> Result<String> { Ok(format!("DROP {word} {};", sql_name(name)?)) };
        let statement = match kind {
            "view" => (Group::Views, sql("VIEW")?),
            "materialized view" => (Group::Views, sql("MATERIALIZED VIEW")?),
            "table" | "foreign table" => {
                let list = match kind {
                    "table" => &mut tables,
                    _ => &mut foreign_tables,
                };
                if !is_partition(block.text) {
                    list.push(sql_name(name)?);
                }
                tables_at = statements.len();
                continue;
            }
            "sequence" if owned_sequences.contains(&name) => continue,
            "sequence" => (Group::Sequences, sql("SEQUENCE")?),
            "function" => (Group::Routines, sql("FUNCTION")?),
            "procedure" => (Group::Routines, sql("PROCEDURE")?),
            // DROP ROUTINE takes an aggregate by its argument types, ordered-set ones included
            // (DROP AGGREGATE would need their ORDER BY form).
            "aggregate" => (Group::Routines, sql("ROUTINE")?),
            // Named by its types as the server prints them: already SQL.
            "cast" => (Group::Casts, format!("DROP CAST {name};")),
            "operator" => (
                Group::Operators,
                format!("DROP OPERATOR {};", operator(name)?),
            ),
            "operator family" | "operator class" => {
                let (name, method) = name
                    .rsplit_once(" USING ")
                    .ok_or_else(|| anyhow::anyhow!("no access method in `{}`", block.object))?;
                let what = kind.to_uppercase();
                let (name, method) = (sql_name(name)?, sql_name(method)?);
                (
                    Group::Operators,
                    format!("DROP {what} {name} USING {method};"),
                )
            }
            "conversion" => (Group::Operators, sql("CONVERSION")?),
            "text search parser" => (Group::Operators, sql("TEXT SEARCH PARSER")?),
            "text search template" => (Group::Operators, sql("TEXT SEARCH TEMPLATE")?),
            "text search dictionary" => (Group::Operators, sql("TEXT SEARCH DICTIONARY")?),
            "text search configuration" => (Group::Operators, sql("TEXT SEARCH CONFIGURATION")?),
            "type" => (Group::Types, sql("TYPE")?),
            "domain" => (Group::Types, sql("DOMAIN")?),
            "collation" => (Group::Collations, sql("COLLATION")?),
            "extension" => (Group::Extensions, sql("EXTENSION")?),
            "schema" if name == "public" => {
                let restore = restore_public(block.text);
                if restore.is_empty() {
                    continue;
                }
                (Group::Public, restore)
            }
            "schema" => (Group::Schemas, sql("SCHEMA")?),
            "event trigger" => (Group::Last, sql("EVENT TRIGGER")?),
            "default privileges" => (Group::Last, undo_default_privileges(block.text)?),
            "publication" => (Group::Last, sql("PUBLICATION")?),
            "user mapping" => (Group::ForeignData, drop_user_mapping(block.text)?),
            "foreign server" => (Group::ForeignData, sql("SERVER")?),
            "foreign-data wrapper" => (Group::ForeignData, sql("FOREIGN DATA WRAPPER")?),
            // Parts of a table or view: dropped with it.
            _ => continue,
        };
        statements.push(statement);
    }
    if !tables.is_empty() {
        tables.reverse();
        let list = format!("DROP TABLE\n    {};", tables.join(",\n    "));
        statements.insert(tables_at, (Group::Tables, list));
    }
    if !foreign_tables.is_empty() {
        foreign_tables.reverse();
        let list = format!(
            "DROP FOREIGN TABLE\n    {};",
            foreign_tables.join(",\n    ")
        );
        statements.insert(tables_at, (Group::Tables, list));
    }
    Ok(render(&statements, title))
}

fn render(statements: &[(Group, String)], title: &str) -> String {
    let mut text = format!(
        "-- Undoes {title}: drops every object the baseline creates, in the reverse of the order\n\
         -- it creates them, and puts the public schema back as a new database has it. Written by\n\
         -- `pgstrata baseline` from the same snapshot as the baseline; `pgstrata check` proves\n\
         -- it exact. On a database in use this drops the whole schema and its data: `pgstrata\n\
         -- down` refuses it unless given --allow-data-loss.\n"
    );
    let mut previous = None;
    for (group, statement) in statements {
        if previous != Some(*group) {
            text.push('\n');
            text.push_str(group.comment());
            text.push('\n');
            previous = Some(*group);
        }
        text.push_str(statement);
        text.push('\n');
    }
    text
}

/// A header's object (`table public.film`) split into its kind and name, the longest kind
/// first (`sequence ownership` is not a `sequence`).
fn kind_and_name(object: &str) -> Result<(&str, &str)> {
    let mut kinds = crate::snapshot::HEADER_KINDS.to_vec();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.len()));
    for kind in kinds {
        if let Some(name) = object.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            return Ok((kind, name));
        }
    }
    bail!("the snapshot has a block the baseline's rollback does not know: `{object}`")
}

/// Whether a table block creates a partition (`CREATE TABLE … PARTITION OF …`): dropping its
/// parent drops it.
fn is_partition(block: &str) -> bool {
    block
        .lines()
        .find(|line| line.starts_with("CREATE "))
        .is_some_and(|line| line.contains(" PARTITION OF "))
}

/// A header's name as SQL: each part of `public.film` or `"Odd ""Name"""."t"` quoted by
/// [`quote_ident`] (a bare part may still be a keyword, like `user`), and a routine's argument
/// types (`(integer, text)`, printed by the server) kept as they are.
fn sql_name(name: &str) -> Result<String> {
    let unreadable = || {
        anyhow::anyhow!(
            "the snapshot names an object as `{name}`, which the baseline's rollback cannot read"
        )
    };
    let mut parts = Vec::new();
    let mut rest = name;
    loop {
        // `U&"A\000aB"`: a name with a control character (see `snapshot::sql::display`).
        let unicode = rest.starts_with("U&\"");
        if unicode {
            rest = &rest[2..];
        }
        let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut part = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c != '"' {
                    part.push(c);
                } else if chars.peek().is_some_and(|&(_, next)| next == '"') {
                    chars.next();
                    part.push('"');
                } else {
                    end = Some(i + 1);
                    break;
                }
            }
            let part = if unicode {
                unescape_unicode(&part).ok_or_else(unreadable)?
            } else {
                part
            };
            (part, &quoted[end.ok_or_else(unreadable)?..])
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        };
        if part.is_empty() {
            return Err(unreadable());
        }
        parts.push(quote_ident(&part));
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None => {
                rest = after;
                break;
            }
        }
    }
    let arguments = rest.starts_with('(') && rest.ends_with(')');
    if !(rest.is_empty() || arguments) || parts.len() > 2 {
        return Err(unreadable());
    }
    Ok(format!("{}{rest}", parts.join(".")))
}

/// The text of a `U&"..."` name with its escapes (`\XXXX`, `\\`) decoded.
fn unescape_unicode(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let first = chars.clone().next()?;
        if first == '\\' {
            chars.next();
            out.push('\\');
            continue;
        }
        let hex: String = chars.by_ref().take(4).collect();
        if hex.len() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

/// An operator as its header names it (`app.<<<(integer, integer)`, the symbol never
/// quoted) as SQL: the schema through [`sql_name`], the rest as it is.
fn operator(name: &str) -> Result<String> {
    let schema_end = if name.starts_with('"') {
        // The closing quote: a quote not doubled.
        let mut at = 1;
        let bytes = name.as_bytes();
        loop {
            match bytes.get(at) {
                Some(b'"') if bytes.get(at + 1) == Some(&b'"') => at += 2,
                Some(b'"') => break at + 1,
                Some(_) => at += 1,
                None => break name.len(),
            }
        }
    } else {
        name.find('.').unwrap_or(name.len())
    };
    let (schema, rest) = name.split_at(schema_end);
    match rest.strip_prefix('.') {
        Some(operator) if !operator.is_empty() => Ok(format!("{}.{operator}", sql_name(schema)?)),
        _ => bail!(
            "the snapshot names an operator as `{name}`, which the baseline's rollback cannot read"
        ),
    }
}

/// `DROP USER MAPPING FOR <role> SERVER <server>;` from the block's `CREATE USER MAPPING`
/// line (its header names the role for people, not as SQL).
fn drop_user_mapping(block: &str) -> Result<String> {
    let create = block
        .lines()
        .find_map(|line| line.strip_prefix("CREATE USER MAPPING "))
        .ok_or_else(|| anyhow::anyhow!("a user mapping block without CREATE USER MAPPING"))?;
    let create = create.trim_end_matches(';');
    let target = match outside_quotes(create, " OPTIONS (") {
        Some(at) => &create[..at],
        None => create,
    };
    Ok(format!("DROP USER MAPPING {target};"))
}

/// Each `ALTER DEFAULT PRIVILEGES ... GRANT` of the block turned into its `REVOKE` and each
/// `REVOKE` into its `GRANT`, in the reverse order: what takes the entry back to the built-in
/// defaults (the server then drops it).
fn undo_default_privileges(block: &str) -> Result<String> {
    let mut undone = Vec::new();
    for line in block.lines().rev() {
        let Some(rest) = line.strip_prefix("ALTER DEFAULT PRIVILEGES") else {
            continue;
        };
        let unreadable = || anyhow::anyhow!("the baseline's rollback cannot undo `{line}`");
        let statement = rest.trim_end_matches(';');
        let statement = statement.trim_end_matches(" WITH GRANT OPTION");
        let line = if let Some(at) = outside_quotes(statement, " GRANT ") {
            let (prefix, grant) = (&statement[..at], &statement[at + " GRANT ".len()..]);
            let at = outside_quotes(grant, " TO ").ok_or_else(unreadable)?;
            let (what, to) = (&grant[..at], &grant[at + " TO ".len()..]);
            format!("ALTER DEFAULT PRIVILEGES{prefix} REVOKE {what} FROM {to};")
        } else {
            let at = outside_quotes(statement, " REVOKE ").ok_or_else(unreadable)?;
            let (prefix, revoke) = (&statement[..at], &statement[at + " REVOKE ".len()..]);
            let at = outside_quotes(revoke, " FROM ").ok_or_else(unreadable)?;
            let (what, from) = (&revoke[..at], &revoke[at + " FROM ".len()..]);
            format!("ALTER DEFAULT PRIVILEGES{prefix} GRANT {what} TO {from};")
        };
        undone.push(line);
    }
    Ok(undone.join("\n"))
}

/// Where `needle` first occurs in `text` outside a double-quoted name.
fn outside_quotes(text: &str, needle: &str) -> Option<usize> {
    let mut quoted = false;
    for (at, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && text[at..].starts_with(needle) {
            return Some(at);
        }
    }
    None
}

/// What puts the public schema back as a new database has it, from its block: the comment
/// when it differs, and each privilege the snapshot grants or revokes (those that differ from
/// a new database's) undone, in the reverse order.
fn restore_public(block: &str) -> String {
    const TARGET: &str = " ON SCHEMA \"public\" ";
    let mut lines = Vec::new();
    for line in block.lines().rev() {
        let undone = if let Some(grant) = line.strip_prefix("GRANT ") {
            let grant = grant
                .trim_end_matches(';')
                .trim_end_matches(" WITH GRANT OPTION");
            grant
                .split_once(&format!("{TARGET}TO "))
                .map(|(what, to)| format!("REVOKE {what}{TARGET}FROM {to};"))
        } else if let Some(revoke) = line.strip_prefix("REVOKE ") {
            revoke
                .trim_end_matches(';')
                .split_once(&format!("{TARGET}FROM "))
                .map(|(what, from)| format!("GRANT {what}{TARGET}TO {from};"))
        } else {
            None
        };
        lines.extend(undone);
    }
    if !block.lines().any(|line| line == PUBLIC_COMMENT) {
        lines.push(PUBLIC_COMMENT.to_string());
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_of_the_whole_database_are_dropped_and_default_privileges_undone() {
        let snapshot = "-- foreign-data wrapper w\nCREATE FOREIGN DATA WRAPPER \"w\";\n\n\
            -- foreign server s\nCREATE SERVER \"s\" FOREIGN DATA WRAPPER \"w\";\n\n\
            -- user mapping for CURRENT_USER server s\n\
            CREATE USER MAPPING FOR CURRENT_USER SERVER \"s\" OPTIONS (\"user\" 'a');\n\n\
            -- user mapping for \"Odd OPTIONS (\" server s\n\
            CREATE USER MAPPING FOR \"Odd OPTIONS (\" SERVER \"s\";\n\n\
            -- publication p\nCREATE PUBLICATION \"p\" WITH (publish = 'insert');\n\n\
            -- default privileges in schema \"a GRANT b\" on tables\n\
            ALTER DEFAULT PRIVILEGES IN SCHEMA \"a GRANT b\" GRANT SELECT ON TABLES TO \"r\" WITH GRANT OPTION;\n\
            ALTER DEFAULT PRIVILEGES IN SCHEMA \"a GRANT b\" REVOKE USAGE ON TABLES FROM PUBLIC;\n\n\
            -- event trigger e\nCREATE EVENT TRIGGER \"e\" ON sql_drop EXECUTE FUNCTION f();\n";
        let text = rollback(snapshot, "V1__baseline", false).unwrap();
        let statements: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("--") && !l.is_empty())
            .collect();
        assert_eq!(
            statements,
            [
                "DROP EVENT TRIGGER \"e\";",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA \"a GRANT b\" GRANT USAGE ON TABLES TO PUBLIC;",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA \"a GRANT b\" REVOKE SELECT ON TABLES FROM \"r\";",
                "DROP PUBLICATION \"p\";",
                "DROP USER MAPPING FOR \"Odd OPTIONS (\" SERVER \"s\";",
                "DROP USER MAPPING FOR CURRENT_USER SERVER \"s\";",
                "DROP SERVER \"s\";",
                "DROP FOREIGN DATA WRAPPER \"w\";",
            ],
            "{text}"
        );
    }

    #[test]
    fn names_are_quoted_part_by_part_and_arguments_kept() {
        let ok = |name: &str| sql_name(name).unwrap();
        assert_eq!(ok("public.film"), "\"public\".\"film\"");
        assert_eq!(ok("public.user"), "\"public\".\"user\"");
        assert_eq!(ok("citext"), "\"citext\"");
        assert_eq!(ok("\"Odd \"\"S\"\"\".\"a.b\""), "\"Odd \"\"S\"\"\".\"a.b\"");
        assert_eq!(
            ok("public.f(integer, timestamp with time zone)"),
            "\"public\".\"f\"(integer, timestamp with time zone)"
        );
        assert_eq!(ok("public.\"bıgınt\""), "\"public\".\"bıgınt\"");
        // A name with a control character, as `snapshot::sql::display` writes it.
        assert_eq!(ok("U&\"A\\000aB\".t"), "\"A\nB\".\"t\"");
        assert_eq!(ok("public.U&\"a\\\\\"\"b\""), "\"public\".\"a\\\"\"b\"");
        for bad in [
            "",
            "public.",
            "\"open",
            "a.b.c",
            "public.t extra",
            "Public.t",
            "U&\"A\\00\"",
        ] {
            assert!(sql_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn objects_are_dropped_in_reverse_with_tables_in_one_statement() {
        let snapshot = "-- preamble\nSET x = 1;\n\n\
            -- schema app\nCREATE SCHEMA IF NOT EXISTS \"app\";\n\n\
            -- schema public\nCREATE SCHEMA IF NOT EXISTS \"public\";\n\
            COMMENT ON SCHEMA \"public\" IS 'standard public schema';\n\n\
            -- extension citext\nCREATE EXTENSION IF NOT EXISTS \"citext\";\n\n\
            -- type app.mood\nCREATE TYPE \"app\".\"mood\" AS ENUM ('a');\n\n\
            -- function app.f(integer)\nCREATE OR REPLACE FUNCTION app.f(integer)\n\n\
            -- aggregate app.agg(text)\nCREATE AGGREGATE \"app\".\"agg\"(text) ();\n\n\
            -- sequence app.free\nCREATE SEQUENCE \"app\".\"free\";\n\n\
            -- sequence app.t_id_seq\nCREATE SEQUENCE \"app\".\"t_id_seq\";\n\n\
            -- table app.p\nCREATE TABLE \"app\".\"p\" (a int) PARTITION BY RANGE (a);\n\n\
            -- table app.a_part\nCREATE TABLE \"app\".\"a_part\" PARTITION OF \"app\".\"p\" FOR VALUES FROM (1) TO (2);\n\n\
            -- table app.t\nCREATE TABLE \"app\".\"t\" (id int);\n\n\
            -- sequence ownership app.t_id_seq\nALTER SEQUENCE \"app\".\"t_id_seq\" OWNED BY \"app\".\"t\".\"id\";\n\n\
            -- constraint app.t t_fkey\nALTER TABLE ONLY \"app\".\"t\" ADD CONSTRAINT x;\n\n\
            -- view app.v\nCREATE VIEW \"app\".\"v\" AS SELECT 1;\n\n\
            -- materialized view app.m\nCREATE MATERIALIZED VIEW \"app\".\"m\" AS SELECT 1;\n";
        let text = rollback(snapshot, "V1__baseline", false).unwrap();
        let statements: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("--") && !l.is_empty())
            .collect();
        assert_eq!(
            statements,
            [
                "DROP MATERIALIZED VIEW \"app\".\"m\";",
                "DROP VIEW \"app\".\"v\";",
                "DROP TABLE",
                "    \"app\".\"p\",",
                "    \"app\".\"t\";",
                "DROP SEQUENCE \"app\".\"free\";",
                "DROP ROUTINE \"app\".\"agg\"(text);",
                "DROP FUNCTION \"app\".\"f\"(integer);",
                "DROP TYPE \"app\".\"mood\";",
                "DROP EXTENSION \"citext\";",
                "DROP SCHEMA \"app\";",
            ],
            "{text}"
        );
        assert!(text.starts_with("-- Undoes V1__baseline: "), "{text}");
    }

    #[test]
    fn operators_keep_their_symbol_and_quote_their_schema() {
        assert_eq!(
            operator("app.<<<(integer, bigint)").unwrap(),
            "\"app\".<<<(integer, bigint)"
        );
        assert_eq!(
            operator("\"Odd \"\".\".~~-(NONE, integer)").unwrap(),
            "\"Odd \"\".\".~~-(NONE, integer)"
        );
        assert_eq!(operator("user.=(a, b)").unwrap(), "\"user\".=(a, b)");
        assert!(operator("app").is_err());
        assert!(operator("app.").is_err());
    }

    #[test]
    fn the_public_schema_gets_its_comment_and_privileges_back() {
        let block = "-- schema public\nCREATE SCHEMA IF NOT EXISTS \"public\";\n\
            COMMENT ON SCHEMA \"public\" IS 'ours';\n\
            REVOKE USAGE ON SCHEMA \"public\" FROM PUBLIC;\n\
            GRANT USAGE ON SCHEMA \"public\" TO PUBLIC WITH GRANT OPTION;\n\
            GRANT CREATE ON SCHEMA \"public\" TO \"app\";\n";
        assert_eq!(
            restore_public(block),
            "REVOKE CREATE ON SCHEMA \"public\" FROM \"app\";\n\
             REVOKE USAGE ON SCHEMA \"public\" FROM PUBLIC;\n\
             GRANT USAGE ON SCHEMA \"public\" TO PUBLIC;\n\
             COMMENT ON SCHEMA \"public\" IS 'standard public schema';"
        );
        let untouched = "-- schema public\nCREATE SCHEMA IF NOT EXISTS \"public\";\n\
            COMMENT ON SCHEMA \"public\" IS 'standard public schema';\n";
        assert_eq!(restore_public(untouched), "");
    }
}

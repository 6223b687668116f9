//! Small text helpers for snapshot SQL: names always through [`crate::db::quote_ident`],
//! literals with doubled quotes (the snapshot sets `standard_conforming_strings = on`), and
//! the unquoted-when-plain form used in block headers, which are comments, not SQL.

use crate::db::quote_ident;

/// `"schema"."name"`.
pub(crate) fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// A string literal: `it's` -> `'it''s'`.
pub(crate) fn literal(text: &str) -> String {
    crate::db::quote_literal(text)
}

/// A name as a header shows it: bare when it is a plain lower-case identifier, otherwise
/// quoted, so that a header names exactly one object. A name holding a control character (a
/// newline would end the header's comment line and start a line of SQL) is written with
/// Unicode escapes, `U&"A\000aB"`, still a valid SQL identifier: a header is always one line.
pub(crate) fn display(name: &str) -> String {
    if name.chars().any(char::is_control) {
        let mut escaped = String::from("U&\"");
        for c in name.chars() {
            match c {
                '"' => escaped.push_str("\"\""),
                '\\' => escaped.push_str("\\\\"),
                c if c.is_control() => escaped.push_str(&format!("\\{:04x}", c as u32)),
                c => escaped.push(c),
            }
        }
        escaped.push('"');
        return escaped;
    }
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        quote_ident(name)
    }
}

/// `schema.name` as a header shows it.
pub(crate) fn display_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", display(schema), display(name))
}

/// Storage parameters (`reloptions`, `name=value` each) as the body of a `WITH (...)`, sorted
/// by bytes: the server keeps them in the order they were set, which is history, not schema.
/// `prefix` is `toast.` for the TOAST table's parameters.
pub(crate) fn options(list: &[String], prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .map(|option| match option.split_once('=') {
            Some((name, value)) => format!("{prefix}{name}={}", option_value(value)),
            None => format!("{prefix}{option}"),
        })
        .collect();
    out.sort();
    out
}

fn option_value(value: &str) -> String {
    let simple = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if simple {
        value.to_string()
    } else {
        literal(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_doubles_single_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(""), "''");
        assert_eq!(literal("back\\slash"), "'back\\slash'");
    }

    #[test]
    fn display_escapes_control_characters_so_a_header_stays_one_line() {
        assert_eq!(display("A\nB"), r#"U&"A\000aB""#);
        assert_eq!(display("a\t\\\"b"), r#"U&"a\0009\\""b""#);
    }

    #[test]
    fn display_quotes_only_names_that_need_it() {
        assert_eq!(display("images"), "images");
        assert_eq!(display("_x1"), "_x1");
        assert_eq!(display("Images"), "\"Images\"");
        assert_eq!(display("two words"), "\"two words\"");
        assert_eq!(display("1st"), "\"1st\"");
        assert_eq!(display("a.b"), "\"a.b\"");
        assert_eq!(
            display_qualified("public", "Odd\"Name"),
            "public.\"Odd\"\"Name\""
        );
    }

    #[test]
    fn options_are_sorted_prefixed_and_quoted_when_needed() {
        let list = vec![
            "fillfactor=80".to_string(),
            "autovacuum_enabled=false".to_string(),
            "weird=a b".to_string(),
        ];
        assert_eq!(
            options(&list, ""),
            ["autovacuum_enabled=false", "fillfactor=80", "weird='a b'"]
        );
        assert_eq!(options(&list[..1], "toast."), ["toast.fillfactor=80"]);
    }
}

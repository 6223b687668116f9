//! Refinery migrations that wrap their whole text in `BEGIN; … COMMIT;`. refinery runs each
//! file inside a transaction of its own, so the pair was redundant there (the server warns
//! and carries on); pgstrata runs each migration in ONE transaction together with its history
//! row, where the file's `COMMIT` would end that transaction before the row is written. So
//! pgstrata refuses transaction control in migrations, and adopting such a file offers one
//! way through: comment out exactly that outer pair (`--unwrap-transactions`), which leaves
//! what the file does unchanged. Any other transaction control (a `COMMIT` part-way, two
//! blocks, `BEGIN ISOLATION LEVEL …`, `ROLLBACK`) changes what the file does if removed, and is
//! refused with the reason.
//!
//! Pure: text in, text out; the caller reads and writes the files.

use crate::sql::{self, Statement, TransactionControl};

/// What adopting a refinery file needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwrap {
    /// No transaction control: adopted as it is.
    Unchanged,
    /// Wrapped whole in one `BEGIN … COMMIT`: the text with the pair commented out.
    Unwrapped(String),
    /// Transaction control that cannot be removed without changing what the file does: why,
    /// at `line:col`.
    Refused(String),
}

/// How `text` (the file exactly as on disk, as refinery hashed it) can be adopted.
pub fn unwrap(text: &str) -> Unwrap {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let statements = match sql::with_room(|| sql::parse(body)) {
        Ok(Ok(statements)) => statements,
        // Syntax errors are the loader's to report.
        _ => return Unwrap::Unchanged,
    };
    let controls: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.class.transaction == Some(TransactionControl::Block))
        .collect();
    if controls.is_empty() {
        return Unwrap::Unchanged;
    }
    let first = statements.first().expect("a control statement was found");
    let last = statements.last().expect("a control statement was found");
    let wrapped = controls.len() == 2
        && std::ptr::eq(controls[0], first)
        && std::ptr::eq(controls[1], last)
        && is_plain(first.text(body), BEGINS)
        && is_plain(last.text(body), COMMITS);
    if !wrapped {
        let at = controls
            .iter()
            .find(|s| !(std::ptr::eq(**s, first) && is_plain(s.text(body), BEGINS)))
            .unwrap_or(&controls[0]);
        let (line, col) = sql::text::line_col(body, at.start);
        return Unwrap::Refused(format!(
            "{line}:{col}: `{}`: only a file wrapped whole in one plain BEGIN; … COMMIT; can be \
             unwrapped; removing this would change what the file does",
            at.head(body)
        ));
    }
    let mut out = String::with_capacity(text.len() + 160);
    out.push_str(bom);
    let mut copied = 0;
    for statement in [first, last] {
        let end = with_semicolon(body, statement.end);
        out.push_str(&body[copied..statement.start]);
        out.push_str(&format!(
            "/* {}; (commented out when adopted from refinery: pgstrata runs each migration in \
             one transaction of its own) */",
            statement.text(body)
        ));
        copied = end;
    }
    out.push_str(&body[copied..]);
    Unwrap::Unwrapped(out)
}

const BEGINS: &[&str] = &[
    "BEGIN",
    "BEGIN WORK",
    "BEGIN TRANSACTION",
    "START TRANSACTION",
];
const COMMITS: &[&str] = &[
    "COMMIT",
    "COMMIT WORK",
    "COMMIT TRANSACTION",
    "END",
    "END WORK",
    "END TRANSACTION",
];

/// Whether a statement is one of `forms`, without options (an isolation level or a chain would
/// be lost by commenting it out), comments or anything else.
fn is_plain(statement: &str, forms: &[&str]) -> bool {
    let words = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    forms.iter().any(|form| form.eq_ignore_ascii_case(&words))
}

/// The offset just past the statement's `;` when one follows it (after blanks only).
fn with_semicolon(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    let blanks = rest.len() - rest.trim_start().len();
    if rest[blanks..].starts_with(';') {
        end + blanks + 1
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_pair_is_commented_out_in_place() {
        let text = "-- add t\r\nbegin;\r\nCREATE TABLE t (id int);\r\nCOMMIT ;\r\n";
        let Unwrap::Unwrapped(out) = unwrap(text) else {
            panic!("{:?}", unwrap(text))
        };
        assert_eq!(
            out,
            "-- add t\r\n/* begin; (commented out when adopted from refinery: pgstrata runs each \
             migration in one transaction of its own) */\r\nCREATE TABLE t (id int);\r\n/* \
             COMMIT; (commented out when adopted from refinery: pgstrata runs each migration \
             in one transaction of its own) */\r\n"
        );
        assert_eq!(unwrap(&out), Unwrap::Unchanged, "nothing left to unwrap");
        let one_line = "BEGIN; CREATE TABLE t (id int); END";
        let Unwrap::Unwrapped(out) = unwrap(one_line) else {
            panic!()
        };
        assert!(out.contains("*/ CREATE TABLE t (id int); /* END;"), "{out}");
        assert!(
            matches!(unwrap("\u{feff}START TRANSACTION;\nSELECT 1;\nCOMMIT WORK;\n"),
            Unwrap::Unwrapped(out) if out.starts_with("\u{feff}/* START TRANSACTION;"))
        );
    }

    #[test]
    fn anything_but_one_plain_outer_pair_is_refused_where_it_is() {
        assert_eq!(unwrap("CREATE TABLE t (id int);\n"), Unwrap::Unchanged);
        let refused = |text: &str| match unwrap(text) {
            Unwrap::Refused(why) => why,
            other => panic!("{text}: {other:?}"),
        };
        assert!(
            refused("BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (id);\n")
                .starts_with("3:1: `COMMIT`")
        );
        assert!(
            refused("BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;\n").starts_with("3:1:")
        );
        assert!(
            refused("BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;\n")
                .starts_with("1:1:")
        );
        assert!(refused("BEGIN;\nSELECT 1;\nROLLBACK;\n").starts_with("3:1: `ROLLBACK`"));
        assert!(refused("SELECT 1;\nCOMMIT;\n").starts_with("2:1:"));
        assert!(refused("BEGIN;\nSELECT 1;\n").starts_with("1:1: `BEGIN`"));
    }
}

//! `-- pgstrata:…` directives, read from a file's leading comment block: which exist, which
//! kind of file each belongs in, and their arguments.

use std::time::Duration;

use super::DifferenceClass;
use super::{FileKind, Inexact};
use crate::checksum;
use crate::config::parse_duration;

#[derive(Default)]
pub(super) struct Directives {
    pub(super) no_transaction: bool,
    pub(super) irreversible: Option<String>,
    pub(super) requires: Vec<i64>,
    pub(super) lock_timeout: Option<Duration>,
    pub(super) statement_timeout: Option<Duration>,
    pub(super) inexact: Vec<Inexact>,
}

const DIRECTIVE: &str = "pgstrata:";

/// Reads `-- pgstrata:…` directives from the file's leading comment block (the lines before
/// the first line that is neither blank nor a `--` comment). A directive anywhere else, an
/// unknown one, or one that does not belong in this kind of file is a problem.
pub(super) fn parse_directives(
    text: &str,
    relative: &str,
    kind: FileKind,
    problems: &mut Vec<String>,
) -> Directives {
    let mut directives = Directives::default();
    let mut leading = true;
    for (index, line) in checksum::normalize(text).lines().enumerate() {
        let trimmed = line.trim();
        let comment = trimmed.strip_prefix("--").map(str::trim_start);
        if comment.is_none() && !trimmed.is_empty() {
            leading = false;
        }
        let Some(body) = comment.and_then(|c| c.strip_prefix(DIRECTIVE)) else {
            continue;
        };
        let at = format!("{relative}:{}", index + 1);
        // Per statement, anywhere: read by the lint rules (`sql::lint`), which say what is
        // wrong with one.
        if body.split_whitespace().next() == Some("lint-ignore")
            && matches!(kind, FileKind::Migration | FileKind::Rollback)
        {
            continue;
        }
        if !leading {
            problems.push(format!(
                "{at}: `-- {DIRECTIVE}` directives belong in the file's leading comment block, \
                 before the first statement"
            ));
            continue;
        }
        let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let rest = rest.trim();
        match (word, kind) {
            ("no-transaction", FileKind::Migration | FileKind::Rollback) if rest.is_empty() => {
                directives.no_transaction = true;
            }
            ("lock-timeout" | "statement-timeout", FileKind::Migration | FileKind::Rollback) => {
                match parse_duration(rest) {
                    Ok(duration) if word == "lock-timeout" => {
                        directives.lock_timeout = Some(duration)
                    }
                    Ok(duration) => directives.statement_timeout = Some(duration),
                    Err(why) => problems.push(format!("{at}: `-- pgstrata:{word}`: {why}")),
                }
            }
            ("irreversible", FileKind::Rollback) if !rest.is_empty() => {
                directives.irreversible = Some(rest.to_string());
            }
            ("irreversible", FileKind::Rollback) => problems.push(format!(
                "{at}: `-- pgstrata:irreversible` needs a reason, e.g. \
                 `-- pgstrata:irreversible drops customer data`"
            )),
            ("inexact", FileKind::Rollback) => match parse_inexact(rest) {
                Ok(inexact) => directives.inexact.push(inexact),
                Err(why) => problems.push(format!("{at}: `-- pgstrata:inexact`: {why}")),
            },
            ("requires", FileKind::View) => match parse_requires(rest) {
                Some(versions) => directives.requires.extend(versions),
                None => problems.push(format!(
                    "{at}: `-- pgstrata:requires` takes versions like `V5` or `V5 V7`"
                )),
            },
            (
                "no-transaction" | "irreversible" | "inexact" | "requires" | "lock-timeout"
                | "statement-timeout",
                _,
            ) => problems.push(format!("{at}: `-- pgstrata:{word}` {}", misplaced(word))),
            _ => problems.push(format!(
                "{at}: unknown directive `-- pgstrata:{word}`; known: no-transaction, \
                 lock-timeout <duration>, statement-timeout <duration> (migrations, rollbacks), \
                 irreversible <reason>, inexact <class> <reason> (rollbacks), lint-ignore <rule> <reason> (migrations, \
                 rollbacks, before a statement), requires V<n> (views)"
            )),
        }
    }
    directives
}

fn misplaced(word: &str) -> &'static str {
    match word {
        "no-transaction" => "is for migrations and rollbacks and takes no argument",
        "lock-timeout" | "statement-timeout" => "is for migrations and rollbacks",
        "irreversible" | "inexact" => "belongs in a rollback file",
        _ => "belongs in a view file",
    }
}

/// `column-order <reason>`: one acceptable class and a reason, both required.
fn parse_inexact(rest: &str) -> Result<Inexact, String> {
    let known = DifferenceClass::ACCEPTABLE
        .map(DifferenceClass::name)
        .join(", ");
    let (word, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let Some(class) = DifferenceClass::acceptable(word) else {
        return Err(format!(
            "`{word}` is not a class a rollback may accept; give one of {known}, then the reason"
        ));
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(format!(
            "needs a reason after the class, e.g. `-- pgstrata:inexact {word} the column is \
             added again at the end`"
        ));
    }
    Ok(Inexact {
        class,
        reason: reason.to_string(),
    })
}

fn parse_requires(rest: &str) -> Option<Vec<i64>> {
    let versions: Option<Vec<i64>> = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|v| {
            v.strip_prefix('V')
                .unwrap_or(v)
                .parse()
                .ok()
                .filter(|v| *v > 0)
        })
        .collect();
    versions.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_from_the_leading_block_only() {
        let mut problems = Vec::new();
        let text = "-- undo V3\n\n-- pgstrata:irreversible drops data\nDROP TABLE t;\n";
        let d = parse_directives(
            text,
            "rollbacks/V3__x.sql",
            FileKind::Rollback,
            &mut problems,
        );
        assert_eq!(d.irreversible.as_deref(), Some("drops data"));
        assert!(problems.is_empty(), "{problems:?}");

        let late = "SELECT 1;\n-- pgstrata:no-transaction\n";
        parse_directives(
            late,
            "migrations/V1__x.sql",
            FileKind::Migration,
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("migrations/V1__x.sql:2:"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_and_misplaced_directives_are_problems() {
        let mut problems = Vec::new();
        parse_directives(
            "-- pgstrata:no-transacton\n",
            "migrations/V1__x.sql",
            FileKind::Migration,
            &mut problems,
        );
        parse_directives(
            "-- pgstrata:requires V2\n",
            "migrations/V1__x.sql",
            FileKind::Migration,
            &mut problems,
        );
        parse_directives(
            "-- pgstrata:irreversible\n",
            "rollbacks/V1__x.sql",
            FileKind::Rollback,
            &mut problems,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("unknown directive `-- pgstrata:no-transacton`"));
        assert!(problems[1].contains("belongs in a view file"));
        assert!(problems[2].contains("needs a reason"));
    }

    #[test]
    fn inexact_takes_one_acceptable_class_and_a_reason() {
        let mut problems = Vec::new();
        let text = "-- pgstrata:inexact column-order the column is added again at the end\n\
                    -- pgstrata:inexact default-comment-privilege the old default is gone\n";
        let d = parse_directives(
            text,
            "rollbacks/V1__x.sql",
            FileKind::Rollback,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            d.inexact,
            vec![
                Inexact {
                    class: DifferenceClass::ColumnOrder,
                    reason: "the column is added again at the end".into()
                },
                Inexact {
                    class: DifferenceClass::DefaultCommentPrivilege,
                    reason: "the old default is gone".into()
                }
            ]
        );
        for (bad, why) in [
            ("-- pgstrata:inexact column-order\n", "needs a reason"),
            ("-- pgstrata:inexact definition because\n", "not a class"),
            ("-- pgstrata:inexact all of them\n", "not a class"),
        ] {
            let mut problems = Vec::new();
            parse_directives(
                bad,
                "rollbacks/V1__x.sql",
                FileKind::Rollback,
                &mut problems,
            );
            assert!(
                problems.len() == 1 && problems[0].contains(why),
                "{bad}: {problems:?}"
            );
        }
        let mut problems = Vec::new();
        parse_directives(
            "-- pgstrata:inexact column-order why\n",
            "migrations/V1__x.sql",
            FileKind::Migration,
            &mut problems,
        );
        assert!(
            problems[0].contains("belongs in a rollback file"),
            "{problems:?}"
        );
    }

    #[test]
    fn requires_lists() {
        assert_eq!(parse_requires("V5"), Some(vec![5]));
        assert_eq!(parse_requires("V5 V7, 9"), Some(vec![5, 7, 9]));
        assert_eq!(parse_requires(""), None);
        assert_eq!(parse_requires("V5 later"), None);
    }
}

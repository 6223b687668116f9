//! Keeping passwords out of every message: the rules for what text a user typed may be
//! quoted back in an error, and the redaction of the command line in clap's own errors.
//!
//! A password can sit anywhere a user puts it by mistake: in a URL of another scheme, after a
//! missing `@`, in a settings file line, on the command line without its flag. So an error
//! quotes a piece of user input only when that piece cannot be a password: a word made like an
//! option name where an option name goes, a number where a number goes, or a value within a
//! typo of a word the option accepts. Everything else is described by where it is (its part,
//! its line, its key), never by its text. This module never prints.

/// Said instead of a piece of input that is not quoted.
pub const NOT_SHOWN: &str = "(not shown: it may be a password)";

/// `"text"` when `show`, else [`NOT_SHOWN`].
pub fn quoted_if(text: &str, show: bool) -> String {
    if show {
        format!("\"{text}\"")
    } else {
        NOT_SHOWN.to_string()
    }
}

/// Whether a word in an option-name position may be quoted: lower-case ASCII letters and `_`,
/// as every libpq keyword and settings key is (a password almost never is, and a word there
/// is only a password when the input is already badly garbled).
pub fn looks_like_option_name(word: &str) -> bool {
    (1..=40).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Whether a value may be quoted where a number belongs: digits, signs, spaces, `.` and `,`.
pub fn looks_like_number(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 40
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +-.,".contains(&b))
}

/// The known word `word` is a typo of (case aside, at most one edit for short words, two
/// for longer ones), if any.
pub fn near_miss<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = if word.chars().count() >= 5 { 2 } else { 1 };
    known
        .iter()
        .map(|k| (distance(&word, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Edit distance with transpositions (optimal string alignment), over characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Whether a piece of text may carry a password: a URL (`scheme://`), a `user:password@`
/// part, or any text naming a password. (A path with an `@` but no `:` before it does not.)
pub fn may_carry_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let colon_before_at = lower.rfind('@').is_some_and(|at| lower[..at].contains(':'));
    lower.contains("://") || lower.contains("password") || colon_before_at
}

/// Replaces, in a message, every command-line argument that may carry a password by a
/// masked form: clap's errors quote arguments (a URL given without `--database-url` comes
/// back as "unrecognized subcommand 'postgres://…'"), and so may an error about an argument
/// given in the wrong place (`--table <URL>`). The last line of defence, applied to every
/// error the binary prints.
pub fn redact_args(message: &str, args: &[String]) -> String {
    let mut out = message.to_string();
    let mut secrets: Vec<&str> = Vec::new();
    // A bare word (`pgstrata new password`) is left alone: replacing it would garble every
    // message that uses the word.
    let word = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
    };
    for arg in args.iter().filter(|a| may_carry_secret(a) && !word(a)) {
        secrets.push(arg);
        // `--flag=value` is also quoted as its value alone (only an option: in a URL or a
        // key=value string, what follows the first `=` is an ordinary value such as a
        // socket folder, which an error about connecting quotes).
        if let Some((_, value)) = arg.split_once('=')
            && arg.starts_with("--")
            && !word(value)
        {
            secrets.push(value);
        }
    }
    // Longest first, so that a value is not replaced inside its own `--flag=value`.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, &crate::conninfo::mask_password(secret));
    }
    out
}

/// Hides, in a usage error, the argument it complains about (`unexpected argument 'X'`,
/// `invalid value 'X' for '--format'`) unless it cannot be a password: a word of lower-case
/// letters, `-` and `_` (`stauts`, `jsno`), or a number. A stray argument is where a password
/// lands when the shell splits a connection string (`--database-url host=h password= pw`).
pub fn redact_offending(message: &str, offending: &str) -> String {
    let word = (1..=40).contains(&offending.len())
        && offending
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    if word || looks_like_number(offending) || offending.is_empty() {
        return message.to_string();
    }
    message.replace(offending, NOT_SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_allow_one_or_two_edits() {
        let known = ["host", "hostaddr", "sslmode", "password"];
        assert_eq!(near_miss("hots", &known), Some("host"));
        assert_eq!(near_miss("SSLMODE", &known), Some("sslmode"));
        assert_eq!(near_miss("pasword", &known), Some("password"));
        assert_eq!(near_miss("s3cr3t-pw", &known), None);
        assert_eq!(near_miss("hx", &known), None);
    }

    #[test]
    fn only_harmless_shapes_are_quoted() {
        assert!(looks_like_option_name("colour"));
        assert!(!looks_like_option_name("s3cr3t-pw"));
        assert!(!looks_like_option_name("Hunter2"));
        assert!(looks_like_number("5432,5433"));
        assert!(!looks_like_number("54x"));
        assert_eq!(quoted_if("x", false), NOT_SHOWN);
    }

    #[test]
    fn the_offending_argument_is_shown_only_when_harmless() {
        let message = "unexpected argument 's3cr3t-pw' found";
        assert_eq!(
            redact_offending(message, "s3cr3t-pw"),
            format!("unexpected argument '{NOT_SHOWN}' found")
        );
        let typo = "unrecognized subcommand 'stauts'";
        assert_eq!(redact_offending(typo, "stauts"), typo);
    }

    #[test]
    fn arguments_with_passwords_are_masked_in_messages() {
        let args = vec![
            "pgstrata".to_string(),
            "postgres://u:s3cr3t-pw@h/db".to_string(),
            "--database-url=mysql://u:s3cr3t-pw@h/db".to_string(),
        ];
        let message = "unrecognized subcommand 'postgres://u:s3cr3t-pw@h/db'; \
                       '--database-url=mysql://u:s3cr3t-pw@h/db' and 'mysql://u:s3cr3t-pw@h/db'";
        let redacted = redact_args(message, &args);
        assert!(!redacted.contains("s3cr3t-pw"), "{redacted}");
        assert!(redacted.contains("postgres://u:***@h/db"), "{redacted}");
        let plain = vec!["pgstrata".to_string(), "password".to_string()];
        assert_eq!(
            redact_args("no password given", &plain),
            "no password given"
        );
        assert!(!may_carry_secret("/srv/app@2/migrations"));
        assert!(may_carry_secret("u:pw@h"));
        // A socket folder after `host=` in a URL is not a value of its own to hide: an error
        // about connecting names it.
        let socket = vec![
            "pgstrata".to_string(),
            "--database-url".to_string(),
            "postgres://u:pw@/db?host=/tmp/rv".to_string(),
        ];
        let message = "connecting to db on /tmp/rv/.s.PGSQL.5432: no such file";
        assert_eq!(redact_args(message, &socket), message);
    }
}

//! A password never appears in pgstrata's output, whatever the input: malformed URLs of every
//! kind, key=value strings, settings files and command lines holding a known password, given
//! as `--database-url`, `DATABASE_URL` or `database_url` in pgstrata.toml, with text and JSON
//! output. Each error must still say what is wrong (the scheme, the option, the line and key).

use std::process::Command;

use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, run};

const PASSWORD: &str = "s3cr3t-pw";

/// Connection strings holding the password, each with what its error must say.
const CONNECTION_STRINGS: &[(&str, &str)] = &[
    (
        "postgresql+psycopg2://u:s3cr3t-pw@h/db",
        "unsupported URL scheme \"postgresql+psycopg2\"",
    ),
    (
        "postgis://u:s3cr3t-pw@h/db",
        "unsupported URL scheme \"postgis\"",
    ),
    (
        "mysql://u:s3cr3t-pw@h/db",
        "unsupported URL scheme \"mysql\"",
    ),
    (
        "postgres//u:s3cr3t-pw@h/db",
        "check the \"://\" after the scheme",
    ),
    (
        "postgres:/u:s3cr3t-pw@h/db",
        "check the \"://\" after the scheme",
    ),
    (
        "postgres:u:s3cr3t-pw@h/db",
        "check the \"://\" after the scheme",
    ),
    (
        "POSTGRES://u:s3cr3t-pw@h/db",
        "must be written in lower case",
    ),
    (
        "jdbc:postgresql://h/db?user=u&password=s3cr3t-pw",
        "JDBC URL",
    ),
    (
        "u:s3cr3t-pw@h/db",
        "neither a postgres:// or postgresql:// URL",
    ),
    (
        " postgres://u:s3cr3t-pw@h/db",
        "blanks before its postgres:// scheme",
    ),
    ("postgres://u:s3cr3t-pw/db", "invalid port (not shown"),
    (
        "postgres://u:s3cr3t-pw@h@x/db",
        "has an \"@\" after its user:password part",
    ),
    ("postgres://u:s3cr3t-pw@h:5432x/db", "invalid port"),
    (
        "postgres://u:s3cr3t-pw@h/db?sslmode=s3cr3t-pw",
        "\"sslmode\"",
    ),
    (
        "postgres://u:s3cr3t-pw@h/db?colour=blue",
        "invalid URL query parameter \"colour\"",
    ),
    (
        "postgres://h/db?password:s3cr3t-pw",
        "missing \"=\" in the URL query parameter",
    ),
    (
        "postgres://u:s3cr3t-pw%zz@h/db",
        "percent-encoding in the URL's password",
    ),
    ("postgres://u:s3cr3t-pw@[::1/db", "missing \"]\""),
    (
        "host=h user=u s3cr3t-pw",
        "missing \"=\" after a word that is no connection option",
    ),
    ("host=h password=s3cr3t-pw port=abc", "\"port\""),
    ("host=h password='s3cr3t-pw", "unterminated quoted string"),
    (
        "host=h password=s3cr3t-pw extra",
        "the word after password=... is not a key=value",
    ),
    ("host=h password=s3cr3t-pw sslmode=s3cr3t-pw", "\"sslmode\""),
    ("host=h s3cr3t-pw=x", "invalid connection option (not shown"),
    (
        "host=h password=s3cr3t-pw connect_timeout=s3cr3t-pw",
        "\"connect_timeout\"",
    ),
    ("host=h hostaddr=s3cr3t-pw password=x", "\"hostaddr\""),
    ("password=s3cr3t-pw service=prod", "service files"),
    (
        "host=h password=s3cr3t-pw client_encoding=s3cr3t-pw",
        "client_encoding=",
    ),
    (
        "postgres://u:s3cr3t-pw@127.0.0.1:1/db",
        "connecting to db on 127.0.0.1:1 as u",
    ),
    (
        "host=/nonexistent/socket/dir user=u password=s3cr3t-pw dbname=x",
        "connecting to x on /nonexistent/socket/dir/.s.PGSQL.5432 as u",
    ),
];

fn project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__t1.sql", "CREATE TABLE t1 (id int);\n"),
        ("rollbacks/V1__t1.sql", "DROP TABLE t1;\n"),
    ])
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Runs `command` in text and JSON, asserting exit 2, the password nowhere, `expected` in
/// stderr; returns the failures.
fn check(what: &str, expected: &str, mut command: impl FnMut() -> Command) -> Vec<String> {
    let mut failures = Vec::new();
    for (format, verb) in [("text", "status"), ("json", "status"), ("json", "up")] {
        let (code, out, err) = run(command().args(["--format", format, verb]));
        let mut wrong = Vec::new();
        if code != 2 {
            wrong.push(format!("exit {code}"));
        }
        if out.contains(PASSWORD) || err.contains(PASSWORD) {
            wrong.push("the password is shown".to_string());
        }
        if !err.contains(expected) {
            wrong.push(format!("no `{expected}`"));
        }
        if err.contains("panicked") {
            wrong.push("panicked".to_string());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{what} ({format} {verb}): {}\n  stdout: {out}\n  stderr: {err}",
                wrong.join(", ")
            ));
        }
    }
    failures
}

// Connection strings of other schemes were echoed whole, password included.
#[test]
fn connection_strings_never_show_their_password_by_flag_env_or_settings_file() {
    let dir = project();
    let mut failures = Vec::new();
    for (input, expected) in CONNECTION_STRINGS {
        failures.extend(check(&format!("--database-url {input}"), expected, || {
            let mut c = pgstrata();
            c.arg("--dir")
                .arg(&dir.path)
                .arg("--database-url")
                .arg(input);
            c
        }));
        failures.extend(check(&format!("DATABASE_URL={input}"), expected, || {
            let mut c = pgstrata();
            c.arg("--dir").arg(&dir.path).env("DATABASE_URL", input);
            c
        }));
        let settings = TempDir::with_files(&[(
            "pgstrata.toml",
            &format!("database_url = {}\n", toml_string(input)),
        )]);
        failures.extend(check(&format!("database_url = {input}"), expected, || {
            let mut c = pgstrata();
            c.arg("--dir")
                .arg(&dir.path)
                .arg("--config")
                .arg(settings.path.join("pgstrata.toml"));
            c
        }));
    }
    assert!(CONNECTION_STRINGS.len() >= 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// pgstrata.toml parse errors quoted the offending line, and serde quoted the value.
#[test]
fn settings_file_errors_name_line_and_key_but_never_the_password() {
    let files: &[(&str, &str)] = &[
        (
            "database_url = postgres://u:s3cr3t-pw@h/db\n",
            "line 1, column 16 (key database_url): string values must be quoted",
        ),
        (
            "history_schema = \"x\"\ndatabase_url = \"postgres://u:s3cr3t-pw@h/db\n",
            "line 2, column 44 (key database_url): invalid basic string",
        ),
        (
            "database_url = 's3cr3t-pw\n",
            "line 1, column 26 (key database_url): invalid literal string",
        ),
        (
            "schemas = \"s3cr3t-pw\"\n",
            "line 1, column 11 (key schemas): invalid type: string \"…\", expected a sequence",
        ),
        (
            "lock_wait = \"s3cr3t-pw\"\n",
            "line 1, column 13 (key lock_wait): invalid type",
        ),
        ("s3cr3t-pw = 1\n", "line 1, column 1: unknown field `…`"),
        ("[s3cr3t-pw]\n", "line 1, column 2: unknown field `…`"),
        (
            "\n# pw\ns3cr3t-pw\n",
            "line 3, column 10: key with no value",
        ),
        (
            "database_url = \"x\"\ndatabase_url = \"s3cr3t-pw\"\n",
            "line 2, column 1 (key database_url): duplicate key",
        ),
        (
            "database_url = \"postgres://u:s3cr3t-pw@h/db\" trailing\n",
            "line 1, column 46 (key database_url): unexpected key or value",
        ),
        (
            "schemas = [\"s3cr3t-pw\"]\n",
            "schemas: entry 1 is not a schema name",
        ),
        (
            "history_schema = \"postgres://u:s3cr3t-pw@h/db/and/a/very/long/path/beyond/63/chars\"\n",
            "history_schema must be 1 to 63 characters",
        ),
        (
            "database_url = \"host=h password=s3cr3t-pw port=abc\"\n",
            "\"port\"",
        ),
    ];
    let dir = project();
    let mut failures = Vec::new();
    for (text, expected) in files {
        dir.write("pgstrata.toml", text);
        failures.extend(check(&format!("pgstrata.toml {text:?}"), expected, || {
            let mut c = pgstrata();
            c.arg("--dir").arg(&dir.path);
            c
        }));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// clap quoted a URL given without --database-url ("unrecognized subcommand '<URL>'").
#[test]
fn command_line_mistakes_never_show_the_password() {
    let url = "postgres://u:s3cr3t-pw@h/db";
    for (args, expected) in [
        (
            vec![url, "status"],
            "unrecognized subcommand 'postgres://u:***@h/db'",
        ),
        (
            vec!["status", url],
            "unexpected argument 'postgres://u:***@h/db'",
        ),
        (
            vec!["--lock-wait", url, "status"],
            "invalid value 'postgres://u:***@h/db'",
        ),
        (
            vec!["status", "mysql://u:s3cr3t-pw@h/db"],
            "unexpected argument '(a connection string that does not parse; not shown)'",
        ),
        // The shell split a connection string: the password arrives alone.
        (
            vec!["--database-url", "host=h password=", "s3cr3t-pw", "status"],
            "unrecognized subcommand '(not shown: it may be a password)'",
        ),
        (
            vec!["status", "s3cr3t-pw"],
            "unexpected argument '(not shown: it may be a password)'",
        ),
        (
            vec!["--format", "s3cr3t-pw", "status"],
            "invalid value '(not shown: it may be a password)' for '--format <FORMAT>'",
        ),
        (vec!["stauts"], "unrecognized subcommand 'stauts'"),
    ] {
        let (code, out, err) = run(pgstrata().args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !out.contains(PASSWORD) && !err.contains(PASSWORD),
            "{args:?}: {err}"
        );
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // Our own errors about an argument in the wrong place go through the same redaction.
    let db = TestDb::new();
    let dir = project();
    for (args, expected) in [
        (vec!["new", url], "is not a valid migration name"),
        (
            vec!["adopt-refinery", "--table", url],
            "--table `postgres://u:***@h/db` is not a table name",
        ),
    ] {
        let (code, out, err) = run(pgstrata_for(&db, &dir.path).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !out.contains(PASSWORD) && !err.contains(PASSWORD),
            "{args:?}: {err}"
        );
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

// PGPASSWORD is never echoed, whatever else in the environment is wrong.
#[test]
fn pgpassword_is_never_shown() {
    let dir = project();
    for (vars, expected) in [
        (
            vec![
                ("PGHOST", "/nonexistent/dir"),
                ("PGUSER", "u"),
                ("PGPORT", "abc"),
            ],
            "in the environment variable PGPORT",
        ),
        (
            vec![("PGHOST", "127.0.0.1"), ("PGPORT", "1"), ("PGUSER", "u")],
            "connecting to u on 127.0.0.1:1 as u",
        ),
        (
            vec![("PGHOST", "h"), ("PGSSLMODE", "s3cr3t-pw")],
            "in the environment variable PGSSLMODE",
        ),
        (vec![("PGSERVICE", "s3cr3t-pw")], "PGSERVICE is set"),
    ] {
        let failures = check(&format!("{vars:?}"), expected, || {
            let mut c = pgstrata();
            c.arg("--dir").arg(&dir.path).env("PGPASSWORD", PASSWORD);
            for (k, v) in &vars {
                c.env(k, v);
            }
            c
        });
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

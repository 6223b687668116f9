//! Parsing both forms of connection string, and the errors for malformed ones.

use super::*;

fn pairs(input: &str) -> Vec<(&'static str, String)> {
    parse(input).unwrap_or_else(|e| panic!("{input}: {e:#}")).1
}

fn p(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    list.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn error(input: &str) -> String {
    format!("{:#}", parse(input).expect_err(input))
}

#[test]
fn url_with_everything() {
    assert_eq!(
        pairs("postgresql://ann:s3cret@db.example:6543/app?sslmode=verify-full&connect_timeout=5"),
        p(&[
            ("user", "ann"),
            ("password", "s3cret"),
            ("host", "db.example"),
            ("port", "6543"),
            ("dbname", "app"),
            ("sslmode", "verify-full"),
            ("connect_timeout", "5"),
        ])
    );
    assert_eq!(
        parse("postgres://h").unwrap().0,
        Style::Url {
            scheme: "postgres://"
        }
    );
}

#[test]
fn url_percent_decoding_in_every_part() {
    assert_eq!(
        pairs("postgres://a%40b:p%3Aw%2F%40%25@h%2Dx/d%20b?application_name=a%26b"),
        p(&[
            ("user", "a@b"),
            ("password", "p:w/@%"),
            ("host", "h-x"),
            ("dbname", "d b"),
            ("application_name", "a&b"),
        ])
    );
    // libpq leaves "+" alone.
    assert_eq!(pairs("postgres:///a+b"), p(&[("dbname", "a+b")]));
}

#[test]
fn url_password_may_hold_colons_and_question_marks() {
    assert_eq!(
        pairs("postgres://ann:a:b?c@h/db"),
        p(&[
            ("user", "ann"),
            ("password", "a:b?c"),
            ("host", "h"),
            ("dbname", "db")
        ])
    );
}

#[test]
fn url_multiple_hosts_and_ipv6() {
    assert_eq!(
        pairs("postgres://h1:5432,h2:5433/db"),
        p(&[("host", "h1,h2"), ("port", "5432,5433"), ("dbname", "db")])
    );
    assert_eq!(
        pairs("postgres://h1,h2:5433"),
        p(&[("host", "h1,h2"), ("port", ",5433")])
    );
    assert_eq!(
        pairs("postgresql://[::1]:5433,[2001:db8::7]/x"),
        p(&[
            ("host", "::1,2001:db8::7"),
            ("port", "5433,"),
            ("dbname", "x")
        ])
    );
}

#[test]
fn url_without_host_means_the_default_socket_and_query_host_names_a_directory() {
    assert_eq!(pairs("postgresql://"), p(&[]));
    assert_eq!(pairs("postgresql:///app"), p(&[("dbname", "app")]));
    assert_eq!(
        pairs("postgresql:///app?host=/var/run/postgresql&port=5433"),
        p(&[
            ("dbname", "app"),
            ("host", "/var/run/postgresql"),
            ("port", "5433")
        ])
    );
    assert_eq!(
        pairs("postgresql://%2Ftmp%2Fsock/app"),
        p(&[("host", "/tmp/sock"), ("dbname", "app")])
    );
}

#[test]
fn url_ssl_true_is_sslmode_require() {
    assert_eq!(
        pairs("postgres://h?ssl=true"),
        p(&[("host", "h"), ("sslmode", "require")])
    );
}

#[test]
fn url_errors_name_the_problem() {
    assert!(error("postgres://h?foo=1").contains("invalid URL query parameter \"foo\""));
    assert!(error("postgres://h?sslmode").contains("missing \"=\""));
    assert!(error("postgres://h?sslmode=a=b").contains("extra \"=\""));
    assert!(error("postgres://h:port/db").contains("invalid port (not shown"));
    assert!(error("postgres://h:99999/db").contains("invalid port \"99999\""));
    assert!(error("postgres://h:0/db").contains("invalid port"));
    assert!(error("postgres://[::1/db").contains("missing \"]\""));
    assert!(error("postgres://[::1]x/db").contains("unexpected text"));
    assert!(error("postgres://h/d%zz").contains("percent-encoding in the URL's database name"));
    assert!(error("postgres://h/d%00").contains("%00"));
    assert!(error("postgres://h?service=x").contains("not supported"));
}

#[test]
fn url_errors_never_show_a_password() {
    // A password holding "@" or "/" ends early; what follows must not be echoed.
    for input in [
        "postgres://ann:SECRET@ss-SECRET@host/db",
        "postgres://ann:SECRET/ss-SECRET@host/db",
        "postgres://ann:SECRET/ss-SECRET@host:5432",
        "postgres://ann:5432/SECRET?x@host",
        "postgres://ann:SECRET/x?y@host",
        "postgres://ann:5432/SECRET?SECRET@host",
        "postgres://ann:p@ss/x?SECRET=1@host",
        "postgres://ann:p@ss/x?sslmode=SECRET@host",
        "postgres://ann:SECRET%zz@host/db",
        "postgres://ann:SECRET%00@host/db",
        "postgres://ann:%ff%feSECRET@host/db",
    ] {
        // Through ConnInfo, so that value checks are covered too.
        let message = match crate::conninfo::ConnInfo::parse(input) {
            Ok(_) => panic!("{input} parsed"),
            Err(err) => format!("{err:#}"),
        };
        assert!(!message.contains("SECRET"), "{input} -> {message}");
    }
    assert!(error("postgres://ann:pa/ss@host/db").contains("percent-encode"));
}

#[test]
fn key_value_basic_quoted_and_escaped() {
    assert_eq!(
        pairs("host=/tmp/x port=5432 user=postgres dbname=x"),
        p(&[
            ("host", "/tmp/x"),
            ("port", "5432"),
            ("user", "postgres"),
            ("dbname", "x")
        ])
    );
    assert_eq!(
        pairs(r"password='it\'s a \\ pass' application_name = 'my app'  options='-c a=b'"),
        p(&[
            ("password", r"it's a \ pass"),
            ("application_name", "my app"),
            ("options", "-c a=b"),
        ])
    );
    assert_eq!(
        pairs(r"user=a\ b dbname=''"),
        p(&[("user", "a b"), ("dbname", "")])
    );
    assert_eq!(pairs("  "), p(&[]));
    assert_eq!(pairs("password=a=b"), p(&[("password", "a=b")]));
}

#[test]
fn key_value_errors_name_the_keyword() {
    assert_eq!(
        error("host=h colour=blue"),
        "invalid connection option \"colour\" (libpq does not know it either)"
    );
    assert!(error("mydb").contains("missing \"=\" after a word that is no connection option"));
    assert!(error("hots").contains("missing \"=\" after \"hots\""));
    assert_eq!(
        error("hots=x"),
        "invalid connection option \"hots\" (did you mean \"host\"?)"
    );
    assert!(error("host").contains("missing \"=\" after \"host\""));
    assert!(error("host='unterminated").contains("unterminated quoted string"));
    assert!(error("service=prod").contains("service files"));
}

#[test]
fn key_value_errors_never_show_a_password() {
    for input in [
        "password=two SECRET words",
        "password='SECRET",
        "user=ann password=SECRET dbname",
        "password=pw SECRET=x",
    ] {
        let message = error(input);
        assert!(!message.contains("SECRET"), "{input} -> {message}");
    }
}

#[test]
fn other_url_forms_are_named_and_never_echoed() {
    for (input, expected) in [
        (
            "postgresql+psycopg2://u:SECRET@h/db",
            "unsupported URL scheme \"postgresql+psycopg2\"",
        ),
        (
            "postgis://u:SECRET@h/db",
            "unsupported URL scheme \"postgis\"",
        ),
        ("mysql://u:SECRET@h/db", "unsupported URL scheme \"mysql\""),
        ("POSTGRES://u:SECRET@h/db", "must be written in lower case"),
        ("jdbc:postgresql://h/db?password=SECRET", "JDBC URL"),
        (
            "postgres//u:SECRET@h/db",
            "check the \"://\" after the scheme",
        ),
        (
            "postgres:/u:SECRET@h/db",
            "check the \"://\" after the scheme",
        ),
        (
            "u:SECRET@h/db",
            "neither a postgres:// or postgresql:// URL",
        ),
        (
            "  postgres://u:SECRET@h/db",
            "blanks before its postgres:// scheme",
        ),
        ("host=h SECRET", "after a word that is no connection option"),
        (
            "host=h user=u SECRET-pw=1",
            "invalid connection option (not shown",
        ),
        ("postgres://u:SECRET/db", "invalid port (not shown"),
        (
            "postgres://h/db?password:SECRET",
            "missing \"=\" in the URL query parameter (not",
        ),
        ("postgres://[SECRET/db", "missing \"]\""),
        ("sslmode=SECRET", "invalid value (not shown"),
        ("connect_timeout=SECRET", "invalid integer value (not shown"),
        ("hostaddr=SECRET", "invalid value (not shown"),
        ("client_encoding=SECRET-1x", "client_encoding=(not shown"),
    ] {
        let message = match crate::conninfo::ConnInfo::parse(input) {
            Ok(_) => panic!("{input} parsed"),
            Err(err) => format!("{err:#}"),
        };
        assert!(!message.contains("SECRET"), "{input} -> {message}");
        assert!(message.contains(expected), "{input} -> {message}");
    }
}

#[test]
fn no_combination_of_malformed_parts_echoes_a_password() {
    let schemes = [
        "postgres://",
        "postgresql://",
        "postgres:/",
        "postgres//",
        "postgres:",
        "mysql://",
        "jdbc:postgresql://",
        "",
        " postgres://",
    ];
    let users = [
        "u:SECRET@",
        ":SECRET@",
        "u:SEC@RET@",
        "u:SECRET",
        "u:SEC/RET@",
        "",
    ];
    let hosts = [
        "h",
        "h:SECRET",
        "[SECRET",
        "[::1]SECRET",
        "h,h2:SECRET",
        "h:5432",
        "",
    ];
    let rests = [
        "/db",
        "",
        "/db?sslmode=SECRET",
        "/db?SECRET",
        "/db?SECRET=1",
        "/db?password=SECRET&port=x",
        "/db?connect_timeout=SECRET",
        "/db?hostaddr=SECRET",
        "/d%zzSECRET",
        "/db?application_name=a=SECRET",
    ];
    let mut checked = 0;
    for scheme in schemes {
        for user in users {
            for host in hosts {
                for rest in rests {
                    let input = format!("{scheme}{user}{host}{rest}");
                    if let Err(err) = crate::conninfo::ConnInfo::parse(&input) {
                        let message = format!("{err:#}");
                        assert!(!message.contains("SEC"), "{input} -> {message}");
                        checked += 1;
                    }
                }
            }
        }
    }
    for words in [
        "host=h SECRET",
        "host=h password=SECRET more words",
        "host=h password SECRET",
        "SECRET host=h",
        "host=h SECRET=x",
        "host=h port=SECRET",
        "host=h sslmode=SECRET",
        "host=h target_session_attrs=SECRET",
        "host=h keepalives=SECRET",
        "host=h client_encoding=SECRET",
        "host=h gssencmode=SECRET",
        "host=h channel_binding=SECRET",
        "host=h tcp_user_timeout=SECRET",
        "host=h,h2 port=1,SECRET",
        "host=h password='SECRET",
        "host=h hostaddr=SECRET",
    ] {
        let message = format!(
            "{:#}",
            crate::conninfo::ConnInfo::parse(words).expect_err(words)
        );
        assert!(!message.contains("SECRET"), "{words} -> {message}");
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

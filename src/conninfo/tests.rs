//! `ConnInfo` as a whole: validation, the environment, the password file, masking.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;

fn env(vars: &[(&str, &str)]) -> Environment {
    Environment::from_vars(vars.iter().copied())
        .with_os_user("osuser")
        .with_socket_dir("/run/pg")
}

#[test]
fn parse_reads_only_the_string() {
    let info = ConnInfo::parse("host=/tmp/s port=5432 user=postgres dbname=x").unwrap();
    assert_eq!(info.get("host"), Some("/tmp/s"));
    assert_eq!(info.get("sslmode"), None);
    assert_eq!(info.sslmode(), "prefer");
    assert_eq!(info.describe(), "x on /tmp/s/.s.PGSQL.5432 as postgres");
    assert_eq!(
        info.masked(),
        "host=/tmp/s port=5432 user=postgres dbname=x"
    );
}

#[test]
fn values_are_validated_with_the_keyword_named() {
    for (input, expected) in [
        ("sslmode=sometimes", "\"sslmode\""),
        ("port=abc", "\"port\""),
        ("port=5432,x", "\"port\""),
        ("port=5432,99999", "\"99999\""),
        ("sslmode=requir", "\"requir\""),
        ("hostaddr=db.example", "\"hostaddr\""),
        ("connect_timeout=soon", "\"connect_timeout\""),
        ("target_session_attrs=fast", "\"target_session_attrs\""),
        ("keepalives=2", "\"keepalives\""),
        ("gssencmode=require", "GSSAPI"),
        ("client_encoding=LATIN1", "UTF8"),
        ("host=a,b port=1,2,3", "3 port numbers to 2 hosts"),
    ] {
        let err = format!("{:#}", ConnInfo::parse(input).unwrap_err());
        assert!(err.contains(expected), "{input}: {err}");
    }
    for ok in [
        "keepalives=0 keepalives_idle=30 keepalives_interval=5 keepalives_count=3",
        "target_session_attrs=read-write application_name=x options='-c x=y'",
        "hostaddr=127.0.0.1,::1 host=a,b tcp_user_timeout=1000 channel_binding=require",
        "sslmode=verify-ca sslrootcert=/x sslcert=/y sslkey=/z sslsni=0 gssencmode=disable",
    ] {
        ConnInfo::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e:#}"));
    }
}

#[test]
fn sslrootcert_system_means_verify_full_and_refuses_weaker_modes() {
    let info = ConnInfo::parse("host=h sslrootcert=system").unwrap();
    assert_eq!(info.sslmode(), "verify-full");
    let err = ConnInfo::parse("host=h sslrootcert=system sslmode=require").unwrap_err();
    assert!(err.to_string().contains("verify-full"), "{err}");
}

#[test]
fn parse_with_fills_from_the_environment_and_defaults() {
    let info = ConnInfo::parse_with(
        "postgres://db.example/app",
        &env(&[
            ("PGUSER", "ann"),
            ("PGSSLMODE", "require"),
            ("PGHOST", "no"),
        ]),
    )
    .unwrap();
    assert_eq!(info.get("host"), Some("db.example"));
    assert_eq!(info.get("user"), Some("ann"));
    assert_eq!(info.sslmode(), "require");
    assert_eq!(info.describe(), "app on db.example:5432 as ann");
    assert_eq!(
        info.masked(),
        "postgres://ann@db.example:5432/app?sslmode=require"
    );
    let info = ConnInfo::parse_with("", &env(&[])).unwrap();
    assert_eq!(info.describe(), "osuser on /run/pg/.s.PGSQL.5432 as osuser");
}

#[test]
fn masked_hides_the_password_in_both_forms_and_from_the_environment() {
    let info =
        ConnInfo::parse("postgres://ann:s3cret@db.example:5432/app?sslmode=require").unwrap();
    assert_eq!(
        info.masked(),
        "postgres://ann:***@db.example:5432/app?sslmode=require"
    );
    let info = ConnInfo::parse("host=/tmp user=ann password=s3cret dbname=app").unwrap();
    assert_eq!(info.masked(), "host=/tmp user=ann password=*** dbname=app");
    let info = ConnInfo::parse("postgres:///app?password=s3cret&host=/tmp").unwrap();
    assert_eq!(info.masked(), "postgres://:***@/app?host=/tmp");
    let info = ConnInfo::parse_with("host=h", &env(&[("PGPASSWORD", "s3cret")])).unwrap();
    assert!(!info.masked().contains("s3cret"), "{}", info.masked());
    assert!(!format!("{info:?}").contains("s3cret"));
    assert!(!info.describe().contains("s3cret"));
}

#[test]
fn masked_output_parses_back_to_the_same_target() {
    for input in [
        "postgresql://a%40b:pw@[::1]:5433,h2:5434/d%2Fb?application_name=x%26y",
        "postgres://h1,h2:6000/db?options=-c%20a%3Db",
        "user='a b' password='p w' host=/tmp/x options='-c a=\\'b\\''",
    ] {
        let info = ConnInfo::parse(input).unwrap();
        let again = ConnInfo::parse(info.masked()).unwrap();
        for key in [
            "host",
            "port",
            "user",
            "dbname",
            "options",
            "application_name",
        ] {
            assert_eq!(info.get(key), again.get(key), "{key} of {input}");
        }
        assert_eq!(again.get("password"), info.get("password").map(|_| "***"));
    }
}

#[test]
fn mask_password_never_echoes_what_does_not_parse() {
    assert_eq!(
        mask_password("postgres://ann@db/app"),
        "postgres://ann@db/app"
    );
    let masked = mask_password("host=h password='unterminated s3cret");
    assert!(!masked.contains("s3cret"), "{masked}");
}

#[test]
fn password_file_fills_a_missing_password_per_host() {
    let dir = std::env::temp_dir().join(format!("pgstrata-conninfo-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pgpass");
    fs::write(
        &file,
        "h1:5432:app:ann:one\nh2:*:*:ann:two\nlocalhost:5432:*:*:local\n",
    )
    .unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let e = env(&[("PGPASSFILE", file.to_str().unwrap())]);
    let info = ConnInfo::parse_with("postgres://ann@h1,h2,h3/app", &e).unwrap();
    assert_eq!(info.password_for(0), Some("one"));
    assert_eq!(info.password_for(1), Some("two"));
    assert_eq!(info.password_for(2), None);
    // The default socket directory is "localhost" in the file; another directory is not.
    let info = ConnInfo::parse_with("dbname=x", &e).unwrap();
    assert_eq!(info.password_for(0), Some("local"));
    let info = ConnInfo::parse_with("host=/elsewhere dbname=x", &e).unwrap();
    assert_eq!(info.password_for(0), None);
    // A password given anywhere else wins, and the file is not consulted.
    let info = ConnInfo::parse_with("host=h1 dbname=app user=ann password=given", &e).unwrap();
    assert_eq!(info.password_for(0), Some("given"));
    let info = ConnInfo::parse_with("host=h1 dbname=app user=ann password=''", &e).unwrap();
    assert_eq!(
        info.password_for(0),
        Some("one"),
        "an empty password counts as none"
    );
    // passfile= in the string names the file too.
    let input = format!("host=h2 user=ann passfile={}", file.display());
    let info = ConnInfo::parse_with(&input, &env(&[])).unwrap();
    assert_eq!(info.password_for(0), Some("two"));
    // A file others can read is ignored, with a note.
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let info = ConnInfo::parse_with("postgres://ann@h1/app", &e).unwrap();
    assert_eq!(info.password_for(0), None);
    assert!(
        info.notes()[0].contains("group or world access"),
        "{:?}",
        info.notes()
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn home_supplies_the_default_password_file() {
    let home = std::env::temp_dir().join(format!("pgstrata-home-{}", std::process::id()));
    fs::create_dir_all(&home).unwrap();
    let file = home.join(".pgpass");
    fs::write(&file, "*:*:*:*:from-home\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let info = ConnInfo::parse_with("host=h", &env(&[]).with_home(&home)).unwrap();
    assert_eq!(info.password_for(0), Some("from-home"));
    // parse() never reads it.
    let info = ConnInfo::parse("host=h").unwrap();
    assert_eq!(info.password_for(0), None);
    let _ = fs::remove_dir_all(&home);
}

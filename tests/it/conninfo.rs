//! Connecting as libpq does, against a real server: each sslmode against a TLS-enabled
//! scratch server with its own CA, passwords from the password file, and no password in any
//! error. One TLS server serves this module (the shared harness server has no TCP listener,
//! and PostgreSQL never uses TLS on a Unix socket).

mod certs;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pgstrata::conninfo::{ConnInfo, Environment, ssl_is_used};
use pgstrata::scratch::{ScratchServer, free_tcp_port};
use postgres::Client;

use certs::Authority;

const PASSWORD: &str = "Tr0ub4dor&3-never-printed";

/// Roles and the pg_hba.conf lines put before initdb's `trust` lines (first match wins).
const HBA: &str = "\
host      all pwuser     127.0.0.1/32 scram-sha-256
local     all pwuser     scram-sha-256
hostnossl all ssl_only   127.0.0.1/32 reject
hostssl   all plain_only 127.0.0.1/32 reject
hostssl   all cert_user  127.0.0.1/32 cert
";

struct TlsServer {
    server: ScratchServer,
    port: u16,
    /// Client-side files: ca.crt, other-ca.crt, client certificate and key, pgpass.
    files: PathBuf,
}

fn tls() -> &'static TlsServer {
    static TLS: OnceLock<TlsServer> = OnceLock::new();
    TLS.get_or_init(start_tls_server)
}

fn start_tls_server() -> TlsServer {
    let port = free_tcp_port().unwrap();
    let server = ScratchServer::start_with(&[
        ("listen_addresses", "127.0.0.1"),
        ("port", &port.to_string()),
    ])
    .expect("starting the TLS scratch server");
    let data = server.dir().join("data");
    let owner = fs::metadata(&data).unwrap();
    let own = |path: &Path, text: &str, mode: u32| {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
    };
    let ca = Authority::new("pgstrata test CA");
    let server_pem = ca.issue(&["localhost"], &["127.0.0.1"]);
    own(&data.join("server.crt"), &server_pem.cert, 0o644);
    own(&data.join("server.key"), &server_pem.key, 0o600);
    own(&data.join("root.crt"), &ca.cert_pem(), 0o644);
    let hba = data.join("pg_hba.conf");
    let initdb_lines = fs::read_to_string(&hba).unwrap();
    own(&hba, &format!("{HBA}{initdb_lines}"), 0o600);

    // The server's directory is deleted at exit, so client files live there too.
    let files = server.dir().join("client");
    fs::create_dir(&files).unwrap();
    fs::write(files.join("ca.crt"), ca.cert_pem()).unwrap();
    fs::write(
        files.join("other-ca.crt"),
        Authority::new("other CA").cert_pem(),
    )
    .unwrap();
    let client_pem = ca.issue(&["cert_user"], &[]);
    fs::write(files.join("client.crt"), &client_pem.cert).unwrap();
    fs::write(files.join("client.key"), &client_pem.key).unwrap();
    fs::set_permissions(files.join("client.key"), fs::Permissions::from_mode(0o600)).unwrap();

    let mut admin = server.connect("postgres").unwrap();
    for sql in [
        "ALTER SYSTEM SET ssl = on",
        "ALTER SYSTEM SET ssl_ca_file = 'root.crt'",
        &format!("CREATE ROLE pwuser LOGIN PASSWORD '{PASSWORD}'"),
        "CREATE ROLE ssl_only LOGIN",
        "CREATE ROLE plain_only LOGIN",
        "CREATE ROLE cert_user LOGIN",
        "SELECT pg_reload_conf()",
    ] {
        admin
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let tls = TlsServer {
        server,
        port,
        files,
    };
    wait_for_tls(&tls);
    tls
}

/// The reload is asynchronous: wait until a new connection gets TLS.
fn wait_for_tls(tls: &TlsServer) {
    let started = Instant::now();
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres sslmode=require",
        tls.port
    );
    loop {
        match connect(&conninfo) {
            Ok(_) => return,
            Err(err) if started.elapsed() > Duration::from_secs(20) => {
                panic!("TLS never came up: {err:#}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// A key=value string for the TLS server over TCP, plus `extra`.
fn tcp(extra: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres {extra}",
        tls().port
    )
}

fn file(name: &str) -> String {
    tls().files.join(name).display().to_string()
}

fn connect(conninfo: &str) -> anyhow::Result<Client> {
    ConnInfo::parse(conninfo)?.connect()
}

fn uses_tls(conninfo: &str) -> bool {
    let mut client = connect(conninfo).unwrap_or_else(|e| panic!("{conninfo}: {e:#}"));
    ssl_is_used(&mut client).unwrap()
}

fn error(conninfo: &str) -> String {
    match connect(conninfo) {
        Ok(_) => panic!("{conninfo}: connected, but should have failed"),
        Err(err) => format!("{err:#}"),
    }
}

#[test]
fn sslmode_disable_connects_in_plaintext() {
    assert!(!uses_tls(&tcp("sslmode=disable")));
}

#[test]
fn sslmode_prefer_is_the_default_and_uses_tls_when_offered() {
    assert!(uses_tls(&tcp("")));
    assert!(uses_tls(&tcp("sslmode=prefer")));
    // libpq never uses TLS on a Unix socket, whatever the mode.
    let socket = tls().server.conninfo("postgres");
    assert!(!uses_tls(&format!("{socket} sslmode=require")));
}

#[test]
fn sslmode_prefer_falls_back_to_plaintext_when_the_server_refuses_tls() {
    // pg_hba.conf rejects plain_only over TLS (a hostssl ... reject line).
    assert!(!uses_tls(&tcp("user=plain_only sslmode=prefer")));
    let message = error(&tcp("user=plain_only sslmode=require"));
    assert!(message.contains("pg_hba.conf"), "{message}");
}

#[test]
fn sslmode_allow_tries_plaintext_then_tls() {
    assert!(!uses_tls(&tcp("sslmode=allow")));
    // pg_hba.conf rejects ssl_only without TLS (a hostnossl ... reject line).
    assert!(uses_tls(&tcp("user=ssl_only sslmode=allow")));
    assert!(error(&tcp("user=ssl_only sslmode=disable")).contains("pg_hba.conf"));
}

#[test]
fn sslmode_require_encrypts_without_a_root_certificate() {
    assert!(uses_tls(&tcp("sslmode=require")));
}

#[test]
fn sslmode_require_with_a_root_certificate_checks_the_chain_as_libpq_does() {
    assert!(uses_tls(&tcp(&format!(
        "sslmode=require sslrootcert={}",
        file("ca.crt")
    ))));
    let message = error(&tcp(&format!(
        "sslmode=require sslrootcert={}",
        file("other-ca.crt")
    )));
    assert!(
        message.contains("not signed by a CA in the root certificate file"),
        "{message}"
    );
    assert!(message.contains("sslmode=require"), "{message}");
}

#[test]
fn sslmode_verify_ca_checks_the_chain_but_not_the_host_name() {
    let wrong_name = "host=wrong.example hostaddr=127.0.0.1";
    let conninfo = format!(
        "{wrong_name} port={} user=postgres sslmode=verify-ca sslrootcert={}",
        tls().port,
        file("ca.crt")
    );
    assert!(uses_tls(&conninfo));
    let message = error(&tcp(&format!(
        "sslmode=verify-ca sslrootcert={}",
        file("other-ca.crt")
    )));
    assert!(message.contains("not signed by a CA"), "{message}");
    assert!(message.contains("sslmode=verify-ca"), "{message}");
}

#[test]
fn sslmode_verify_full_checks_the_host_name() {
    let ca = file("ca.crt");
    let port = tls().port;
    let url = format!(
        "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
    );
    assert!(uses_tls(&url));
    // The certificate lists 127.0.0.1 as an IP address too.
    assert!(uses_tls(&tcp(&format!(
        "sslmode=verify-full sslrootcert={ca}"
    ))));
    let wrong = format!(
        "host=wrong.example hostaddr=127.0.0.1 port={port} user=postgres sslmode=verify-full \
         sslrootcert={ca}"
    );
    let message = error(&wrong);
    assert!(
        message.contains("not valid for host name \"wrong.example\""),
        "{message}"
    );
    assert!(
        message.contains("sslmode=verify-ca"),
        "says what else to do: {message}"
    );
    assert!(
        message.contains("postgres on wrong.example (127.0.0.1)"),
        "names the target: {message}"
    );
}

#[test]
fn verify_modes_without_a_root_certificate_say_what_to_do() {
    let message = error(&tcp("sslmode=verify-full"));
    assert!(message.contains("sslrootcert"), "{message}");
    let message = error(&tcp("sslmode=verify-ca sslrootcert=/nonexistent/root.crt"));
    assert!(
        message.contains("/nonexistent/root.crt does not exist"),
        "{message}"
    );
}

#[test]
fn client_certificate_authenticates_and_its_key_must_be_private() {
    let with_cert = format!(
        "user=cert_user sslmode=require sslcert={} sslkey={}",
        file("client.crt"),
        file("client.key")
    );
    assert!(uses_tls(&tcp(&with_cert)));
    let message = error(&tcp("user=cert_user sslmode=require"));
    assert!(message.contains("certificate"), "{message}");
    let open_key = tls().files.join("open.key");
    fs::copy(tls().files.join("client.key"), &open_key).unwrap();
    fs::set_permissions(&open_key, fs::Permissions::from_mode(0o644)).unwrap();
    let message = error(&tcp(&format!(
        "user=cert_user sslmode=require sslcert={} sslkey={}",
        file("client.crt"),
        open_key.display()
    )));
    assert!(message.contains("group or world access"), "{message}");
}

fn passfile_env(lines: &str) -> Environment {
    let path = tls().files.join(format!("pgpass-{}", lines.len()));
    fs::write(&path, lines).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    Environment::from_vars([("PGPASSFILE", path.display().to_string())]).with_os_user("nobody")
}

#[test]
fn password_comes_from_the_password_file_over_tcp_and_socket() {
    let port = tls().port;
    let socket = tls().server.dir().display().to_string();
    let env = passfile_env(&format!(
        "127.0.0.1:{port}:*:pwuser:{PASSWORD}\n{socket}:{port}:postgres:pwuser:{PASSWORD}\n"
    ));
    let tcp_info = ConnInfo::parse_with(&tcp("user=pwuser"), &env).unwrap();
    assert!(!tcp_info.masked().contains(PASSWORD));
    tcp_info.connect().expect("password from the file over TCP");
    let socket_info = ConnInfo::parse_with(
        &format!("host={socket} port={port} user=pwuser dbname=postgres"),
        &env,
    )
    .unwrap();
    socket_info
        .connect()
        .expect("password from the file over the socket");
}

#[test]
fn a_wrong_password_is_never_printed() {
    let wrong = "Wr0ng-Secret-Value";
    let port = tls().port;
    for conninfo in [
        tcp(&format!("user=pwuser password={wrong}")),
        format!("postgres://pwuser:{wrong}@127.0.0.1:{port}/postgres?sslmode=require"),
        format!("postgres://pwuser:{wrong}@127.0.0.1:{port},127.0.0.1:1/postgres"),
    ] {
        let err = connect(&conninfo).err().expect("a wrong password fails");
        for text in [format!("{err:#}"), format!("{err:?}"), err.to_string()] {
            assert!(!text.contains(wrong), "password printed: {text}");
        }
        let message = format!("{err:#}");
        assert!(
            message.contains("password authentication failed"),
            "{message}"
        );
        assert!(message.contains("as pwuser"), "{message}");
    }
}

#[test]
fn a_missing_password_says_where_to_put_it() {
    let message = error(&tcp("user=pwuser sslmode=disable"));
    assert!(message.contains("~/.pgpass"), "{message}");
}

#[test]
fn hosts_are_tried_in_turn_and_every_failure_is_reported() {
    let closed = free_tcp_port().unwrap();
    let port = tls().port;
    let both = format!("host=127.0.0.1,127.0.0.1 port={closed},{port} user=postgres");
    assert!(connect(&both).is_ok());
    let none = format!("host=127.0.0.1,127.0.0.1 port={closed},{closed} user=postgres");
    let message = error(&none);
    assert!(
        message.contains("no host accepted the connection"),
        "{message}"
    );
    assert_eq!(
        message.matches(&format!("127.0.0.1:{closed}:")).count(),
        2,
        "{message}"
    );
}

#[test]
fn target_session_attrs_are_checked_on_the_server() {
    assert!(connect(&tcp("target_session_attrs=read-write")).is_ok());
    assert!(connect(&tcp("target_session_attrs=primary")).is_ok());
    assert!(connect(&tcp("target_session_attrs=prefer-standby")).is_ok());
    let message = error(&tcp("target_session_attrs=standby"));
    assert!(message.contains("not a standby"), "{message}");
}

#[test]
fn a_server_without_tls_is_used_in_plaintext_by_prefer_and_refused_by_require() {
    let port = free_tcp_port().unwrap();
    let server = ScratchServer::start_with(&[
        ("listen_addresses", "127.0.0.1"),
        ("port", &port.to_string()),
    ])
    .expect("starting a TCP scratch server");
    assert_eq!(server.port(), port);
    assert!(server.dir().join(format!(".s.PGSQL.{port}")).exists());
    let conninfo = |mode: &str| format!("host=127.0.0.1 port={port} user=postgres sslmode={mode}");
    assert!(!uses_tls(&conninfo("prefer")));
    assert!(!uses_tls(&conninfo("allow")));
    let message = error(&conninfo("require"));
    assert!(message.contains("does not accept TLS"), "{message}");
    assert!(
        message.contains("sslmode=prefer"),
        "says what else to do: {message}"
    );
}

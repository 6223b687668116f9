//! TLS for `sslmode`: which certificates to trust and send, how strictly to check the
//! server's certificate, and what to tell the user when the handshake fails.
//!
//! It builds OpenSSL connectors (through postgres-openssl) and explains failures; it does not
//! decide when to fall back to plaintext (that is `connect`'s job) and reads no environment:
//! the home directory comes from the `ConnInfo`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use openssl::ssl::{SslConnector, SslConnectorBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use postgres_openssl::MakeTlsConnector;

use super::ConnInfo;

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Encrypt only (libpq's allow, prefer, and require without a root certificate).
    Nothing,
    /// The chain up to a trusted root, not the host name (verify-ca; require with a root).
    Chain,
    /// Chain and host name (verify-full).
    Full,
}

/// Where trusted roots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Roots {
    File(PathBuf),
    System,
}

/// Everything a TLS attempt needs, resolved from the parameters and the home directory.
#[derive(Clone, Debug)]
pub(crate) struct TlsPlan {
    pub verify: Verify,
    pub roots: Option<Roots>,
    pub client: Option<(PathBuf, PathBuf)>,
    pub sni: bool,
}

/// The first certificate problem OpenSSL reported during a handshake: code and text.
pub(crate) type Failure = Arc<Mutex<Option<(i32, String)>>>;

/// Resolves `sslmode`, `sslrootcert`, `sslcert` and `sslkey` as libpq does.
pub(crate) fn plan(info: &ConnInfo, mode: &str) -> Result<TlsPlan> {
    let in_home = |name: &str| info.home().map(|h| h.join(".postgresql").join(name));
    // allow and prefer never check the certificate, so no root is needed or loaded.
    let checks = !matches!(mode, "allow" | "prefer");
    let roots = match info.get("sslrootcert").filter(|s| !s.is_empty() && checks) {
        Some("system") => Some(Roots::System),
        Some(path) => Some(Roots::File(PathBuf::from(path))),
        None if checks => in_home("root.crt").filter(|p| p.is_file()).map(Roots::File),
        None => None,
    };
    if let Some(Roots::File(path)) = &roots {
        // Stricter than libpq, which then skips the check under require: a root named but
        // missing is almost always a typo, and skipping would hide it.
        if !path.is_file() {
            bail!(
                "root certificate file {} does not exist; give the CA certificate that signed \
                 the server's certificate, use sslrootcert=system for the system's trusted \
                 roots, or use sslmode=require to encrypt without checking",
                path.display()
            );
        }
    }
    let verify = match (mode, &roots) {
        ("verify-full", Some(_)) => Verify::Full,
        ("verify-ca", Some(_)) => Verify::Chain,
        ("verify-full" | "verify-ca", None) => bail!(
            "sslmode={mode} checks the server's certificate, but there is no root certificate \
             to check it against: set sslrootcert to the CA certificate file (or create \
             ~/.postgresql/root.crt), use sslrootcert=system for the system's trusted roots, \
             or use sslmode=require to encrypt without checking"
        ),
        // libpq: with a root certificate present, require checks the chain like verify-ca.
        ("require", Some(_)) => Verify::Chain,
        _ => Verify::Nothing,
    };
    Ok(TlsPlan {
        verify,
        roots,
        client: client_certificate(info)?,
        sni: info.get("sslsni") != Some("0"),
    })
}

/// `sslcert`/`sslkey`, else `~/.postgresql/postgresql.crt`/`.key` when the certificate exists.
fn client_certificate(info: &ConnInfo) -> Result<Option<(PathBuf, PathBuf)>> {
    let in_home = |name: &str| info.home().map(|h| h.join(".postgresql").join(name));
    let cert = match info.get("sslcert").filter(|s| !s.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                bail!(
                    "client certificate file {} (sslcert) does not exist",
                    path.display()
                );
            }
            path
        }
        None => match in_home("postgresql.crt").filter(|p| p.is_file()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let key = match info.get("sslkey").filter(|s| !s.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => in_home("postgresql.key").unwrap_or_else(|| cert.with_extension("key")),
    };
    check_key_permissions(&key)?;
    Ok(Some((cert, key)))
}

/// libpq refuses a private key others can read: 0600 or less, or 0640 when owned by root.
fn check_key_permissions(key: &Path) -> Result<()> {
    let meta = fs::metadata(key).with_context(|| {
        format!(
            "reading the client certificate's private key {} (sslkey)",
            key.display()
        )
    })?;
    if !meta.is_file() {
        bail!("private key {} (sslkey) is not a plain file", key.display());
    }
    let mode = meta.permissions().mode();
    let too_open = if meta.uid() == 0 {
        mode & 0o037 != 0
    } else {
        mode & 0o077 != 0
    };
    if too_open {
        bail!(
            "private key file {} has group or world access; it must have permissions u=rw \
             (0600) or less if owned by you, or u=rw,g=r (0640) or less if owned by root: \
             chmod 0600 {}",
            key.display(),
            key.display()
        );
    }
    Ok(())
}

/// An OpenSSL connector for `plan`, and the slot where it records a certificate failure.
pub(crate) fn connector(plan: &TlsPlan) -> Result<(MakeTlsConnector, Failure)> {
    let mut builder = SslConnector::builder(SslMethod::tls()).context("setting up OpenSSL")?;
    load_files(&mut builder, plan)?;
    if plan.verify == Verify::Nothing {
        builder.set_verify(SslVerifyMode::NONE);
    }
    let failure: Failure = Arc::default();
    let mut connector = MakeTlsConnector::new(builder.build());
    let (verify, sni, slot) = (plan.verify, plan.sni, failure.clone());
    connector.set_callback(move |config, _domain| {
        config.set_use_server_name_indication(sni);
        config.set_verify_hostname(verify == Verify::Full);
        if verify != Verify::Nothing {
            let slot = slot.clone();
            config.set_verify_callback(SslVerifyMode::PEER, move |ok, store| {
                if !ok {
                    let err = store.error();
                    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert((err.as_raw(), err.error_string().to_string()));
                }
                ok
            });
        }
        Ok(())
    });
    Ok((connector, failure))
}

/// Loads the trusted roots and the client certificate and key.
fn load_files(builder: &mut SslConnectorBuilder, plan: &TlsPlan) -> Result<()> {
    match &plan.roots {
        // Trust only the given file, not the system's roots the builder starts with.
        Some(Roots::File(path)) => {
            builder.set_cert_store(X509StoreBuilder::new()?.build());
            builder.set_ca_file(path).with_context(|| {
                format!(
                    "loading the root certificate file {} (sslrootcert)",
                    path.display()
                )
            })?;
        }
        Some(Roots::System) | None => {}
    }
    if let Some((cert, key)) = &plan.client {
        builder
            .set_certificate_chain_file(cert)
            .with_context(|| format!("loading the client certificate {}", cert.display()))?;
        builder
            .set_private_key_file(key, SslFiletype::PEM)
            .with_context(|| format!("loading the private key {}", key.display()))?;
        builder.check_private_key().with_context(|| {
            format!(
                "the private key {} does not match {}",
                key.display(),
                cert.display()
            )
        })?;
    }
    Ok(())
}

// OpenSSL's X509_V_ERR_* codes that have their own advice.
const CERT_HAS_EXPIRED: i32 = 10;
const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const HOSTNAME_MISMATCH: i32 = 62;
const IP_ADDRESS_MISMATCH: i32 = 64;

/// What went wrong in a failed TLS attempt and what to do about it, or `None` when the
/// failure was not about TLS.
pub(crate) fn explain(
    err: &postgres::Error,
    failure: &Failure,
    mode: &str,
    host: &str,
    roots: Option<&Roots>,
) -> Option<String> {
    let recorded = failure.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let trusted = match roots {
        Some(Roots::File(path)) => format!("the root certificate file {}", path.display()),
        Some(Roots::System) => "the system's trusted roots".to_string(),
        None => "the trusted roots".to_string(),
    };
    if let Some((code, text)) = recorded {
        return Some(match code {
            HOSTNAME_MISMATCH | IP_ADDRESS_MISMATCH => format!(
                "the server's certificate is not valid for host name \"{host}\" \
                 (sslmode={mode} checks the name); connect using a name the certificate \
                 lists, or use sslmode=verify-ca to check only who signed it"
            ),
            CERT_HAS_EXPIRED => format!(
                "the server's certificate has expired (sslmode={mode}); renew it on the server"
            ),
            DEPTH_ZERO_SELF_SIGNED_CERT
            | SELF_SIGNED_CERT_IN_CHAIN
            | UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | UNABLE_TO_VERIFY_LEAF_SIGNATURE => format!(
                "the server's certificate is not signed by a CA in {trusted} \
                 (sslmode={mode} checks the chain; OpenSSL says: {text}); set sslrootcert to \
                 the CA that signed it, or {}",
                if mode == "require" {
                    "remove sslrootcert (and ~/.postgresql/root.crt) to encrypt without \
                     checking: libpq's require checks the chain whenever a root certificate \
                     is present"
                } else {
                    "use sslmode=require to encrypt without checking"
                }
            ),
            _ => format!(
                "the server's certificate could not be verified (sslmode={mode}; OpenSSL \
                 says: {text})"
            ),
        });
    }
    if full_text(err).contains("server does not support TLS") {
        return Some(format!(
            "the server does not accept TLS connections, and sslmode={mode} requires one; \
             enable ssl on the server, or use sslmode=prefer (or disable) to connect without \
             encryption"
        ));
    }
    is_tls_failure(err).then(|| {
        format!(
            "the TLS handshake failed (sslmode={mode}): {}",
            full_text(err)
        )
    })
}

/// An error and its sources as one line, each part once (the driver keeps details in
/// sources, and OpenSSL's repeat each other).
pub(crate) fn full_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        for part in e.to_string().split(": ") {
            let part = part.trim_matches(':').trim();
            if !part.is_empty() && !parts.iter().any(|p| p == part) {
                parts.push(part.to_string());
            }
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Whether an error came from OpenSSL during the handshake.
pub(crate) fn is_tls_failure(err: &postgres::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<openssl::ssl::Error>() || e.is::<openssl::error::ErrorStack>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conninfo::Environment;

    fn plan_for(conninfo: &str, home: Option<&Path>) -> Result<TlsPlan> {
        let mut env = Environment::from_vars::<&str, &str>([]).with_os_user("u");
        if let Some(home) = home {
            env = env.with_home(home);
        }
        let info = ConnInfo::parse_with(conninfo, &env)?;
        plan(&info, info.sslmode())
    }

    fn temp_home(tag: &str, with_root: bool) -> PathBuf {
        let home =
            std::env::temp_dir().join(format!("pgstrata-tls-home-{}-{tag}", std::process::id()));
        fs::create_dir_all(home.join(".postgresql")).unwrap();
        if with_root {
            fs::write(home.join(".postgresql/root.crt"), "not parsed here").unwrap();
        }
        home
    }

    #[test]
    fn each_sslmode_checks_what_libpq_checks() {
        let home = temp_home("modes", true);
        let root = home.join(".postgresql/root.crt");
        let given = format!("host=h sslrootcert={}", root.display());
        for (mode, verify) in [
            ("allow", Verify::Nothing),
            ("prefer", Verify::Nothing),
            ("require", Verify::Chain),
            ("verify-ca", Verify::Chain),
            ("verify-full", Verify::Full),
        ] {
            let plan = plan_for(&format!("{given} sslmode={mode}"), None).unwrap();
            assert_eq!(plan.verify, verify, "{mode}");
            let loaded = verify != Verify::Nothing;
            assert_eq!(
                plan.roots.is_some(),
                loaded,
                "{mode} loads a root only to check"
            );
        }
        // prefer does not check, so a missing root file does not stop it.
        plan_for("host=h sslmode=prefer sslrootcert=/no/such.crt", None).unwrap();
        // Without a root certificate, require only encrypts and the verify modes refuse.
        let plan = plan_for("host=h sslmode=require", None).unwrap();
        assert_eq!((plan.verify, plan.roots), (Verify::Nothing, None));
        let err = plan_for("host=h sslmode=verify-ca", None).unwrap_err();
        assert!(err.to_string().contains("no root certificate"), "{err}");
        let _ = fs::remove_dir_all(home);
    }

    #[test]
    fn the_home_root_certificate_is_the_default_and_system_means_the_system_store() {
        let home = temp_home("default", true);
        let plan = plan_for("host=h sslmode=require", Some(&home)).unwrap();
        assert_eq!(
            plan.verify,
            Verify::Chain,
            "libpq: require + root.crt = verify-ca"
        );
        let plan = plan_for("host=h sslrootcert=system", Some(&home)).unwrap();
        assert_eq!(
            (plan.verify, plan.roots),
            (Verify::Full, Some(Roots::System))
        );
        let empty_home = temp_home("empty", false);
        let plan = plan_for("host=h sslmode=require", Some(&empty_home)).unwrap();
        assert_eq!(plan.verify, Verify::Nothing);
        let _ = fs::remove_dir_all(home);
        let _ = fs::remove_dir_all(empty_home);
    }

    #[test]
    fn missing_files_are_named() {
        let err = plan_for("host=h sslmode=require sslrootcert=/no/such.crt", None).unwrap_err();
        assert!(
            err.to_string().contains("/no/such.crt does not exist"),
            "{err}"
        );
        let err = plan_for("host=h sslmode=require sslcert=/no/client.crt", None).unwrap_err();
        assert!(err.to_string().contains("/no/client.crt"), "{err}");
    }
}

//! Throwaway certificate authorities and server certificates for the TLS tests, made with
//! the openssl crate so the tests need no `openssl` command.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

/// A certificate and its private key, as PEM text.
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// A self-signed CA.
pub struct Authority {
    cert: X509,
    key: PKey<Private>,
}

impl Authority {
    pub fn new(name: &str) -> Authority {
        let key = new_key();
        let mut builder = builder(name, &key);
        builder
            .set_issuer_name(builder_subject(name).as_ref())
            .unwrap();
        builder
            .append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        builder
            .append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .unwrap(),
            )
            .unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        Authority {
            cert: builder.build(),
            key,
        }
    }

    pub fn cert_pem(&self) -> String {
        String::from_utf8(self.cert.to_pem().unwrap()).unwrap()
    }

    /// A server certificate for `dns` names and `ips`, signed by this CA.
    pub fn issue(&self, dns: &[&str], ips: &[&str]) -> Pem {
        let key = new_key();
        let mut builder = builder(dns.first().copied().unwrap_or("server"), &key);
        builder.set_issuer_name(self.cert.subject_name()).unwrap();
        let mut san = SubjectAlternativeName::new();
        for name in dns {
            san.dns(name);
        }
        for ip in ips {
            san.ip(ip);
        }
        let context = builder.x509v3_context(Some(&self.cert), None);
        let san = san.build(&context).unwrap();
        builder.append_extension(san).unwrap();
        builder
            .append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        builder.sign(&self.key, MessageDigest::sha256()).unwrap();
        Pem {
            cert: String::from_utf8(builder.build().to_pem().unwrap()).unwrap(),
            key: String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        }
    }
}

fn new_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn builder_subject(common_name: &str) -> openssl::x509::X509Name {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .unwrap();
    name.build()
}

fn builder(common_name: &str, key: &PKey<Private>) -> X509Builder {
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    builder
        .set_serial_number(serial.to_asn1_integer().unwrap().as_ref())
        .unwrap();
    builder
        .set_subject_name(builder_subject(common_name).as_ref())
        .unwrap();
    builder.set_pubkey(key).unwrap();
    builder
        .set_not_before(Asn1Time::days_from_now(0).unwrap().as_ref())
        .unwrap();
    builder
        .set_not_after(Asn1Time::days_from_now(2).unwrap().as_ref())
        .unwrap();
    builder
}

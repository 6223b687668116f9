//! File text normalisation and checksums: what "the same file" means to pgstrata.
//!
//! A checkout on Windows (CRLF) or an editor that writes a byte-order mark must not make an
//! applied migration look edited, so both are normalised away before hashing and before the
//! text is sent to the server.

use sha2::{Digest, Sha256};

/// The text as pgstrata sees it: a leading UTF-8 byte-order mark removed, CRLF read as LF.
pub fn normalize(text: &str) -> String {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n")
}

/// Lower-case hex sha256 of the normalised text.
pub fn sha256_hex(normalized: &str) -> String {
    hex(&Sha256::digest(normalized.as_bytes()))
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_bom_do_not_change_the_checksum() {
        let lf = "CREATE TABLE t (id int);\nSELECT 1;\n";
        let crlf = "CREATE TABLE t (id int);\r\nSELECT 1;\r\n";
        let bom = "\u{feff}CREATE TABLE t (id int);\nSELECT 1;\n";
        let sum = sha256_hex(&normalize(lf));
        assert_eq!(sum, sha256_hex(&normalize(crlf)));
        assert_eq!(sum, sha256_hex(&normalize(bom)));
        assert_ne!(sum, sha256_hex(&normalize("CREATE TABLE t (id bigint);\n")));
    }

    #[test]
    fn sha256_of_known_input() {
        // echo -n abc | sha256sum
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn lone_cr_is_kept() {
        assert_eq!(normalize("a\rb"), "a\rb");
    }
}

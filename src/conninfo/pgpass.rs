//! The password file (`PGPASSFILE`, `passfile=` or `~/.pgpass`), read as libpq reads it:
//! lines `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`,
//! the first matching line winning, and the file ignored when group or others may read it.
//!
//! It returns passwords to the caller and never puts one in an error or a note.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::target::Target;

/// What a lookup is matched against.
#[derive(Debug)]
pub(crate) struct Lookup<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub dbname: &'a str,
    pub user: &'a str,
}

/// The text of the password file, `Ok(None)` when there is none, or why it was ignored.
pub(crate) fn read(path: &Path) -> Result<Option<String>, String> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Err(format!(
            "password file {} is not a plain file, so it was ignored",
            path.display()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "password file {} has group or world access, so it was ignored (as libpq does); \
             permissions should be u=rw (0600) or less: chmod 0600 {}",
            path.display(),
            path.display()
        ));
    }
    crate::files::read_regular_text(path, crate::files::MAX_SETTINGS_BYTES)
        .map(Some)
        .map_err(|err| format!("password file {} {err}, so it was ignored", path.display()))
}

/// The host name a target is looked up under: `localhost` for the default socket directory
/// (or no host at all), else the host as given, else `hostaddr`.
pub(crate) fn lookup_host(target: &Target, default_socket_dir: &Path) -> String {
    if target.host.is_empty() {
        return match target.hostaddr {
            Some(addr) => addr.to_string(),
            None => "localhost".to_string(),
        };
    }
    if target.is_socket() && Path::new(&target.host) == default_socket_dir {
        return "localhost".to_string();
    }
    target.host.clone()
}

/// The password of the first line matching `lookup`.
pub(crate) fn find(text: &str, lookup: &Lookup) -> Option<String> {
    let wanted = [lookup.host, lookup.port, lookup.dbname, lookup.user];
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(field, want)| field.wildcard || field.text == want);
        if matches {
            return Some(fields[4].text.clone());
        }
    }
    None
}

struct Field {
    text: String,
    /// The field is exactly an unescaped `*`.
    wildcard: bool,
}

/// Splits on unescaped `:` and removes the escapes, keeping at most five fields (libpq stops
/// the password at the next unescaped `:` too).
fn split(line: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut text = String::new();
    let mut raw_star = true;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    text.push(next);
                }
                raw_star = false;
            }
            ':' => {
                fields.push(Field {
                    wildcard: raw_star && text == "*",
                    text: std::mem::take(&mut text),
                });
                raw_star = true;
                if fields.len() == 5 {
                    return fields;
                }
            }
            c => text.push(c),
        }
    }
    fields.push(Field {
        wildcard: raw_star && text == "*",
        text,
    });
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn look<'a>(host: &'a str, port: &'a str, db: &'a str, user: &'a str) -> Lookup<'a> {
        Lookup {
            host,
            port,
            dbname: db,
            user,
        }
    }

    #[test]
    fn first_matching_line_wins_and_wildcards_match_anything() {
        let text = "# comment\n\
                    db.example:5432:app:ann:first\n\
                    *:*:*:ann:second\n\
                    *:*:*:*:third\n";
        assert_eq!(
            find(text, &look("db.example", "5432", "app", "ann")).unwrap(),
            "first"
        );
        assert_eq!(
            find(text, &look("db.example", "5433", "app", "ann")).unwrap(),
            "second"
        );
        assert_eq!(
            find(text, &look("other", "1", "x", "bob")).unwrap(),
            "third"
        );
        assert_eq!(find("a:1:b:c:pw", &look("a", "1", "b", "d")), None);
    }

    #[test]
    fn escapes_allow_colons_and_backslashes_and_an_escaped_star_is_literal() {
        let text = "h:5432:d:u\\:x:pa\\:ss\\\\word\n\\*:5432:d:u:star\n";
        assert_eq!(
            find(text, &look("h", "5432", "d", "u:x")).unwrap(),
            "pa:ss\\word"
        );
        assert_eq!(find(text, &look("*", "5432", "d", "u")).unwrap(), "star");
        assert_eq!(
            find(text, &look("h", "5432", "d", "u")),
            None,
            "\\* is not a wildcard"
        );
    }

    #[test]
    fn short_lines_crlf_and_trailing_fields_are_handled_as_libpq_does() {
        let text = "h:5432:d\r\nh:5432:d:u:pw:extra\r\n";
        assert_eq!(find(text, &look("h", "5432", "d", "u")).unwrap(), "pw");
        assert_eq!(
            find("h:5432:d:u:", &look("h", "5432", "d", "u")).unwrap(),
            ""
        );
    }

    #[test]
    fn localhost_stands_for_the_default_socket_directory_only() {
        let default = Path::new("/var/run/postgresql");
        let socket = |h: &str| Target {
            host: h.to_string(),
            hostaddr: None,
            port: 5432,
        };
        assert_eq!(
            lookup_host(&socket("/var/run/postgresql"), default),
            "localhost"
        );
        assert_eq!(lookup_host(&socket("/tmp/s"), default), "/tmp/s");
        assert_eq!(lookup_host(&socket("localhost"), default), "localhost");
        assert_eq!(lookup_host(&socket(""), default), "localhost");
        let addr_only = Target {
            host: String::new(),
            hostaddr: Some("10.0.0.5".parse().unwrap()),
            port: 5432,
        };
        assert_eq!(lookup_host(&addr_only, default), "10.0.0.5");
    }

    fn temp_file(name: &str, mode: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pgstrata-pgpass-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        fs::write(&path, "*:*:*:*:secret-value\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn a_file_readable_by_others_is_ignored_with_a_reason_that_hides_the_password() {
        let path = temp_file("open", 0o644);
        let reason = read(&path).unwrap_err();
        assert!(reason.contains("group or world access"), "{reason}");
        assert!(!reason.contains("secret-value"));
        let path = temp_file("private", 0o600);
        assert!(read(&path).unwrap().unwrap().contains("secret-value"));
        assert_eq!(read(&path.with_file_name("missing")), Ok(None));
        let dir = path.parent().unwrap();
        assert!(read(dir).unwrap_err().contains("not a plain file"));
        let _ = fs::remove_dir_all(dir);
    }
}

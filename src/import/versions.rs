//! How another tool's versions become pgstrata's (positive `i64`, ordered numerically), the
//! same way for `import` (from file names) and `adopt` (from history tables).
//!
//! - Digits are kept as they are: `20190227170003`, and diesel's `2019-02-27-170003` without
//!   its dashes (diesel itself records it so).
//! - Version 0 (diesel's `00000000000000_diesel_initial_setup`) becomes 1, pgstrata's versions
//!   being positive (0 means "nothing applied" to `down --to 0`); a folder with both 0 and 1
//!   is refused.
//! - Flyway's dotted versions (`1.2.3`, or `1_2_3`): when any file of a folder has one, every
//!   version becomes major·10⁹ + minor·10⁶ + patch·10³ + fourth part, so that numeric order
//!   is flyway's order; a part above 999, more than four parts, or two files that flyway would
//!   read as one version (`1.0` and `1`) are refused.

/// A string of ASCII digits as a number (leading zeros allowed).
pub fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Version 0 becomes 1 (see the module's notes).
pub fn positive(version: i64) -> i64 {
    if version == 0 { 1 } else { version }
}

/// diesel's version of a migration folder's name: the part before the first `_`, without
/// dashes (as `diesel_migrations` records it).
pub fn diesel(folder: &str) -> Option<(String, i64)> {
    let recorded = folder.split('_').next()?.replace('-', "");
    let number = digits(&recorded)?;
    Some((recorded, number))
}

/// Flyway's version parts: `1.2.3` or `1_2_3`.
fn flyway_parts(raw: &str) -> Option<Vec<i64>> {
    raw.split(['.', '_']).map(digits).collect()
}

/// Whether a flyway version has more than one part.
pub fn flyway_dotted(raw: &str) -> bool {
    raw.contains(['.', '_'])
}

/// A flyway version as pgstrata's: as it is when `dotted` is false (no file of the folder has
/// a dotted version), else by parts (see the module's notes).
pub fn flyway(raw: &str, dotted: bool) -> Result<i64, String> {
    let parts = flyway_parts(raw)
        .ok_or_else(|| format!("`{raw}` is not a flyway version (digits, `.` or `_`)"))?;
    if !dotted {
        return Ok(parts[0]);
    }
    if parts.len() > 4 {
        return Err(format!(
            "version {raw} has more than four parts, which pgstrata cannot number in order"
        ));
    }
    if let Some(part) = parts[1..].iter().find(|p| **p > 999) {
        return Err(format!(
            "version {raw} has a part ({part}) above 999, which pgstrata cannot number in order \
             beside dotted versions"
        ));
    }
    let mut number: i64 = 0;
    for index in 0..4 {
        let part = parts.get(index).copied().unwrap_or(0);
        number = number
            .checked_mul(1000)
            .and_then(|n| n.checked_add(part))
            .ok_or_else(|| format!("version {raw} is too large to number beside dotted ones"))?;
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_versions_lose_their_dashes() {
        assert_eq!(
            diesel("2019-02-27-170003_create_community"),
            Some(("20190227170003".into(), 20190227170003))
        );
        assert_eq!(
            diesel("2026-06-03-220228-0000_add_x"),
            Some(("202606032202280000".into(), 202606032202280000))
        );
        assert_eq!(
            diesel("00000000000000_diesel_initial_setup"),
            Some(("00000000000000".into(), 0))
        );
        assert_eq!(diesel("initial_setup"), None);
        assert_eq!(positive(0), 1);
    }

    #[test]
    fn flyway_versions_keep_flyways_order() {
        assert_eq!(flyway("7", false), Ok(7));
        assert_eq!(flyway("1.2.3", true), Ok(1_002_003_000));
        assert_eq!(flyway("1_10", true), Ok(1_010_000_000));
        assert_eq!(flyway("2", true), Ok(2_000_000_000));
        assert!(flyway("1.9", true) < flyway("1.10", true));
        assert_eq!(flyway("1.0", true), flyway("1", true));
        assert!(flyway("1.1000", true).is_err());
        assert!(flyway("1.2.3.4.5", true).is_err());
        assert!(flyway("1.x", true).is_err());
        assert!(flyway("20240101120000.1", true).is_err());
    }
}

//! `new NAME`: an empty migration and rollback pair with the next version number, sequential
//! or the UTC time as `YYYYMMDDHHMMSS` (`versioning` in pgstrata.toml).

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::{OK, json, print_json};
use crate::cli::Format;
use crate::config::{Settings, Versioning};
use crate::migrate::project::{is_name, parse_versioned_name};

pub fn run(settings: &Settings, format: Format, name: &str) -> Result<u8> {
    if !is_name(name) {
        let shown = crate::secrets::quoted_if(name, !crate::secrets::may_carry_secret(name));
        bail!("{shown} is not a valid migration name; use letters, digits and _");
    }
    let (version, note) = next_version(settings)?;
    let file_name = format!("V{version}__{name}.sql");
    let migration = settings.dir.join("migrations").join(&file_name);
    let rollback = settings.dir.join("rollbacks").join(&file_name);
    for path in [&migration, &rollback] {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        fs::create_dir_all(path.parent().expect("a folder"))
            .with_context(|| format!("creating {}", path.parent().unwrap().display()))?;
    }
    fs::write(&migration, migration_template(version, name))
        .with_context(|| format!("writing {}", migration.display()))?;
    fs::write(&rollback, rollback_template(version, name))
        .with_context(|| format!("writing {}", rollback.display()))?;
    if json(format) {
        print_json(&json!({
            "command": "new",
            "ok": true,
            "version": version,
            "migration": format!("migrations/{file_name}"),
            "rollback": format!("rollbacks/{file_name}"),
            "note": note,
        }));
    } else {
        if let Some(note) = &note {
            eprintln!("note: {note}");
        }
        outln!("created migrations/{file_name}");
        outln!("created rollbacks/{file_name}");
    }
    Ok(OK)
}

/// The version a new migration takes, with a note when a timestamp had to give way (shared
/// with `sync new`).
pub(super) fn next_version(settings: &Settings) -> Result<(i64, Option<String>)> {
    let highest = highest_version(settings)?;
    Ok(match settings.versioning {
        Versioning::Sequential => (after(highest)?, None),
        Versioning::Timestamp => timestamp_version(now_utc_seconds()?, highest)?,
    })
}

/// The highest version in migrations/ or rollbacks/ (0 for a new project). Reads names only,
/// so that it works while other files are still being written.
fn highest_version(settings: &Settings) -> Result<i64> {
    let mut highest = 0;
    for folder in ["migrations", "rollbacks"] {
        let dir = settings.dir.join(folder);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if let Some((version, _)) = entry.file_name().to_str().and_then(parse_versioned_name) {
                highest = highest.max(version);
            }
        }
    }
    Ok(highest)
}

/// The version after `highest`.
fn after(highest: i64) -> Result<i64> {
    highest
        .checked_add(1)
        .context("the highest version is already the largest number pgstrata accepts")
}

/// The timestamp version for `now` (seconds since 1970 UTC), unless it would not sort after
/// the highest existing version (two `new` in one second, a clock behind another machine's):
/// then the version after it, with a note saying so.
fn timestamp_version(now: i64, highest: i64) -> Result<(i64, Option<String>)> {
    let stamp = timestamp(now);
    if stamp > highest {
        return Ok((stamp, None));
    }
    let version = after(highest)?;
    Ok((
        version,
        Some(format!(
            "the time now, {stamp}, does not sort after the highest version, {highest}; \
             numbered {version} instead"
        )),
    ))
}

/// The version `new` gives a migration made now in a timestamp-versioned project, before
/// any comparison with the versions already there (`baseline` takes it as it is).
pub(super) fn timestamp_now() -> Result<i64> {
    Ok(timestamp(now_utc_seconds()?))
}

fn now_utc_seconds() -> Result<i64> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is set before 1970; set it right to number by timestamp")?;
    Ok(since.as_secs() as i64)
}

/// Seconds since 1970-01-01 UTC as the number `YYYYMMDDHHMMSS` (fits an i64 until year
/// 922 337).
fn timestamp(seconds: i64) -> i64 {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    ((((year * 100 + month) * 100 + day) * 100 + hour) * 100 + minute) * 100 + second
}

/// (year, month, day) of the proleptic Gregorian calendar for a count of days since
/// 1970-01-01: Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>), in eras of 400
/// years that start on 1 March, so the leap day is the last day of its year.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn migration_template(version: i64, name: &str) -> String {
    format!(
        "-- V{version}__{name}: say what this migration does and why.\n\
         -- It runs in one transaction together with its history row. For statements that\n\
         -- cannot (CREATE INDEX CONCURRENTLY), add `-- pgstrata:no-transaction` here.\n\n"
    )
}

fn rollback_template(version: i64, name: &str) -> String {
    format!(
        "-- Undoes V{version}__{name}. It must restore the schema exactly as it was before the\n\
         -- migration; `pgstrata check` proves it. If it truly cannot, replace these lines with\n\
         -- `-- pgstrata:irreversible <reason>`.\n\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_known_instants() {
        // Each checked with `date -u -d @SECONDS +%Y%m%d%H%M%S`.
        for (seconds, expected) in [
            (0, 19700101000000),
            (951_782_400, 20000229000000),
            (951_868_799, 20000229235959),
            (951_868_800, 20000301000000),
            (1_709_164_800, 20240229000000),
            (1_735_689_599, 20241231235959),
            (1_735_689_600, 20250101000000),
            (1_796_216_247, 20261202125727),
            (4_102_444_800, 21000101000000),
            (-1, 19691231235959),
        ] {
            assert_eq!(timestamp(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn civil_days_round_the_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        // 2100 is not a leap year; 2000 is.
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn a_timestamp_not_after_the_highest_version_becomes_the_next_one() {
        assert_eq!(
            timestamp_version(0, 5).unwrap(),
            (19700101000000, None),
            "a sequential history switched to timestamps"
        );
        let (version, note) = timestamp_version(0, 19700101000000).unwrap();
        assert_eq!(version, 19700101000001);
        assert!(note.unwrap().contains("numbered 19700101000001 instead"));
        assert!(timestamp_version(0, i64::MAX).is_err());
    }
}

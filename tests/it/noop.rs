//! The no-op `up` builds no parse tree, but what it must see it sees: a file the parser refuses
//! is reported when a rollback changed since it was recorded, and before a connection error
//! (see also parser::load_errors for an applied file recorded with its checksum).

use crate::harness::{TempDir, TestDb, pgstrata, pgstrata_for, run};

fn project() -> TempDir {
    TempDir::with_files(&[
        ("migrations/V1__a.sql", "CREATE TABLE a (id int);\n"),
        ("rollbacks/V1__a.sql", "DROP TABLE a;\n"),
    ])
}

#[test]
fn an_edited_rollback_the_parser_refuses_is_reported_by_the_next_up() {
    let db = TestDb::new();
    let p = project();
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to do"), "{out}");
    // Not as recorded any more: the full way, which parses every file.
    p.write("rollbacks/V1__a.sql", "DROP TABLE a;\nDROP TABEL b;\n");
    let (code, _, err) = run(pgstrata_for(&db, &p.path).arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rollbacks/V1__a.sql:2"), "{err}");
}

#[test]
fn a_file_the_parser_refuses_is_reported_before_a_connection_error() {
    let p = project();
    p.write("migrations/V2__b.sql", "CREATE TABEL b (id int);\n");
    p.write("rollbacks/V2__b.sql", "DROP TABLE b;\n");
    let (code, _, err) = run(pgstrata()
        .arg("--dir")
        .arg(&p.path)
        .args([
            "--database-url",
            "host=/nonexistent-socket-dir dbname=x user=x",
        ])
        .arg("up"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("migrations/V2__b.sql:1"), "{err}");
}

// The no-op cache (src/migrate/project/cache.rs): a project of 100 SQL files or more, loaded
// by a no-op `up` while every file is older than 3 seconds, is kept under PGSTRATA_CACHE_DIR
// and read instead of the files while they all look the same.

/// Long enough to be cached: 60 migrations and their rollbacks.
fn long_project() -> TempDir {
    let p = TempDir::new();
    for i in 1..=60 {
        p.write(
            &format!("migrations/V{i}__t{i}.sql"),
            &format!("CREATE TABLE t{i} (id int);\n"),
        );
        p.write(
            &format!("rollbacks/V{i}__t{i}.sql"),
            &format!("DROP TABLE t{i};\n"),
        );
    }
    p
}

/// A cache folder of its own, so that what a test sees is its own cache.
fn with_cache<'a>(
    command: &'a mut std::process::Command,
    cache: &TempDir,
) -> &'a mut std::process::Command {
    command.env("PGSTRATA_CACHE_DIR", &cache.path)
}

/// Past the cache's settling time: a file younger than 3 s is never trusted.
fn let_files_settle() {
    std::thread::sleep(std::time::Duration::from_millis(3_200));
}

fn cache_files(cache: &TempDir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(&cache.path)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn the_cache_is_written_only_for_settled_files_and_is_what_a_no_op_reads() {
    let db = TestDb::new();
    let cache = TempDir::new();
    let p = long_project();
    // Files just written: applied, but nothing cached.
    let (code, _, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert!(cache_files(&cache).is_empty(), "{:?}", cache_files(&cache));
    let_files_settle();
    let (code, out, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(
        (code, out.trim()),
        (0, "nothing to do: the database is up to date"),
        "{err}"
    );
    let written = cache_files(&cache);
    assert_eq!(written.len(), 1, "{written:?}");
    // What the next no-op reads is the cache, not the files: what the cache alone says (a
    // warning planted in it) is shown.
    let text = std::fs::read_to_string(&written[0]).unwrap();
    assert!(text.contains("\"warnings\":[]"), "{text}");
    let planted = text.replace("\"warnings\":[]", "\"warnings\":[\"planted in the cache\"]");
    std::fs::write(&written[0], planted).unwrap();
    let (code, _, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: planted in the cache"), "{err}");
    // A cache that says something other than the history is not believed: the files are read.
    let v7 = pgstrata::checksum::sha256_hex("CREATE TABLE t7 (id int);\n");
    let wrong = text.replace(&v7, &"0".repeat(64));
    assert_ne!(wrong, text);
    std::fs::write(&written[0], wrong).unwrap();
    let (code, out, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(
        (code, out.trim()),
        (0, "nothing to do: the database is up to date"),
        "{err}"
    );
}

#[test]
fn a_cached_no_op_sees_a_file_edited_behind_its_back() {
    let db = TestDb::new();
    let cache = TempDir::new();
    let p = long_project();
    let (code, _, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    let_files_settle();
    let (code, _, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert_eq!(cache_files(&cache).len(), 1);
    // Same size, and the modification time put back as it was: only the change time (which
    // no tool can set back) tells, and it is enough.
    let file = p.path.join("migrations/V7__t7.sql");
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, "CREATE TABLE t8 (id int);\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let (code, _, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("migrations/V7__t7.sql"), "{err}");
    // A new migration is seen, and applied.
    p.write("migrations/V7__t7.sql", "CREATE TABLE t7 (id int);\n");
    p.write("migrations/V61__t61.sql", "CREATE TABLE t61 (id int);\n");
    p.write("rollbacks/V61__t61.sql", "DROP TABLE t61;\n");
    let (code, out, err) = run(with_cache(pgstrata_for(&db, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied 1 migration"), "{out}");
}

#[test]
fn a_cached_project_that_has_work_to_do_reads_its_files() {
    let cache = TempDir::new();
    let p = long_project();
    let first = TestDb::new();
    let (code, _, err) = run(with_cache(pgstrata_for(&first, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    let_files_settle();
    let (code, _, err) = run(with_cache(pgstrata_for(&first, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert_eq!(cache_files(&cache).len(), 1);
    // The same files, cached, on a database that has none of them: the cache says what the
    // files are, the files themselves are read to run them.
    let second = TestDb::new();
    let (code, out, err) = run(with_cache(pgstrata_for(&second, &p.path).arg("up"), &cache));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied 60 migrations"), "{out}");
    let mut client = second.connect();
    assert!(crate::harness::relation_exists(&mut client, "t60"));
}

//! Seed 000 (V2): alt_text and description edited on either table reach the other, for every
//! album row of the image, without echoes, and races between the two tables converge. Every
//! test runs on the hand-written V2 and on the V2 `pgstrata sync new` generates from
//! sync/image_details.toml (see `AlbumSync`).

use std::thread;
use std::time::Duration;

use postgres::Client;
use postgres::error::SqlState;

use super::{
    AlbumSync, backend_pid, count, is_retryable, on_both_syncs, texts, wait_until_blocked,
};

const I1: &str = "00000000-0000-0000-0000-000000000001";
const I2: &str = "00000000-0000-0000-0000-000000000002";
const A1: &str = "00000000-0000-0000-0000-0000000000a1";
const A2: &str = "00000000-0000-0000-0000-0000000000a2";

/// Works on the V1 schema and later: image 1 is in albums 1, 2 and 3, image 2 in album 1.
const PHOTOS: &str = "
    INSERT INTO books (id, title) VALUES ('00000000-0000-0000-0000-0000000000b1', 'Birds');
    INSERT INTO albums (id, book_id, title)
    SELECT ('00000000-0000-0000-0000-0000000000a' || n)::uuid,
           '00000000-0000-0000-0000-0000000000b1', 'Album ' || n
    FROM generate_series(1, 3) AS n;
    INSERT INTO images (id, url, alt_text, description) VALUES
        ('00000000-0000-0000-0000-000000000001', 'https://img/1.jpg', 'a robin', 'red breast'),
        ('00000000-0000-0000-0000-000000000002', 'https://img/2.jpg', 'a wren', 'tiny'),
        ('00000000-0000-0000-0000-000000000003', 'https://img/3.jpg', 'a kite', 'red tail');
    INSERT INTO album_images (album_id, image_id, caption) VALUES
        ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'one'),
        ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-000000000001', 'two'),
        ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-000000000001', 'three'),
        ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000002', 'four');
";

/// Album rows whose details differ from their image's.
pub(super) const DIVERGENT: &str = "
    SELECT count(*) FROM album_images AS ai JOIN images AS i ON i.id = ai.image_id
    WHERE (ai.alt_text, ai.description) IS DISTINCT FROM (i.alt_text, i.description)";

on_both_syncs!(
    migrating_backfills_existing_album_rows_from_their_images,
    an_image_edit_reaches_every_album_row_of_that_image_only,
    an_album_row_edit_reaches_the_image_and_its_other_album_rows,
    each_edit_runs_one_sync_per_direction_and_is_never_echoed,
    a_new_or_repointed_album_row_takes_the_image_current_values,
    an_insert_racing_an_image_update_waits_and_takes_the_committed_value,
    an_image_update_racing_an_insert_waits_and_updates_the_new_row,
    opposite_edits_deadlock_and_the_retried_one_wins_everywhere,
    under_serializable_the_insert_first_race_fails_retryably_instead_of_diverging,
);

fn photos_at_v2(sync: &AlbumSync) -> (crate::harness::TestDb, Client) {
    let db = sync.migrated_to(2);
    let mut client = db.connect();
    client.batch_execute(PHOTOS).unwrap();
    (db, client)
}

/// `alt_text|description` of every album row of an image, by album.
fn album_details(client: &mut Client, image: &str) -> Vec<String> {
    texts(
        client,
        &format!(
            "SELECT concat_ws('|', alt_text, description) FROM album_images
             WHERE image_id = '{image}' ORDER BY album_id"
        ),
    )
}

fn image_details(client: &mut Client, image: &str) -> String {
    texts(
        client,
        &format!("SELECT concat_ws('|', alt_text, description) FROM images WHERE id = '{image}'"),
    )
    .remove(0)
}

fn migrating_backfills_existing_album_rows_from_their_images(sync: &AlbumSync) {
    let db = sync.migrated_to(1);
    db.connect().batch_execute(PHOTOS).unwrap();
    sync.up_to(&db, 2);
    let mut client = db.connect();
    assert_eq!(album_details(&mut client, I1), ["a robin|red breast"; 3]);
    assert_eq!(album_details(&mut client, I2), ["a wren|tiny"]);
    assert_eq!(count(&mut client, DIVERGENT), 0);
}

fn an_image_edit_reaches_every_album_row_of_that_image_only(sync: &AlbumSync) {
    let (_db, mut client) = photos_at_v2(sync);
    client
        .execute(
            &format!("UPDATE images SET alt_text = 'a robin singing' WHERE id = '{I1}'"),
            &[],
        )
        .unwrap();
    assert_eq!(
        album_details(&mut client, I1),
        ["a robin singing|red breast"; 3]
    );
    assert_eq!(album_details(&mut client, I2), ["a wren|tiny"]);
}

fn an_album_row_edit_reaches_the_image_and_its_other_album_rows(sync: &AlbumSync) {
    let (_db, mut client) = photos_at_v2(sync);
    client
        .execute(
            &format!(
                "UPDATE album_images SET description = 'on a branch'
                 WHERE album_id = '{A2}' AND image_id = '{I1}'"
            ),
            &[],
        )
        .unwrap();
    assert_eq!(image_details(&mut client, I1), "a robin|on a branch");
    assert_eq!(album_details(&mut client, I1), ["a robin|on a branch"; 3]);
    assert_eq!(album_details(&mut client, I2), ["a wren|tiny"]);
}

/// Calls of the two sync functions in the current transaction (needs track_functions).
fn sync_calls(sync: &AlbumSync, tx: &mut postgres::Transaction<'_>) -> (i64, i64) {
    let row = tx
        .query_one(
            "SELECT coalesce(sum(calls) FILTER (WHERE funcname = $1), 0)::bigint,
                    coalesce(sum(calls) FILTER (WHERE funcname = $2), 0)::bigint
             FROM pg_stat_xact_user_functions",
            &[&sync.fan_out, &sync.to_parent],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// Runs `sql` in a transaction that is rolled back, returning (images -> album calls,
/// album -> images calls). A difference of two readings: the backend keeps counts of earlier
/// transactions until it reports them, at most once a second.
fn calls_for(sync: &AlbumSync, client: &mut Client, sql: &str) -> (i64, i64) {
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("SET LOCAL track_functions = 'pl'")
        .unwrap();
    let before = sync_calls(sync, &mut tx);
    tx.batch_execute(sql).unwrap();
    let after = sync_calls(sync, &mut tx);
    let calls = (after.0 - before.0, after.1 - before.1);
    assert_eq!(count(&mut tx, DIVERGENT), 0, "after {sql}");
    tx.rollback().unwrap();
    calls
}

fn each_edit_runs_one_sync_per_direction_and_is_never_echoed(sync: &AlbumSync) {
    let (_db, mut client) = photos_at_v2(sync);
    // The fan-out changes three album rows; none of them is synced back.
    assert_eq!(
        calls_for(
            sync,
            &mut client,
            &format!("UPDATE images SET alt_text = 'x' WHERE id = '{I1}'")
        ),
        (1, 0)
    );
    // One album row edited: to images once, fanned out once, and the two album rows the
    // fan-out changes are not echoed back (a ping-pong would show 3 album -> images calls).
    assert_eq!(
        calls_for(
            sync,
            &mut client,
            &format!(
                "UPDATE album_images SET alt_text = 'y' WHERE album_id = '{A1}' AND image_id = '{I1}'"
            )
        ),
        (1, 1)
    );
    // Nothing synced changes: no trigger runs at all.
    assert_eq!(
        calls_for(
            sync,
            &mut client,
            &format!(
                "UPDATE images SET url = 'https://img/1b.jpg', alt_text = 'a robin' WHERE id = '{I1}';
                 UPDATE album_images SET caption = 'uno', description = 'red breast'
                 WHERE image_id = '{I1}'"
            )
        ),
        (0, 0)
    );
}

fn a_new_or_repointed_album_row_takes_the_image_current_values(sync: &AlbumSync) {
    let (_db, mut client) = photos_at_v2(sync);
    client
        .batch_execute(&format!(
            "INSERT INTO album_images (album_id, image_id, alt_text, description)
             VALUES ('{A2}', '{I2}', 'stale alt', 'stale description')"
        ))
        .unwrap();
    assert_eq!(album_details(&mut client, I2), ["a wren|tiny"; 2]);
    client
        .batch_execute(&format!(
            "UPDATE album_images SET image_id = '00000000-0000-0000-0000-000000000003'
             WHERE album_id = '{A1}' AND image_id = '{I2}'"
        ))
        .unwrap();
    assert_eq!(
        album_details(&mut client, "00000000-0000-0000-0000-000000000003"),
        ["a kite|red tail"]
    );
    assert_eq!(count(&mut client, DIVERGENT), 0);
}

/// Without the FOR SHARE read, the insert would copy the value committed before the update
/// and the update's fan-out would not see the uncommitted new row: it would stay stale.
fn an_insert_racing_an_image_update_waits_and_takes_the_committed_value(sync: &AlbumSync) {
    let (db, mut updater) = photos_at_v2(sync);
    let mut inserter = db.connect();
    let inserter_pid = backend_pid(&mut inserter);
    let mut tx = updater.transaction().unwrap();
    tx.execute(
        &format!("UPDATE images SET alt_text = 'updated first' WHERE id = '{I2}'"),
        &[],
    )
    .unwrap();
    let insert = thread::spawn(move || {
        inserter
            .batch_execute(&format!(
                "INSERT INTO album_images (album_id, image_id) VALUES ('{A2}', '{I2}')"
            ))
            .unwrap();
    });
    wait_until_blocked(&mut db.connect(), inserter_pid);
    tx.commit().unwrap();
    insert.join().unwrap();
    let mut client = db.connect();
    assert_eq!(album_details(&mut client, I2), ["updated first|tiny"; 2]);
    assert_eq!(count(&mut client, DIVERGENT), 0);
}

fn an_image_update_racing_an_insert_waits_and_updates_the_new_row(sync: &AlbumSync) {
    let (db, mut inserter) = photos_at_v2(sync);
    let mut updater = db.connect();
    let updater_pid = backend_pid(&mut updater);
    let mut tx = inserter.transaction().unwrap();
    tx.execute(
        &format!("INSERT INTO album_images (album_id, image_id) VALUES ('{A2}', '{I2}')"),
        &[],
    )
    .unwrap();
    let update = thread::spawn(move || {
        updater
            .batch_execute(&format!(
                "UPDATE images SET alt_text = 'updated second' WHERE id = '{I2}'"
            ))
            .unwrap();
    });
    wait_until_blocked(&mut db.connect(), updater_pid);
    tx.commit().unwrap();
    update.join().unwrap();
    let mut client = db.connect();
    assert_eq!(album_details(&mut client, I2), ["updated second|tiny"; 2]);
    assert_eq!(count(&mut client, DIVERGENT), 0);
}

/// Opposite edits lock the image row and an album row in opposite orders. PostgreSQL must
/// abort one of them with a deadlock (never let both commit different values); running the
/// aborted one again ends with every copy equal to its value.
fn opposite_edits_deadlock_and_the_retried_one_wins_everywhere(sync: &AlbumSync) {
    let (db, mut image_side) = photos_at_v2(sync);
    let mut album_side = db.connect();
    image_side
        .batch_execute("SET deadlock_timeout = '20ms'")
        .unwrap();
    album_side
        .batch_execute("SET deadlock_timeout = '20ms'")
        .unwrap();
    let album_pid = backend_pid(&mut album_side);
    let album_edit = format!(
        "UPDATE album_images SET alt_text = 'from album' WHERE album_id = '{A1}' AND image_id = '{I1}'"
    );
    let image_edit = format!("UPDATE images SET alt_text = 'from image' WHERE id = '{I1}'");

    let mut tx = image_side.transaction().unwrap();
    // Lock the image row without touching a synced column.
    tx.execute(
        &format!("UPDATE images SET url = url WHERE id = '{I1}'"),
        &[],
    )
    .unwrap();
    let edit = album_edit.clone();
    let album_thread = thread::spawn(move || {
        let result = album_side.batch_execute(&edit);
        (album_side, result)
    });
    wait_until_blocked(&mut db.connect(), album_pid);
    // Gives the album side's own deadlock check time to run (and find nothing) first.
    thread::sleep(Duration::from_millis(100));
    let image_result = tx.execute(&image_edit, &[]);
    let image_failed = match image_result {
        Ok(_) => {
            tx.commit().unwrap();
            false
        }
        Err(err) => {
            assert!(is_retryable(&err), "image edit: {err}");
            drop(tx);
            true
        }
    };
    let (mut album_side, album_result) = album_thread.join().unwrap();
    let album_failed = match album_result {
        Ok(()) => false,
        Err(err) => {
            assert_eq!(
                err.code(),
                Some(&SqlState::T_R_DEADLOCK_DETECTED),
                "album edit: {err}"
            );
            true
        }
    };
    assert!(
        image_failed ^ album_failed,
        "exactly one side is aborted (image {image_failed}, album {album_failed})"
    );
    let expected = if image_failed {
        image_side.batch_execute(&image_edit).unwrap();
        "from image|red breast"
    } else {
        album_side.batch_execute(&album_edit).unwrap();
        "from album|red breast"
    };
    let mut client = db.connect();
    assert_eq!(image_details(&mut client, I1), expected);
    assert_eq!(album_details(&mut client, I1), [expected; 3]);
}

/// V2 documents that the insert-first race needs READ COMMITTED for the image update, or
/// SERIALIZABLE for every writer: then the update, whose snapshot cannot see the new row,
/// fails with a serialization failure instead of leaving that row stale.
fn under_serializable_the_insert_first_race_fails_retryably_instead_of_diverging(sync: &AlbumSync) {
    let (db, mut inserter) = photos_at_v2(sync);
    let mut updater = db.connect();
    let updater_pid = backend_pid(&mut updater);
    let mut insert = inserter
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::Serializable)
        .start()
        .unwrap();
    insert
        .execute(
            &format!("INSERT INTO album_images (album_id, image_id) VALUES ('{A2}', '{I2}')"),
            &[],
        )
        .unwrap();
    let update = thread::spawn(move || {
        let mut tx = updater
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::Serializable)
            .start()
            .unwrap();
        tx.execute(
            &format!("UPDATE images SET alt_text = 'too late' WHERE id = '{I2}'"),
            &[],
        )
        .and_then(|_| tx.commit())
    });
    wait_until_blocked(&mut db.connect(), updater_pid);
    insert.commit().unwrap();
    let err = update
        .join()
        .unwrap()
        .expect_err("the update cannot see the new row, so it must not commit");
    assert_eq!(
        err.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE),
        "{err}"
    );
    let mut client = db.connect();
    assert_eq!(album_details(&mut client, I2), ["a wren|tiny"; 2]);
    assert_eq!(count(&mut client, DIVERGENT), 0);
}

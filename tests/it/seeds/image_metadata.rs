//! Seed 002 (V4): upsert_image_metadata() updates the one row of (organization, key, item),
//! returning its id, and concurrent saves of one image end in one row.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use postgres::Client;

use super::{count, migrated_to, texts};

fn upsert(client: &mut Client, item: &str, alt_text: &str) -> String {
    client
        .query_one(
            "SELECT upsert_image_metadata('org_lxSEYVnF3YpVUlEQ', 'e3641953fabc471fb110d46241bce7a1',
                    '/sitecore/media library/test/beach.jpg', $1,
                    'https://cdn/-/media/test/beach.jpg', $2, 'a description')::text",
            &[&item, &alt_text],
        )
        .unwrap()
        .get(0)
}

/// id, alt_text, created_at, updated_at and whether updated_at > created_at, of one item.
fn row(client: &mut Client, item: &str) -> (String, String, String, bool) {
    let row = client
        .query_one(
            "SELECT id::text, alt_text, created_at::text, updated_at > created_at
             FROM image_metadata WHERE image_item_id = $1",
            &[&item],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

#[test]
fn saving_again_updates_the_same_row_and_returns_its_id() {
    let db = migrated_to(4);
    let mut client = db.connect();
    let inserted = upsert(&mut client, "item-beach-001", "Beach sunset");
    let (id, alt_text, created_at, advanced) = row(&mut client, "item-beach-001");
    assert_eq!(
        (id.as_str(), alt_text.as_str(), advanced),
        (inserted.as_str(), "Beach sunset", false)
    );

    // A later transaction: now() has moved on.
    thread::sleep(Duration::from_millis(5));
    let updated = upsert(&mut client, "item-beach-001", "Stunning beach sunset");
    assert_eq!(updated, inserted, "same id on update");
    let after = row(&mut client, "item-beach-001");
    assert_eq!(
        after,
        (
            inserted.clone(),
            "Stunning beach sunset".to_string(),
            created_at,
            true
        ),
        "alt_text updated, created_at kept, updated_at advanced"
    );

    let other = upsert(&mut client, "item-beach-002", "Beach at night");
    assert_ne!(other, inserted, "another item is another row");
    assert_eq!(count(&mut client, "SELECT count(*) FROM image_metadata"), 2);
}

#[test]
fn eight_concurrent_saves_of_one_image_make_one_row_with_one_id() {
    let db = migrated_to(4);
    let start = Arc::new(Barrier::new(8));
    let savers: Vec<_> = (0..8)
        .map(|n| {
            let (mut client, start) = (db.connect(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                upsert(&mut client, "item-contended", &format!("saver {n}"))
            })
        })
        .collect();
    let mut ids: Vec<String> = savers.into_iter().map(|s| s.join().unwrap()).collect();
    ids.dedup();
    let mut client = db.connect();
    assert_eq!(
        texts(&mut client, "SELECT id::text FROM image_metadata"),
        ids,
        "one row, and every save returned its id"
    );
}

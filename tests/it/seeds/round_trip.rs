//! Every version's rollback is exact (the schema after it equals the schema before the
//! version, compared as pgstrata snapshots), and the whole history goes down and up again on
//! a database holding data of every kind.

use postgres::Client;

use super::{down_to, migrated_to, texts, up_to};
use crate::harness::{self, TestDb};

const NEWEST: i64 = 5;

/// The schema as pgstrata's snapshot renders it, without the header.
fn outline(db: &TestDb) -> String {
    let options = pgstrata::snapshot::SnapshotOptions {
        exclude_schemas: vec!["pgstrata".into()],
        include_schemas: None,
    };
    let text = pgstrata::snapshot::take(&mut db.connect(), &options)
        .expect("taking a snapshot")
        .render();
    pgstrata::snapshot::split_blocks(&text)
        .blocks
        .iter()
        .filter(|b| b.object != "schema public")
        .map(|b| b.text)
        .collect()
}

/// Rolling back to `k` from the newest version must give the schema that migrating a fresh
/// database to `k` gives; for every `k` that proves each rollback undoes exactly its own
/// migration (column order, constraint and index names, defaults, comments, triggers).
#[test]
fn rolling_back_to_any_version_gives_the_schema_of_migrating_to_it() {
    for k in 0..NEWEST {
        let fresh = migrated_to(k);
        let rolled_back = migrated_to(NEWEST);
        down_to(&rolled_back, k);
        let expected = outline(&fresh);
        assert_eq!(outline(&rolled_back), expected, "rolled back to V{k}");
        assert_eq!(expected.is_empty(), k == 0, "V{k} outline: {expected}");
    }
}

/// Album rows, offering links, generated images and metadata in the newest schema.
const DATA: &str = "
    INSERT INTO books (id, title) VALUES ('00000000-0000-0000-0000-0000000000b1', 'Tables');
    INSERT INTO albums (id, book_id, title)
        VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1', 'Oak');
    INSERT INTO offerings (id, name) VALUES
        ('00000000-0000-0000-0000-0000000000f1', 'oak table'),
        ('00000000-0000-0000-0000-0000000000f2', 'pine table');
    INSERT INTO images (id, url, alt_text, description, material_id, size_range) VALUES
        ('00000000-0000-0000-0000-000000000001', 'https://img/1', 'oak top', 'oiled', 1, 'large'),
        ('00000000-0000-0000-0000-000000000002', 'https://img/2', 'pine legs', 'raw', 2, 'small');
    INSERT INTO album_images (album_id, image_id, caption) VALUES
        ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'top');
    INSERT INTO offering_images (offering_id, image_id, is_primary) VALUES
        ('00000000-0000-0000-0000-0000000000f1', '00000000-0000-0000-0000-000000000001', true),
        ('00000000-0000-0000-0000-0000000000f2', '00000000-0000-0000-0000-000000000002', false);
    INSERT INTO content_creation_requests (id, prompt, generated_output) VALUES
        ('00000000-0000-0000-0000-0000000000c1', 'tables',
         '{\"scenes\": [{\"id\": \"s1\", \"index\": 1}, {\"id\": \"s2\"}]}');
    INSERT INTO generated_images (content_creation_request_id, scene_index, image_index, image_url) VALUES
        ('00000000-0000-0000-0000-0000000000c1', 1, 0, 'https://gen/1a'),
        ('00000000-0000-0000-0000-0000000000c1', 1, 1, 'https://gen/1b'),
        ('00000000-0000-0000-0000-0000000000c1', 2, 0, 'https://gen/2a');
    SELECT upsert_image_metadata('org', 'key', '/path', 'item', 'https://preview', 'alt', 'text');
    UPDATE album_images SET alt_text = 'oak table top';
";

fn newest_with_data() -> TestDb {
    let db = migrated_to(NEWEST);
    db.connect().batch_execute(DATA).unwrap();
    db
}

/// What V1 can hold of DATA: links in images.offering_id, URLs in the document, details in
/// images.
fn v1_facts(client: &mut Client) -> Vec<String> {
    texts(
        client,
        "SELECT concat_ws(' ', id, offering_id, alt_text, description) FROM images ORDER BY id",
    )
    .into_iter()
    .chain(texts(
        client,
        "SELECT generated_output::text FROM content_creation_requests",
    ))
    .collect()
}

#[test]
fn rolling_back_to_the_baseline_keeps_what_the_baseline_can_hold() {
    let db = newest_with_data();
    down_to(&db, 1);
    assert_eq!(
        v1_facts(&mut db.connect()),
        [
            "00000000-0000-0000-0000-000000000001 00000000-0000-0000-0000-0000000000f1 oak table top oiled",
            "00000000-0000-0000-0000-000000000002 00000000-0000-0000-0000-0000000000f2 pine legs raw",
            r#"{"scenes": [{"id": "s1", "index": 1, "imageUrls": ["https://gen/1a", "https://gen/1b"]}, {"id": "s2", "imageUrls": ["https://gen/2a"]}]}"#,
        ]
    );
}

#[test]
fn everything_goes_down_to_nothing_and_up_again_with_data() {
    let db = newest_with_data();
    let before = outline(&db);
    down_to(&db, 0);
    assert_eq!(outline(&db), "", "down to 0 leaves an empty schema");
    harness::up(&db, &harness::repository(), None);
    assert_eq!(outline(&db), before);
    db.connect().batch_execute(DATA).unwrap();
}

/// What the newest schema holds of DATA after a round trip through V1: links (the primary
/// flag has no place in V1), rows, album details.
fn newest_facts(client: &mut Client) -> Vec<String> {
    let queries = [
        "SELECT concat_ws(' ', offering_id, image_id) FROM offering_images ORDER BY image_id",
        "SELECT concat_ws(' ', scene_index, image_index, image_url) FROM generated_images
         ORDER BY scene_index, image_index",
        "SELECT concat_ws(' ', image_id, alt_text, description) FROM album_images",
    ];
    queries.iter().flat_map(|sql| texts(client, sql)).collect()
}

#[test]
fn data_survives_down_to_the_baseline_and_up_again() {
    let db = newest_with_data();
    let before = (outline(&db), newest_facts(&mut db.connect()));
    down_to(&db, 1);
    up_to(&db, NEWEST);
    assert_eq!((outline(&db), newest_facts(&mut db.connect())), before);
}

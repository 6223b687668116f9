//! Seeds 003 + 001 (V3): concurrent image saves rewrote one JSONB document and lost URLs; one
//! row per image in generated_images loses none, and moving the existing URLs into rows and
//! back loses none either.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::thread;

use postgres::Client;
use serde_json::{Value, json};

use super::{count, down_to, expect_refusal, migrated_to, texts, up_to};

const REQUEST: &str = "00000000-0000-0000-0000-0000000000c1";

fn add_request(client: &mut Client, id: &str, output: Option<&Value>) {
    client
        .execute(
            "INSERT INTO content_creation_requests (id, prompt, generated_output)
             VALUES ($1::text::uuid, 'a story', $2::text::jsonb)",
            &[&id, &output.map(Value::to_string)],
        )
        .unwrap();
}

fn output(client: &mut impl postgres::GenericClient, id: &str) -> Value {
    let text: Option<String> = client
        .query_one(
            "SELECT generated_output::text FROM content_creation_requests WHERE id = $1::text::uuid",
            &[&id],
        )
        .unwrap()
        .get(0);
    text.map_or(Value::Null, |t| serde_json::from_str(&t).unwrap())
}

/// Each scene's imageUrls by scene id, in scene order; a missing array counts as empty.
fn urls_by_scene(output: &Value) -> Vec<(String, Vec<String>)> {
    output["scenes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|scene| {
            let urls = scene["imageUrls"].as_array().into_iter().flatten();
            (
                scene["id"].as_str().unwrap().to_string(),
                urls.map(|u| u.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

/// The old save (seed 003): read the document, append the URL to the scene, write it back.
fn append_url(document: &mut Value, scene_index: u64, url: &str) {
    let scenes = document["scenes"].as_array_mut().unwrap();
    for (position, scene) in scenes.iter_mut().enumerate() {
        let index = scene["index"].as_u64().unwrap_or(position as u64 + 1);
        if index == scene_index {
            let urls = scene
                .as_object_mut()
                .unwrap()
                .entry("imageUrls")
                .or_insert_with(|| json!([]));
            urls.as_array_mut().unwrap().push(json!(url));
        }
    }
}

fn two_scenes() -> Value {
    json!({"scenes": [{"id": "scene-1", "index": 1}, {"id": "scene-2", "index": 2}]})
}

#[test]
fn read_modify_write_of_generated_output_loses_a_concurrent_url() {
    let db = migrated_to(2);
    let mut first = db.connect();
    let mut second = db.connect();
    add_request(&mut first, REQUEST, Some(&two_scenes()));
    let mut a = first.transaction().unwrap();
    let mut b = second.transaction().unwrap();
    let (mut read_a, mut read_b) = (output(&mut a, REQUEST), output(&mut b, REQUEST));
    append_url(&mut read_a, 1, "https://img/a.png");
    append_url(&mut read_b, 1, "https://img/b.png");
    let write = "UPDATE content_creation_requests SET generated_output = $2::text::jsonb
                 WHERE id = $1::text::uuid";
    a.execute(write, &[&REQUEST, &read_a.to_string()]).unwrap();
    a.commit().unwrap();
    b.execute(write, &[&REQUEST, &read_b.to_string()]).unwrap();
    b.commit().unwrap();
    let saved = urls_by_scene(&output(&mut db.connect(), REQUEST));
    assert_eq!(
        saved[0],
        ("scene-1".to_string(), vec!["https://img/b.png".to_string()]),
        "both saves succeeded, yet a's URL is gone"
    );
}

const SAVE: &str = "INSERT INTO generated_images
                        (content_creation_request_id, scene_index, image_index, image_url)
                    VALUES ($1::text::uuid, $2, $3, $4)
                    ON CONFLICT (content_creation_request_id, scene_index, image_index)
                    DO UPDATE SET image_url = EXCLUDED.image_url";

fn saved_images(client: &mut Client) -> Vec<String> {
    texts(
        client,
        "SELECT format('%s/%s %s', scene_index, image_index, image_url) FROM generated_images
         ORDER BY scene_index, image_index",
    )
}

#[test]
fn the_same_interleaving_with_generated_images_keeps_both_urls() {
    let db = migrated_to(3);
    let mut first = db.connect();
    let mut second = db.connect();
    add_request(&mut first, REQUEST, Some(&two_scenes()));
    let mut a = first.transaction().unwrap();
    let mut b = second.transaction().unwrap();
    a.execute(SAVE, &[&REQUEST, &1i32, &0i32, &"https://img/a.png"])
        .unwrap();
    b.execute(SAVE, &[&REQUEST, &1i32, &1i32, &"https://img/b.png"])
        .unwrap();
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(
        saved_images(&mut db.connect()),
        ["1/0 https://img/a.png", "1/1 https://img/b.png"]
    );
}

#[test]
fn sixteen_concurrent_writers_on_one_request_keep_every_image() {
    let db = migrated_to(3);
    add_request(&mut db.connect(), REQUEST, Some(&two_scenes()));
    let start = Arc::new(Barrier::new(16));
    let writers: Vec<_> = (0..16i32)
        .map(|n| {
            let (mut client, start) = (db.connect(), Arc::clone(&start));
            thread::spawn(move || {
                let url = format!("https://img/{n}.png");
                start.wait();
                client
                    .execute(SAVE, &[&REQUEST, &(n % 2 + 1), &(n / 2), &url])
                    .unwrap();
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let mut expected: Vec<String> = (0..16)
        .map(|n| format!("{}/{} https://img/{n}.png", n % 2 + 1, n / 2))
        .collect();
    expected.sort_by_key(|line| {
        let (slot, _) = line.split_once(' ').unwrap();
        let (scene, image) = slot.split_once('/').unwrap();
        (scene.parse::<i32>().unwrap(), image.parse::<i32>().unwrap())
    });
    assert_eq!(saved_images(&mut db.connect()), expected);
}

/// Scenes with and without an "index", an index that is not the position, no imageUrls, an
/// empty one, and requests with no document, no scenes or an empty scene list.
fn story() -> Value {
    json!({"title": "A walk", "scenes": [
        {"id": "scene-1", "index": 1, "prompt": "dawn", "imageUrls": ["https://img/1a", "https://img/1b"]},
        {"id": "scene-2", "index": 2, "prompt": "noon"},
        {"id": "scene-3", "index": 3, "imageUrls": ["https://img/3a"]},
        {"id": "scene-4", "imageUrls": ["https://img/4a", "https://img/4b", "https://img/4c"]},
        {"id": "scene-5", "index": 7, "imageUrls": ["https://img/7a"]},
        {"id": "scene-6", "imageUrls": []}
    ]})
}

#[test]
fn image_urls_survive_jsonb_to_rows_and_back() {
    let db = migrated_to(2);
    let mut client = db.connect();
    add_request(&mut client, REQUEST, Some(&story()));
    let others = [
        ("00000000-0000-0000-0000-0000000000c2", None),
        (
            "00000000-0000-0000-0000-0000000000c3",
            Some(json!({"scenes": []})),
        ),
        (
            "00000000-0000-0000-0000-0000000000c4",
            Some(json!({"draft": true})),
        ),
    ];
    for (id, document) in &others {
        add_request(&mut client, id, document.as_ref());
    }
    let updated_at =
        "SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM content_creation_requests";
    let updated_before = texts(&mut client, updated_at);

    up_to(&db, 3);
    let mut client = db.connect();
    let rows = [
        "1/0 https://img/1a",
        "1/1 https://img/1b",
        "3/0 https://img/3a",
        "4/0 https://img/4a",
        "4/1 https://img/4b",
        "4/2 https://img/4c",
        "7/0 https://img/7a",
    ];
    assert_eq!(saved_images(&mut client), rows);
    let moved = output(&mut client, REQUEST);
    assert!(
        urls_by_scene(&moved)
            .iter()
            .all(|(_, urls)| urls.is_empty()),
        "the rows are the only copy: {moved}"
    );
    assert_eq!(
        moved["scenes"][0]["prompt"], "dawn",
        "the rest of the scene stays"
    );
    assert_eq!(
        texts(&mut client, updated_at),
        updated_before,
        "moving is not an edit"
    );
    // An image generated after the move, for the scene that had none.
    client
        .execute(SAVE, &[&REQUEST, &2i32, &0i32, &"https://img/2a"])
        .unwrap();

    down_to(&db, 2);
    let mut client = db.connect();
    let mut expected = urls_by_scene(&story());
    expected[1].1.push("https://img/2a".to_string());
    let folded = output(&mut client, REQUEST);
    assert_eq!(urls_by_scene(&folded), expected);
    assert_eq!(folded["title"], "A walk");
    for (id, document) in &others {
        assert_eq!(
            output(&mut client, id),
            document.clone().unwrap_or(Value::Null)
        );
    }
    assert_eq!(texts(&mut client, updated_at), updated_before);

    up_to(&db, 3);
    let mut again = rows.to_vec();
    again.insert(2, "2/0 https://img/2a");
    assert_eq!(saved_images(&mut db.connect()), again);
}

#[test]
fn rolling_back_refuses_to_drop_images_that_match_no_scene() {
    let db = migrated_to(5);
    let mut client = db.connect();
    add_request(&mut client, REQUEST, Some(&two_scenes()));
    client
        .execute(SAVE, &[&REQUEST, &9i32, &0i32, &"https://img/9a"])
        .unwrap();
    let message = expect_refusal("rolling back V3", || down_to(&db, 2));
    assert!(
        message.contains(&format!("{REQUEST} scene 9")),
        "names the request and scene: {message}"
    );
    assert_eq!(
        count(&mut db.connect(), "SELECT count(*) FROM generated_images"),
        1,
        "nothing was rolled back"
    );
}

#[test]
fn migrating_refuses_two_scenes_with_the_same_index() {
    let db = migrated_to(2);
    let scenes = json!({"scenes": [
        {"id": "a", "index": 2, "imageUrls": ["https://img/a"]},
        {"id": "b", "imageUrls": ["https://img/b"]}
    ]});
    add_request(&mut db.connect(), REQUEST, Some(&scenes));
    let message = expect_refusal("migrating to V3", || up_to(&db, 3));
    assert!(
        message.contains(REQUEST) && message.contains("same index"),
        "{message}"
    );
    let by_scene: BTreeMap<_, _> = urls_by_scene(&output(&mut db.connect(), REQUEST))
        .into_iter()
        .collect();
    assert_eq!(
        by_scene["a"],
        ["https://img/a"],
        "the document is untouched"
    );
}

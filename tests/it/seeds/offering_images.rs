//! Seed 004 (V5): offerings link images through offering_images; one canonical image per
//! prompt fingerprint, which the database computes; links survive the move into the junction
//! and back, and a rollback that would lose links refuses.

use postgres::Client;
use postgres::error::SqlState;
use sha2::{Digest, Sha256};

use super::{count, down_to, expect_refusal, migrated_to, texts, up_to};

const O1: &str = "00000000-0000-0000-0000-0000000000f1";
const O2: &str = "00000000-0000-0000-0000-0000000000f2";

/// material_id, form_id, surface_finish_id, construction_type_id.
type Ids = [Option<i32>; 4];
/// size_range, quality_grade, color_variant, packaging.
type Words<'a> = [Option<&'a str>; 4];

/// The normalisation documented in V5, written again from its description.
fn fingerprint(ids: Ids, words: Words) -> Option<String> {
    let field = |value: Option<String>| {
        value
            .unwrap_or_default()
            .trim_matches([' ', '\t', '\r', '\n'])
            .to_ascii_lowercase()
            .replace('\\', "\\\\")
            .replace('|', "\\|")
    };
    let fields: Vec<String> = ids
        .iter()
        .map(|id| field(id.map(|id| id.to_string())))
        .chain(words.iter().map(|word| field(word.map(str::to_string))))
        .collect();
    let joined = fields.join("|");
    (joined != "|||||||").then(|| pgstrata::checksum::hex(&Sha256::digest(joined.as_bytes())))
}

/// Inserts an image and returns its id.
fn add_image(
    client: &mut Client,
    explicit: bool,
    ids: Ids,
    words: Words,
) -> Result<String, postgres::Error> {
    let row = client.query_one(
        "INSERT INTO images (url, explicit, material_id, form_id, surface_finish_id,
                             construction_type_id, size_range, quality_grade, color_variant, packaging)
         VALUES ('https://img/x.png', $1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id::text",
        &[
            &explicit, &ids[0], &ids[1], &ids[2], &ids[3], &words[0], &words[1], &words[2],
            &words[3],
        ],
    )?;
    Ok(row.get(0))
}

fn stored_fingerprint(client: &mut Client, image: &str) -> Option<String> {
    client
        .query_one(
            "SELECT prompt_fingerprint::text FROM images WHERE id = $1::text::uuid",
            &[&image],
        )
        .unwrap()
        .get(0)
}

#[test]
fn the_stored_fingerprint_is_the_sha256_of_the_documented_normalisation() {
    let db = migrated_to(5);
    let mut client = db.connect();
    let cases: [(Ids, Words); 5] = [
        (
            [Some(12), Some(3), None, Some(7)],
            [
                Some(" Large\t"),
                Some("A"),
                Some("Matte Black"),
                Some("box"),
            ],
        ),
        (
            [None, None, Some(1), None],
            [Some("10|20"), Some("a\\b"), None, None],
        ),
        ([None; 4], [None, None, Some("ÉCRU Blau"), None]),
        ([None; 4], [Some("a|b"), Some(""), None, None]),
        ([None; 4], [Some("a"), Some("b|"), None, None]),
    ];
    let mut seen = Vec::new();
    for (ids, words) in cases {
        let image = add_image(&mut client, true, ids, words).unwrap();
        let stored = stored_fingerprint(&mut client, &image);
        assert_eq!(stored, fingerprint(ids, words), "{ids:?} {words:?}");
        let stored = stored.unwrap();
        assert_eq!(stored.len(), 64);
        assert!(
            !seen.contains(&stored),
            "distinct fields, distinct fingerprints"
        );
        seen.push(stored);
    }
    let blank = add_image(
        &mut client,
        false,
        [None; 4],
        [Some("  "), Some(""), None, None],
    )
    .unwrap();
    assert_eq!(
        stored_fingerprint(&mut client, &blank),
        None,
        "no prompt, no fingerprint"
    );
}

#[test]
fn only_one_canonical_image_per_fingerprint_but_explicit_ones_may_repeat() {
    let db = migrated_to(5);
    let mut client = db.connect();
    let ids = [Some(1), Some(2), Some(3), Some(4)];
    add_image(
        &mut client,
        false,
        ids,
        [Some("large"), None, Some("red"), None],
    )
    .unwrap();
    // The same prompt typed differently is the same fingerprint.
    let duplicate = add_image(
        &mut client,
        false,
        ids,
        [Some(" LARGE "), None, Some("Red"), None],
    )
    .expect_err("a second canonical image with the same fingerprint");
    assert_eq!(
        duplicate.code(),
        Some(&SqlState::UNIQUE_VIOLATION),
        "{duplicate}"
    );
    let explicit = [
        add_image(
            &mut client,
            true,
            ids,
            [Some("large"), None, Some("red"), None],
        )
        .unwrap(),
        add_image(
            &mut client,
            true,
            ids,
            [Some("large"), None, Some("red"), None],
        )
        .unwrap(),
    ];
    // Images without prompt fields (book photos) are canonical by default and never collide.
    for _ in 0..2 {
        add_image(&mut client, false, [None; 4], [None; 4]).unwrap();
    }
    let demoted = client
        .execute(
            "UPDATE images SET explicit = false WHERE id = $1::text::uuid",
            &[&explicit[0]],
        )
        .expect_err("turning an explicit duplicate canonical");
    assert_eq!(
        demoted.code(),
        Some(&SqlState::UNIQUE_VIOLATION),
        "{demoted}"
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM images"), 5);
}

/// Offerings O1 and O2; images 1 and 2 linked to O1 (1 primary), image 3 to O2, image 4 to
/// none. Returns the image ids.
fn linked_at_v5(client: &mut Client) -> Vec<String> {
    client
        .batch_execute(&format!(
            "INSERT INTO offerings (id, name) VALUES ('{O1}', 'oak table'), ('{O2}', 'pine table')"
        ))
        .unwrap();
    let images: Vec<String> = (1..=4)
        .map(|n| add_image(client, true, [Some(n), None, None, None], [None; 4]).unwrap())
        .collect();
    for (offering, image, primary, order) in [
        (O1, &images[0], true, 0),
        (O1, &images[1], false, 1),
        (O2, &images[2], false, 0),
    ] {
        client
            .execute(
                "INSERT INTO offering_images (offering_id, image_id, is_primary, sort_order)
                 VALUES ($1::text::uuid, $2::text::uuid, $3, $4)",
                &[&offering, image, &primary, &order],
            )
            .unwrap();
    }
    images
}

/// `offering image` per linked image, images by material_id.
fn links_in_images(client: &mut Client) -> Vec<String> {
    texts(
        client,
        "SELECT concat_ws(' ', offering_id, id) FROM images ORDER BY material_id",
    )
}

#[test]
fn the_view_reads_links_and_offerings_keep_one_primary_image() {
    let db = migrated_to(5);
    let mut client = db.connect();
    let images = linked_at_v5(&mut client);
    assert_eq!(
        texts(
            &mut client,
            "SELECT concat_ws(' ', offering_id, image_id, is_primary, material_id)
             FROM view_offering_images ORDER BY offering_id, sort_order"
        ),
        [
            format!("{O1} {} t 1", images[0]),
            format!("{O1} {} f 2", images[1]),
            format!("{O2} {} f 3", images[2]),
        ]
    );
    let second_primary = client
        .execute(
            "UPDATE offering_images SET is_primary = true WHERE image_id = $1::text::uuid",
            &[&images[1]],
        )
        .expect_err("a second primary image for O1");
    assert_eq!(second_primary.code(), Some(&SqlState::UNIQUE_VIOLATION));
    let in_use = client
        .execute(
            "DELETE FROM images WHERE id = $1::text::uuid",
            &[&images[0]],
        )
        .expect_err("deleting a linked image");
    assert_eq!(in_use.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    client
        .execute(&format!("DELETE FROM offerings WHERE id = '{O1}'"), &[])
        .unwrap();
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM offering_images"),
        1,
        "an offering's links go with it"
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM images"),
        4,
        "its images stay"
    );
}

#[test]
fn rolling_back_moves_the_links_back_into_images() {
    let db = migrated_to(5);
    let images = linked_at_v5(&mut db.connect());
    down_to(&db, 4);
    assert_eq!(
        links_in_images(&mut db.connect()),
        [
            format!("{O1} {}", images[0]),
            format!("{O1} {}", images[1]),
            format!("{O2} {}", images[2]),
            images[3].clone(),
        ]
    );
}

#[test]
fn rolling_back_refuses_when_an_image_is_linked_to_two_offerings() {
    let db = migrated_to(5);
    let mut client = db.connect();
    let images = linked_at_v5(&mut client);
    client
        .execute(
            "INSERT INTO offering_images (offering_id, image_id) VALUES ($1::text::uuid, $2::text::uuid)",
            &[&O2, &images[0]],
        )
        .unwrap();
    let message = expect_refusal("rolling back V5", || down_to(&db, 4));
    assert!(
        message.contains(&format!(
            "image {} is linked to offerings {O1}, {O2}",
            images[0]
        )),
        "names the image and its offerings: {message}"
    );
    assert_eq!(
        count(&mut db.connect(), "SELECT count(*) FROM offering_images"),
        4,
        "no link was lost"
    );
}

#[test]
fn migrating_moves_existing_links_into_the_junction_and_back() {
    let db = migrated_to(4);
    let mut client = db.connect();
    client
        .batch_execute(&format!(
            "INSERT INTO offerings (id, name) VALUES ('{O1}', 'oak table'), ('{O2}', 'pine table');
             INSERT INTO images (url, material_id, offering_id, created_at) VALUES
                 ('https://img/1', 1, '{O1}', '2024-01-01'), ('https://img/2', 2, '{O1}', '2024-01-02'),
                 ('https://img/3', 3, '{O2}', '2024-01-03'), ('https://img/4', 4, NULL, '2024-01-04');"
        ))
        .unwrap();
    let before = links_in_images(&mut client);
    up_to(&db, 5);
    let mut client = db.connect();
    let junction = "SELECT concat_ws(' ', offering_id, image_id, is_primary, sort_order)
                    FROM offering_images ORDER BY offering_id, sort_order";
    let ids: Vec<String> = before
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        texts(&mut client, junction),
        [
            format!("{O1} {} f 0", ids[0]),
            format!("{O1} {} f 1", ids[1]),
            format!("{O2} {} f 0", ids[2]),
        ]
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM images WHERE explicit"),
        4,
        "existing images are explicit"
    );
    down_to(&db, 4);
    assert_eq!(links_in_images(&mut db.connect()), before);
}

#[test]
fn migrating_refuses_to_drop_product_definition_links() {
    let db = migrated_to(4);
    db.connect()
        .batch_execute(
            "INSERT INTO images (id, url, product_def_id) VALUES
             ('00000000-0000-0000-0000-0000000000e1', 'https://img/1', gen_random_uuid())",
        )
        .unwrap();
    let message = expect_refusal("migrating to V5", || up_to(&db, 5));
    assert!(
        message.contains("00000000-0000-0000-0000-0000000000e1"),
        "names the image: {message}"
    );
}

//! Seed 000 (V2) under load: eight writers edit images and album rows, add and remove album
//! rows, all on a few images so that they collide constantly. Deadlocks and serialization
//! failures are allowed (and retried); a single album row left different from its image is not.
//! Run on the hand-written V2 and on the generated one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::{Client, Error};

use super::album_sync::DIVERGENT;
use super::{AlbumSync, Rng, count, is_retryable, on_both_syncs};

const WRITERS: usize = 8;
const OPERATIONS: usize = 500;
const IMAGES: usize = 6;
const ALBUMS: usize = 6;

fn image(n: usize) -> String {
    format!("00000000-0000-0000-0000-0000000000{n:02}")
}

fn album(n: usize) -> String {
    format!("00000000-0000-0000-0000-0000000001{n:02}")
}

/// Every image in three of the six albums.
fn seed(client: &mut Client) {
    client
        .batch_execute("INSERT INTO books (id, title) VALUES ('00000000-0000-0000-0000-0000000002ff', 'Stress')")
        .unwrap();
    for n in 0..ALBUMS {
        client
            .execute(
                "INSERT INTO albums (id, book_id, title)
                 VALUES ($1::text::uuid, '00000000-0000-0000-0000-0000000002ff', $2)",
                &[&album(n), &format!("album {n}")],
            )
            .unwrap();
    }
    for n in 0..IMAGES {
        client
            .execute(
                "INSERT INTO images (id, url, alt_text, description)
                 VALUES ($1::text::uuid, 'https://img/' || $2, 'alt ' || $2, 'description ' || $2)",
                &[&image(n), &n.to_string()],
            )
            .unwrap();
        for a in 0..3 {
            client
                .execute(
                    "INSERT INTO album_images (album_id, image_id) VALUES ($1::text::uuid, $2::text::uuid)",
                    &[&album((n + a) % ALBUMS), &image(n)],
                )
                .unwrap();
        }
    }
}

const EDIT_IMAGE: &str = "UPDATE images SET alt_text = $2, description = coalesce($3, description)
                          WHERE id = $1::text::uuid";
const EDIT_ALBUM_ROW: &str =
    "UPDATE album_images SET alt_text = coalesce($3, alt_text), description = $4
                              WHERE album_id = $1::text::uuid AND image_id = $2::text::uuid";
const ADD_ALBUM_ROW: &str = "INSERT INTO album_images (album_id, image_id)
                             VALUES ($1::text::uuid, $2::text::uuid) ON CONFLICT DO NOTHING";
const REMOVE_ALBUM_ROW: &str =
    "DELETE FROM album_images WHERE album_id = $1::text::uuid AND image_id = $2::text::uuid";

/// One random operation (some are two-statement transactions, to vary the lock orders).
fn operation(client: &mut Client, rng: &mut Rng, value: &str) -> Result<(), Error> {
    let (img, alb) = (image(rng.below(IMAGES)), album(rng.below(ALBUMS)));
    let other = image(rng.below(IMAGES));
    let maybe = |rng: &mut Rng| (rng.below(2) == 0).then(|| value.to_string());
    match rng.below(10) {
        0..=2 => client.execute(EDIT_IMAGE, &[&img, &value, &maybe(rng)])?,
        3..=5 => client.execute(EDIT_ALBUM_ROW, &[&alb, &img, &maybe(rng), &value])?,
        6 | 7 => client.execute(ADD_ALBUM_ROW, &[&alb, &img])?,
        8 => client.execute(REMOVE_ALBUM_ROW, &[&alb, &img])?,
        _ => {
            let mut tx = client.transaction()?;
            if rng.below(2) == 0 {
                tx.execute(ADD_ALBUM_ROW, &[&alb, &img])?;
            } else {
                tx.execute(EDIT_ALBUM_ROW, &[&alb, &img, &Some(value), &value])?;
            }
            tx.execute(EDIT_IMAGE, &[&other, &value, &maybe(rng)])?;
            tx.commit()?;
            0
        }
    };
    Ok(())
}

#[derive(Default)]
struct Outcome {
    committed: usize,
    deadlocks: usize,
    serialization_failures: usize,
}

fn writer(mut client: Client, id: usize, start: &Barrier) -> Outcome {
    client
        .batch_execute("SET deadlock_timeout = '20ms'")
        .unwrap();
    let mut rng = Rng::new(id as u64 + 1);
    let mut outcome = Outcome::default();
    start.wait();
    for n in 0..OPERATIONS {
        let value = format!("writer {id} operation {n}");
        // The same random choices on every attempt: a retry repeats the operation.
        let state = rng.0;
        loop {
            rng.0 = state;
            match operation(&mut client, &mut rng, &value) {
                Ok(()) => break,
                Err(err) if is_retryable(&err) => {
                    if err.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED) {
                        outcome.deadlocks += 1;
                    } else {
                        outcome.serialization_failures += 1;
                    }
                    thread::sleep(Duration::from_micros(200 * (1 + id as u64)));
                }
                Err(err) => panic!("writer {id}, operation {n}: {err:?}"),
            }
        }
        outcome.committed += 1;
    }
    outcome
}

/// Counts divergent album rows in committed snapshots while the writers run: every commit
/// leaves both tables equal, so any snapshot must see zero. (The final state alone would
/// miss most faults: the next edit of an image heals its album rows.)
fn observer(mut client: Client, done: &AtomicBool) -> (usize, i64) {
    let (mut checks, mut worst) = (0, 0);
    while !done.load(Ordering::Relaxed) {
        worst = worst.max(count(&mut client, DIVERGENT));
        checks += 1;
    }
    (checks, worst)
}

on_both_syncs!(eight_writers_on_both_tables_never_leave_an_album_row_divergent);

fn eight_writers_on_both_tables_never_leave_an_album_row_divergent(sync: &AlbumSync) {
    let db = sync.migrated_to(2);
    let mut client = db.connect();
    seed(&mut client);
    let start = Arc::new(Barrier::new(WRITERS));
    let done = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (connection, start) = (db.connect(), Arc::clone(&start));
            thread::spawn(move || writer(connection, id, &start))
        })
        .collect();
    let watch = {
        let (connection, done) = (db.connect(), Arc::clone(&done));
        thread::spawn(move || observer(connection, &done))
    };
    let outcomes: Vec<Outcome> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    let (checks, worst) = watch.join().unwrap();
    let committed: usize = outcomes.iter().map(|o| o.committed).sum();
    let deadlocks: usize = outcomes.iter().map(|o| o.deadlocks).sum();
    let serialization_failures: usize = outcomes.iter().map(|o| o.serialization_failures).sum();
    let retries = deadlocks + serialization_failures;
    let divergent = count(&mut client, DIVERGENT);
    let album_rows = count(&mut client, "SELECT count(*) FROM album_images");
    // Printed, and part of every failure message: how hard the writers collided.
    let summary = format!(
        "album sync stress: {committed} operations committed by {WRITERS} writers in {:.1?}, \
         {retries} retried ({deadlocks} deadlocks, {serialization_failures} serialization \
         failures); {checks} snapshots checked while running (worst: {worst} divergent); at \
         the end {album_rows} album rows, {divergent} divergent",
        began.elapsed()
    );
    eprintln!("{summary}");
    assert_eq!(committed, WRITERS * OPERATIONS, "{summary}");
    assert!(
        checks > 0,
        "the observer checked while the writers ran: {summary}"
    );
    assert_eq!(
        worst, 0,
        "a committed snapshot had divergent rows: {summary}"
    );
    assert_eq!(divergent, 0, "{summary}");
    assert!(
        album_rows > 0,
        "the writers left album rows to compare: {summary}"
    );
}

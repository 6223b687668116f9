//! An async (tokio) program that migrates its database before serving: this repository's
//! migrations, compiled in with `embed_migrations!`, applied to the database named by
//! `DATABASE_URL` (or the first argument), then its status printed.
//!
//! pgstrata's calls are synchronous. Called straight from async code they work (each runs its
//! database work on a thread of its own) but hold the calling worker until they return; in a
//! server, `spawn_blocking` keeps the workers free, as below for `up`.
//!
//! ```text
//! cargo run --example library_tokio -- postgres://app@localhost/app
//! ```

use std::process::ExitCode;

use pgstrata::{Migrations, Migrator};

static PROJECT: pgstrata::Embedded = pgstrata::embed_migrations!(".");

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
    else {
        eprintln!("usage: library_tokio DATABASE_URL (or set DATABASE_URL)");
        return ExitCode::from(2);
    };
    match run(url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error ({}): {err}", err.kind().name());
            ExitCode::from(2)
        }
    }
}

async fn run(url: String) -> Result<(), pgstrata::Error> {
    let migrations = Migrations::embedded(&PROJECT)?;
    // On the blocking pool: a long migration does not hold a worker thread.
    let applied = {
        let (migrations, url) = (migrations.clone(), url.clone());
        tokio::task::spawn_blocking(move || Migrator::new(&migrations).up(url.as_str()))
            .await
            .expect("the migration task does not panic")?
    };
    for step in &applied.steps {
        println!("applied V{} {}", step.version, step.name);
    }
    // Straight from async code: fine for a quick read.
    let status = Migrator::new(&migrations).status(url.as_str())?;
    for version in &status.versions {
        println!("V{} {} {:?}", version.version, version.name, version.state);
    }
    println!("clean: {}", status.clean);
    Ok(())
}

//! A synchronous program that brings its database up to date at start-up: this repository's
//! migrations, rollbacks and views are compiled into it with `embed_migrations!`, applied to
//! the database named by `DATABASE_URL` (or the first argument), and its status printed.
//!
//! ```text
//! cargo run --example library_sync -- postgres://app@localhost/app
//! ```

use std::process::ExitCode;

use pgstrata::{Migrations, Migrator};

/// The project at the root of this crate (`migrations/`, `rollbacks/`, `views/`).
static PROJECT: pgstrata::Embedded = pgstrata::embed_migrations!(".");

fn main() -> ExitCode {
    let Some(url) = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
    else {
        eprintln!("usage: library_sync DATABASE_URL (or set DATABASE_URL)");
        return ExitCode::from(2);
    };
    match run(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `kind().name()` is what a JSON report of the CLI calls `error.kind`.
            eprintln!("error ({}): {err}", err.kind().name());
            if let Some(report) = err.report() {
                eprintln!(
                    "applied before the error: {} migrations",
                    report.steps.len()
                );
            }
            ExitCode::from(2)
        }
    }
}

fn run(url: &str) -> Result<(), pgstrata::Error> {
    let migrations = Migrations::embedded(&PROJECT)?;
    let migrator = Migrator::new(&migrations);
    let report = migrator.up(url)?;
    for step in &report.steps {
        println!(
            "applied V{} {} in {} ms",
            step.version,
            step.name,
            step.duration.as_millis()
        );
    }
    for view in &report.views {
        println!("view {} {}", view.view, view.action);
    }
    let status = migrator.status(url)?;
    for version in &status.versions {
        println!("V{} {} {:?}", version.version, version.name, version.state);
    }
    println!("clean: {}", status.clean);
    Ok(())
}

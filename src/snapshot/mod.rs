//! Schema snapshots: the database's schema as deterministic, executable SQL text, and the
//! comparison of two such texts.
//!
//! [`take`] (or [`take_parallel`], the same over two connections) reads the catalog
//! (`introspect`, one set-based query per object kind under `queries/`, definitions from
//! the server's own `pg_get_*def` and `format_type`), and
//! [`Snapshot::render`] turns it into text (`render`, ordered by `order`). [`compare`]
//! and [`colorize`] (`diff`) work on texts only. Nothing here prints, and nothing here uses
//! pg_dump, whose output depends on the client version and on creation order.
//!
//! # The text
//!
//! A short preamble sets what loading needs (`check_function_bodies = off`, an empty search
//! path: every name in the text is schema-qualified). Then one block per object, separated
//! by an empty line, each opening with a header line `-- <kind> <name>`:
//!
//! | header | object |
//! |---|---|
//! | `-- schema app` | `CREATE SCHEMA IF NOT EXISTS` |
//! | `-- extension citext` | `CREATE EXTENSION IF NOT EXISTS ... VERSION` |
//! | `-- collation app.ci` | `CREATE COLLATION` |
//! | `-- type app.mood` | enum, range or composite type |
//! | `-- domain app.positive` | domain with its constraints |
//! | `-- function app.f(integer, text)` | function (input argument types) |
//! | `-- procedure app.p(integer)` | procedure |
//! | `-- aggregate app.total(integer)` | aggregate |
//! | `-- operator app.<<<(integer, integer)` | `CREATE OPERATOR` (`NONE` for a prefix operator's left) |
//! | `-- operator family app.abs_ops USING btree` | `CREATE OPERATOR FAMILY`, then `ALTER ... ADD` its loose members |
//! | `-- operator class app.abs_int4_ops USING btree` | `CREATE OPERATOR CLASS ... AS` its own members |
//! | `-- conversion app.latin1_to_utf8` | `CREATE [DEFAULT] CONVERSION` |
//! | `-- text search parser app.words` | also `template`, `dictionary` (options sorted) and |
//! | | `configuration` (`PARSER`, then one `ADD MAPPING` per token type, sorted) |
//! | `-- cast (app.mood AS text)` | cast (of the whole database: kept when its types and function are) |
//! | `-- foreign-data wrapper w` | `CREATE FOREIGN DATA WRAPPER` (not an extension's) |
//! | `-- foreign server s` | `CREATE SERVER` with its options, secrets left out |
//! | `-- user mapping for r server s` | `CREATE USER MAPPING` (`CURRENT_USER` for the server's owner), secrets left out |
//! | `-- sequence app.s` | stand-alone sequence |
//! | `-- table app.images` | table with its columns, RLS switches, column settings |
//! | | (a child table: its own columns, `INHERITS`, then what differs from its parents) |
//! | `-- foreign table app.remote` | `CREATE FOREIGN TABLE ... SERVER ... OPTIONS`, column options after it |
//! | `-- sequence ownership app.s` | `ALTER SEQUENCE ... OWNED BY`, after its table |
//! | `-- constraint app.images images_pkey` | table constraint (foreign keys last) |
//! | `-- index app.images_url_idx` | index not behind a constraint |
//! | `-- statistics app.images_stats` | extended statistics object and its target |
//! | `-- view app.v` / `-- materialized view app.m` | views (`WITH NO DATA`; a view's column defaults) |
//! | `-- trigger app.images trg` | trigger and whether it is enabled |
//! | `-- rule app.images r` | rewrite rule and whether it is enabled |
//! | `-- policy app.images p_read` | row-level security policy |
//! | `-- publication p` | `CREATE PUBLICATION`, its schemas and tables (column lists, row filters) |
//! | `-- default privileges in schema app on tables` | `ALTER DEFAULT PRIVILEGES` relative to the built-in defaults |
//! | `-- event trigger e` | `CREATE EVENT TRIGGER` and whether it is enabled |
//!
//! An index that is not valid (what an interrupted `CREATE INDEX CONCURRENTLY` or `REINDEX
//! CONCURRENTLY` leaves) has comment lines after its definition, `-- INVALID, not ready: …`
//! and `-- to fix: DROP INDEX CONCURRENTLY …`: no statement builds an invalid index, so the
//! state is a comment, which still makes the block differ (see `render/attached.rs`).
//!
//! A name in a header is bare when it is a plain lower-case identifier and double-quoted
//! otherwise; in SQL every name is quoted by [`crate::db::quote_ident`]. Comments and
//! privileges (GRANT/REVOKE relative to the object's default ACL, owners left out) sit in the
//! block of the object they are on, so a changed column comment reports `~ table ...`. The
//! owner's own rights are written relative to its defaults (all rights) as `REVOKE ... FROM
//! CURRENT_USER` / `GRANT ... TO CURRENT_USER`: whoever loads a snapshot owns what it
//! creates, so the text does not depend on who owned the original. A trigger that a
//! partition inherits from its partitioned table and that is switched apart from its
//! parent's gets an `ALTER TABLE <partition> ... TRIGGER` line in the block of the trigger
//! `CREATE TRIGGER` made.
//!
//! Blocks come in the order of the table above, then by schema and name (bytes, not a
//! collation), except where the catalog records a dependency that needs an object earlier:
//! a view on a view, an index on a materialized view, a function's `BEGIN ATOMIC` body.
//! Nothing in the text depends on oids, creation order, dropped-column gaps, data
//! (sequence positions, row counts, statistics), the owner, or the client's settings.
//!
//! [`split_blocks`] finds a header only after an empty line and before a line starting with
//! `CREATE` or `ALTER`, so that a comment inside a function body rarely passes for one.
//!
//! # Delta files
//!
//! A project commits one file per migration, `schema-snapshots/V{n}__{name}.sql`, holding
//! only what that migration changed (`delta`): its first line is [`DELTA_HEADER`], then one
//! line `-- dropped: <kind> <name>` ([`DROPPED`], the name as its block header had it) for
//! each object the migration removed, then the whole block (header line included, exactly as
//! above) of each object it added or changed. `grep -- '-- dropped:' schema-snapshots/`
//! lists every removal. The schema at version n is the fold of the files up to n: start from
//! no blocks, and for each file drop what it marks and put in (or replace) its blocks. A
//! file without the delta header is a whole snapshot (the layout before deltas): folding it
//! replaces everything. Next to them, `schema-snapshots/schema.sql` holds the whole schema
//! at the newest migration, as [`Snapshot::render`] writes it. Order carries no meaning in
//! a fold; comparisons write the folded schema in the actual text's order first.
//!
//! # Not covered
//!
//! Subscriptions: creating one needs a reachable publisher, and its connection string may
//! hold a password. Base types, access methods, procedural languages and transforms.
//! Tablespaces, owners and secret options of wrappers, servers and user mappings
//! (passwords...) are left out on purpose: they differ between a CI server and production,
//! and a password must not reach a file. The pg_dump oracle (`tests/it/snapshot/oracle.rs`)
//! lists what it knowingly allows.
//!
//! Default privileges name the role taking the snapshot `CURRENT_USER` (no `FOR ROLE`), as
//! the role that runs the migrations: loading the snapshot gives them to whoever loads it.

mod classify;
mod delta;
mod diff;
mod introspect;
mod model;
mod order;
mod render;
mod scope;
mod sql;

use anyhow::Result;
use postgres::Client;

pub use classify::{Classified, DifferenceClass, classify};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub use delta::{DELTA_HEADER, DROPPED};
pub use delta::{Delta, Schema, SnapshotFile, parse_file};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub use diff::{Block, Blocks, Change, ChangeKind, Comparison, PREAMBLE_OBJECT};
pub use diff::{colorize, compare, split_blocks};
pub use scope::{refuse_blind_spots, refuse_blind_spots_in};

/// The kinds a block header can name, as its first word(s).
pub const HEADER_KINDS: &[&str] = &[
    "schema",
    "extension",
    "collation",
    "type",
    "domain",
    "function",
    "procedure",
    "aggregate",
    "cast",
    "operator",
    "operator family",
    "operator class",
    "conversion",
    "text search parser",
    "text search template",
    "text search dictionary",
    "text search configuration",
    "sequence",
    "sequence ownership",
    "table",
    "constraint",
    "index",
    "statistics",
    "view",
    "materialized view",
    "trigger",
    "rule",
    "policy",
    "foreign table",
    "foreign-data wrapper",
    "foreign server",
    "user mapping",
    "publication",
    "default privileges",
    "event trigger",
];

/// Which schemas a snapshot covers. System schemas (`pg_catalog`, `information_schema`,
/// `pg_toast*`, `pg_temp*`) and schemas an extension owns are always left out.
#[derive(Clone, Debug, Default)]
pub struct SnapshotOptions {
    /// Schemas to leave out; the caller always puts pgstrata's history schema here.
    pub exclude_schemas: Vec<String>,
    /// Only these schemas, when given; `None` means every non-system schema.
    pub include_schemas: Option<Vec<String>>,
}

impl SnapshotOptions {
    /// Whether a schema of this name is part of the snapshot.
    pub fn keeps(&self, schema: &str) -> bool {
        !scope::is_system(schema)
            && !self.exclude_schemas.iter().any(|s| s == schema)
            && self
                .include_schemas
                .as_ref()
                .is_none_or(|include| include.iter().any(|s| s == schema))
    }
}

/// A database's schema as read from its catalog.
#[derive(Debug)]
pub struct Snapshot {
    model: model::Model,
}

impl Snapshot {
    /// The snapshot text: deterministic, valid SQL, one block per object.
    pub fn render(&self) -> String {
        render::render(&self.model)
    }
}

/// Reads the schema of the database `client` is connected to, in one read-only transaction.
/// Session settings are changed for that transaction only.
pub fn take(client: &mut Client, options: &SnapshotOptions) -> Result<Snapshot> {
    let model = introspect::read(client, options)?;
    Ok(Snapshot { model })
}

/// Takes snapshots of one connection's database again and again (as `check` does, three
/// per migration), with the catalog queries prepared on it once: the server then plans them
/// a few times, not every time. One `Reader` serves one connection.
#[derive(Default)]
pub struct Reader {
    prepared: introspect::Prepared,
}

impl Reader {
    /// Like [`take`]; `client` must be the connection of every earlier call.
    pub fn take(&mut self, client: &mut Client, options: &SnapshotOptions) -> Result<Snapshot> {
        let model = self
            .prepared
            .reading(|| introspect::read(client, options))?;
        Ok(Snapshot { model })
    }
}

/// Like [`take`], over two connections to `conninfo` that share one catalog snapshot
/// (`pg_export_snapshot`), so that the server reads the catalog on two cores at once: on a
/// large schema, most of a snapshot's time is the server printing definitions. The text is
/// the same as [`take`]'s.
pub fn take_parallel(
    conninfo: &crate::conninfo::ConnInfo,
    options: &SnapshotOptions,
) -> Result<Snapshot> {
    let model = introspect::read_parallel(conninfo, options)?;
    Ok(Snapshot { model })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_leave_out_system_and_excluded_schemas() {
        let options = SnapshotOptions {
            exclude_schemas: vec!["pgstrata".into()],
            include_schemas: None,
        };
        for schema in [
            "pg_catalog",
            "information_schema",
            "pg_toast",
            "pg_temp_3",
            "pgstrata",
        ] {
            assert!(!options.keeps(schema), "{schema}");
        }
        for schema in ["public", "app", "pg_tempest", "Pgstrata"] {
            assert!(options.keeps(schema), "{schema}");
        }
    }

    #[test]
    fn include_schemas_limits_the_snapshot() {
        let options = SnapshotOptions {
            exclude_schemas: vec!["b".into()],
            include_schemas: Some(vec!["a".into(), "b".into(), "pg_catalog".into()]),
        };
        assert!(options.keeps("a"));
        assert!(!options.keeps("b"), "exclusion wins");
        assert!(!options.keeps("c"));
        assert!(
            !options.keeps("pg_catalog"),
            "system schemas are never kept"
        );
    }
}

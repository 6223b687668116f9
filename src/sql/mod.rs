//! SQL as PostgreSQL reads it. Every file pgstrata runs is split into statements and each
//! statement classified by libpg_query, PostgreSQL's own parser (the pg_query crate), never by
//! a hand-written lexer: a nested comment, a dollar quote or a `BEGIN ATOMIC` body is read
//! exactly as the server reads it. The parser decides boundaries and kinds; the server stays
//! the judge of validity (libpg_query's grammar is PostgreSQL 18's, which accepts a little
//! that older servers refuse).
//!
//! Like the server's default, the parser reads strings with `standard_conforming_strings =
//! on`; pgstrata refuses servers and files that turn it off (see `migrate::session` and the loader).
//! Pure: nothing here touches a database.

mod classify;
pub mod lint;
mod parse;
pub mod text;
mod view;

#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub use classify::{Class, IndexName, ReindexTarget, TransactionControl};
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub use parse::{Statement, SyntaxError, check_syntax, parse, with_room};
pub use view::{Definition, RelationName, ViewRole};

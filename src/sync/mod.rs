//! The trigger toolkit: sync triggers generated from a spec (`sync/{name}.toml`). A spec says
//! what to keep equal: parent columns copied into the child rows that reference them (`copy`),
//! or two columns of one table during an expand/contract change (`column`). `spec` parses it
//! (pure); `resolve` reads what the project's migrations make of the tables it names;
//! `generate` writes the migration and rollback that create the triggers (pure). Proving the
//! triggers convergent (`sync verify`) lives beside them. Nothing here prints.

pub mod generate;
pub mod resolve;
pub mod spec;
pub mod verify;

//! The trigger toolkit: sync specs (`sync/*.toml`), the triggers generated from them, and
//! `verify`, which proves a project's sync triggers convergent under concurrent writers.

pub mod verify;

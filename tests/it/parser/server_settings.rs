//! Servers that read strings differently from the parser.

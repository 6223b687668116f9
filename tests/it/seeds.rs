//! The repository's own migrations solve the seed documents' problems (see ../shared/seeds).

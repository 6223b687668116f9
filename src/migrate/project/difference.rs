//! The classes of difference a rollback can leave between the schema before its migration
//! and after it, as `check` names them and as `-- pgstrata:inexact CLASS <reason>` in a
//! rollback accepts one of them for that migration (`snapshot::classify` tells them apart).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A class of difference between two schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceClass {
    /// The same columns in another order (a dropped column added again lands at the end).
    ColumnOrder,
    /// A column default, a comment or a privilege differs.
    DefaultCommentPrivilege,
    /// An object is missing or extra.
    ObjectMissingOrExtra,
    /// Anything else: a type, a constraint, a body… Never accepted.
    Definition,
}

impl DifferenceClass {
    /// The classes a rollback may accept, by name.
    pub const ACCEPTABLE: [DifferenceClass; 3] = [
        DifferenceClass::ColumnOrder,
        DifferenceClass::DefaultCommentPrivilege,
        DifferenceClass::ObjectMissingOrExtra,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DifferenceClass::ColumnOrder => "column-order",
            DifferenceClass::DefaultCommentPrivilege => "default-comment-privilege",
            DifferenceClass::ObjectMissingOrExtra => "object-missing-or-extra",
            DifferenceClass::Definition => "definition",
        }
    }

    /// An acceptable class by its name.
    pub fn acceptable(name: &str) -> Option<DifferenceClass> {
        Self::ACCEPTABLE.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for DifferenceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

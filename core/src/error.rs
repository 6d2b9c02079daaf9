//! The one validation error: which field is at fault and why, in words a
//! person (or a model) can act on.

use std::fmt;

/// Input that could not be parsed into a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// The field at fault, as the API names it (`title`, `due`, `tags[2]`, ...).
    pub field: String,
    /// Why it was refused, phrased so the caller knows how to fix it.
    pub reason: String,
}

impl Invalid {
    /// A validation error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

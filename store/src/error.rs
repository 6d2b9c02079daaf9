//! The typed errors of every store operation. The API maps them to problem
//! details and the MCP server to tool errors, each in one place.

use taskflow_core::Invalid;

/// A store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was not valid; names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such task for this user (another user's task is "not found" too).
    #[error("not found")]
    NotFound,
    /// The task changed since the version the caller last saw.
    #[error("the task is at version {current}, not the expected version")]
    Conflict {
        /// The task's current version.
        current: i64,
    },
    /// No such list for this user, named by `field` (another user's list is
    /// "not found" too).
    #[error("no such list (`{field}`)")]
    NoSuchList { field: &'static str },
    /// A rule of lists and tasks refuses the change, such as a write to an
    /// archived list (`list_archived`); `code` is the stable problem code.
    #[error("{detail}")]
    Refused {
        code: &'static str,
        /// The input field at fault.
        field: &'static str,
        detail: String,
    },
    /// The idempotency key was used before with a different request.
    #[error("the idempotency key was already used for a different request")]
    IdempotencyMismatch,
    /// The database is overloaded or unreachable; try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else; logged, never shown.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl Error {
    /// A [`Error::Refused`].
    pub(crate) fn refused(
        code: &'static str,
        field: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Error::Refused {
            code,
            field,
            detail: detail.into(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(err)
            }
            sqlx::Error::Database(ref db) if db.code().as_deref().is_some_and(busy) => {
                Error::Unavailable(err)
            }
            other => Error::Internal(other.to_string()),
        }
    }
}

/// Database error codes that mean "busy, try again" rather than a fault:
/// SQLite's BUSY and LOCKED (with their extended codes) after the busy
/// timeout; PostgreSQL's lock and statement timeouts, too many connections,
/// serialization failures and deadlocks.
fn busy(code: &str) -> bool {
    matches!(
        code,
        "5" | "6" | "261" | "517" | "773" | "55P03" | "57014" | "53300" | "40001" | "40P01"
    )
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration failed: {err}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Internal(format!("JSON: {err}"))
    }
}

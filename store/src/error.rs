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
    /// The caller reaches the list but their role there is lower than
    /// `needed` (a viewer's write, an editor's change of members).
    #[error("this needs the {} role in the list", needed.as_str())]
    Forbidden { needed: taskflow_core::Role },
    /// No user has the username given in `field`.
    #[error("no user has that username (`{field}`)")]
    NoSuchUser { field: &'static str },
    /// An assignee is neither the list's owner nor a member who may see it
    /// (whether or not such a user exists).
    #[error("`{user}` is not a member of the task's list")]
    AssigneeNotMember { user: String },
    /// A rule of lists and tasks refuses the change, such as a write to an
    /// archived list (`list_archived`); `code` is the stable problem code.
    #[error("{detail}")]
    Refused {
        code: &'static str,
        /// The input field at fault.
        field: &'static str,
        detail: String,
    },
    /// A changes cursor behind the retention horizon (or one this server
    /// never issued): read everything again, then follow from `latest`.
    #[error("the cursor is older than the changes still held (from {oldest})")]
    CursorExpired {
        /// The oldest sequence still held.
        oldest: i64,
        /// The newest sequence committed.
        latest: i64,
    },
    /// An import document at fault: every bad entry, each naming where it
    /// is (`tasks[3].due`). Nothing was written.
    #[error("the import document has {} problem(s)", .0.len())]
    ImportInvalid(Vec<Invalid>),
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
            // Every check passed, then the list the row points to went: a
            // create or move raced a deletion of its list (or parent list).
            sqlx::Error::Database(ref db)
                if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation =>
            {
                Error::refused(
                    "list_deleted",
                    "list",
                    "the list was deleted while this change was being made; \
                     choose another list and try again",
                )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A row pointing at a list that is gone, as the database refuses it,
    /// is a `list_deleted` refusal, not an internal error.
    #[tokio::test]
    async fn a_dangling_reference_is_a_refusal_naming_the_list() {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE folders (id INTEGER PRIMARY KEY); \
             CREATE TABLE notes (id INTEGER PRIMARY KEY, folder_id INTEGER REFERENCES folders (id))",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let err = sqlx::query("INSERT INTO notes (folder_id) VALUES (7)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        match Error::from(err) {
            Error::Refused { code, field, .. } => {
                assert_eq!((code, field), ("list_deleted", "list"))
            }
            other => panic!("{other:?}"),
        }
    }
}

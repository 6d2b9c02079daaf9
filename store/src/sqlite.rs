//! The SQLite edition: one writer connection and a pool of readers over a WAL
//! database. A single writer means write transactions never fight over the
//! lock (no SQLITE_BUSY under load) and per-user order is commit order;
//! readers never block it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::Result;

/// The reader and writer pools of one SQLite database.
#[derive(Debug, Clone)]
pub struct Pools {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

/// Opens (creating if needed) the database at `url` (`sqlite://path`).
pub async fn open_url(url: &str) -> Result<Pools> {
    open(SqliteConnectOptions::from_str(url)?).await
}

/// Opens (creating if needed) the database file at `path`.
pub async fn open_file(path: &Path) -> Result<Pools> {
    open(SqliteConnectOptions::new().filename(path)).await
}

async fn open(options: SqliteConnectOptions) -> Result<Pools> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable against application crashes in WAL mode; a power
        // loss may lose the last commits but never corrupts the database.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // A connection to a local file does not go stale; skipping the ping
    // before each acquire saves a round trip to the connection's thread.
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    let name = options.get_filename();
    if name.as_os_str().is_empty() || name == Path::new(":memory:") {
        // An in-memory database exists only on its one connection.
        return Ok(Pools {
            read: write.clone(),
            write,
        });
    }
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.read_only(true))
        .await?;
    Ok(Pools { read, write })
}

pub mod sql {
    use super::Pools;

    type Db = sqlx::Sqlite;

    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

    /// SQLite has one writer connection, which already serialises writers.
    async fn lock_user(_tx: &mut sqlx::Transaction<'static, Db>, _user: &str) -> crate::Result<()> {
        Ok(())
    }

    /// Readers of a SQLite database in this process are woken in-process.
    async fn notify_outbox(_tx: &mut sqlx::Transaction<'static, Db>) -> crate::Result<()> {
        Ok(())
    }

    include!("sql.rs");
}

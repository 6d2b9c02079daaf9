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
use tokio::sync::mpsc;

use crate::Result;
use crate::tasks::batch::MAX_BATCH;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// One writer: every committed event is settled.
pub(super) const SETTLED: &str = "";

/// The reader and writer pools of one SQLite database.
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    pub read: SqlitePool,
    pub write: SqlitePool,
    /// Told after each batch of creates, to copy the log back (see
    /// [`checkpoints`]); None for an in-memory database.
    checkpoint: Option<mpsc::Sender<()>>,
}

impl Pools {
    /// Notes that a batch committed: the log has grown.
    pub fn log_grew(&self) {
        if let Some(checkpoint) = &self.checkpoint {
            let _ = checkpoint.try_send(());
        }
    }
}

/// Opens (creating if needed) the database at `url` (`sqlite://path`).
pub(super) async fn open_url(url: &str) -> Result<Pools> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return open_in_memory(SqliteConnectOptions::from_str(url)?).await;
    }
    open(SqliteConnectOptions::from_str(url)?).await
}

/// Opens (creating if needed) the database file at `path`.
pub(super) async fn open_file(path: &Path) -> Result<Pools> {
    open(SqliteConnectOptions::new().filename(path)).await
}

/// An in-memory database lives only as long as its one connection: keep
/// exactly one, forever, for reads and writes alike.
async fn open_in_memory(options: SqliteConnectOptions) -> Result<Pools> {
    let pool = SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(options.foreign_keys(true))
        .await?;
    Ok(Pools {
        read: pool.clone(),
        write: pool,
        checkpoint: None,
    })
}

async fn open(options: SqliteConnectOptions) -> Result<Pools> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable against application crashes in WAL mode; a power
        // loss may lose the last commits but never corrupts the database.
        .synchronous(SqliteSynchronous::Normal)
        // The writer copies the log back itself only past 16 MiB (a safety
        // net): `checkpoints` does it on another connection, so a commit
        // seldom waits for a checkpoint's writes and fsyncs (docs/decisions).
        .pragma("wal_autocheckpoint", "4096")
        // The log file is cut back to this size after a checkpoint.
        .pragma("journal_size_limit", "67108864")
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // A connection to a local file does not go stale; skipping the ping
    // before each acquire saves a round trip to the connection's thread.
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(
            options
                .clone()
                // A batch answers a handful of items per create (a result
                // per statement, an id): buffer a whole batch's, so the
                // connection's thread never stops mid-batch.
                .row_buffer_size(MAX_BATCH * 8)
                // Each batch size is its own statement: keep them all
                // prepared.
                .statement_cache_capacity(512),
        )
        .await?;
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone().read_only(true))
        .await?;
    let checkpoint = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    let (grown, log) = mpsc::channel(1);
    tokio::spawn(checkpoints(checkpoint, log));
    Ok(Pools {
        read,
        write,
        checkpoint: Some(grown),
    })
}

/// The least time between two background checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Runs a passive checkpoint (one that never blocks the writer or readers)
/// after commits, at most every [`CHECKPOINT_EVERY`]: the log's pages are
/// copied into the database and synced here, off the writer's thread. Ends
/// when every copy of the pools (which signal on `log`) is gone.
async fn checkpoints(pool: SqlitePool, mut log: mpsc::Receiver<()>) {
    while log.recv().await.is_some() {
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %err, "background checkpoint failed; the writer's own will do");
        }
        tokio::time::sleep(CHECKPOINT_EVERY).await;
    }
    pool.close().await;
}

//! The SQLite edition: one writer connection and a pool of readers over a WAL
//! database. A single writer means write transactions never fight over the
//! lock (no SQLITE_BUSY under load) and per-user order is commit order;
//! readers never block it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Executor as _;
use sqlx::migrate::Migrate as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::mpsc;

use crate::Result;
use crate::tasks::batch::MAX_BATCH;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The schema the migrations end with, as SQLite records it: a new database
/// is made from it at once (see [`migrate`]). Generated, never edited: the
/// test `a_new_database_has_the_schema_the_migrations_make` checks it and,
/// with `UPDATE_SCHEMAS=1`, writes it again.
const SCHEMA: &str = include_str!("../../schema/sqlite.sql");

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

/// Applies every pending migration, in one transaction (each migration in
/// its own savepoint, as sqlx nests them): an upgrade is all or nothing.
/// A new database skips the history: [`SCHEMA`] is what the migrations end
/// with, and every migration is recorded as applied. SQLite re-reads its
/// whole schema after each `ALTER TABLE`, so replaying the history took
/// most of a first start (decision 0036).
pub(super) async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    // IMMEDIATE: the write lock first (waiting out another process's
    // start), so no one writes between "is it new?" and making it.
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
    let objects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master")
        .fetch_one(&mut *tx)
        .await?;
    if objects == 0 {
        create(&mut tx).await?;
    }
    MIGRATOR.run_direct(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes [`SCHEMA`] in a new database and records every migration as
/// applied, as sqlx would have after running them.
async fn create(conn: &mut SqliteConnection) -> Result<()> {
    conn.execute(SCHEMA).await?;
    conn.ensure_migrations_table().await?;
    for migration in MIGRATOR.iter() {
        if migration.migration_type.is_down_migration() {
            continue;
        }
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (?1, ?2, TRUE, ?3, 0)",
        )
        .bind(migration.version)
        .bind(&*migration.description)
        .bind(&*migration.checksum)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's objects: every table, index and trigger but SQLite's
    /// and sqlx's own.
    const OBJECTS: &str = "FROM sqlite_master WHERE sql IS NOT NULL \
        AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'";

    /// A database at `path` made by replaying every migration.
    async fn replayed(path: &Path) -> Pools {
        let pools = open_file(path).await.unwrap();
        MIGRATOR.run(&pools.write).await.unwrap();
        pools
    }

    /// Every table, index and trigger, and the migrations recorded.
    async fn schema_of(pool: &SqlitePool) -> (Vec<(String, String, String)>, Vec<(i64, Vec<u8>)>) {
        let objects = sqlx::query_as(&format!("SELECT type, name, sql {OBJECTS} ORDER BY name"))
            .fetch_all(pool)
            .await
            .unwrap();
        let applied = sqlx::query_as(
            "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        (objects, applied)
    }

    #[tokio::test]
    async fn a_new_database_has_the_schema_the_migrations_make() {
        let dir = tempfile::tempdir().unwrap();
        let replayed = replayed(&dir.path().join("replayed.db")).await;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/sqlite.sql");
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            // In creation order, so each object comes after what it needs.
            let objects: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT sql {OBJECTS} ORDER BY rowid"))
                    .fetch_all(&replayed.write)
                    .await
                    .unwrap();
            let mut text = String::from(
                "-- Generated from migrations/sqlite (the schema they end with, as SQLite\n\
                 -- records it): a new database is made from this. Do not edit; run\n\
                 -- `UPDATE_SCHEMAS=1 cargo test -p taskflow-store a_new_database`.\n",
            );
            for (sql,) in objects {
                text += &format!("{sql};\n");
            }
            std::fs::write(&path, text).unwrap();
        }
        let fresh = open_file(&dir.path().join("fresh.db")).await.unwrap();
        migrate(&fresh.write).await.unwrap();
        assert_eq!(
            schema_of(&fresh.write).await,
            schema_of(&replayed.write).await,
            "{} is not what the migrations make; run with UPDATE_SCHEMAS=1",
            path.display()
        );
        // Nothing is left for a later start to apply.
        migrate(&fresh.write).await.unwrap();
        assert_eq!(
            schema_of(&fresh.write).await,
            schema_of(&replayed.write).await
        );
    }

    #[tokio::test]
    async fn two_starts_on_one_new_database_both_succeed_and_make_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let (a, b) = (
            open_file(&path).await.unwrap(),
            open_file(&path).await.unwrap(),
        );
        let (made_a, made_b) = tokio::join!(migrate(&a.write), migrate(&b.write));
        made_a.unwrap();
        made_b.unwrap();
        let replayed = replayed(&dir.path().join("replayed.db")).await;
        assert_eq!(schema_of(&a.write).await, schema_of(&replayed.write).await);
    }
}

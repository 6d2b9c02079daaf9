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
    /// Plain creates, committed together by `sql::batcher`.
    pub creates: tokio::sync::mpsc::Sender<sql::CreateJob>,
}

/// Opens (creating if needed) the database at `url` (`sqlite://path`).
pub async fn open_url(url: &str) -> Result<Pools> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return open_in_memory(SqliteConnectOptions::from_str(url)?).await;
    }
    open(SqliteConnectOptions::from_str(url)?).await
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
    Ok(Pools::new(pool.clone(), pool, None))
}

/// Opens (creating if needed) the database file at `path`.
pub async fn open_file(path: &Path) -> Result<Pools> {
    open(SqliteConnectOptions::new().filename(path)).await
}

impl Pools {
    /// Pools over `read` and `write`; with `checkpoint`, a connection that
    /// copies the write-ahead log back into the database while creates go on.
    fn new(read: SqlitePool, write: SqlitePool, checkpoint: Option<SqlitePool>) -> Pools {
        let (creates, queue) = tokio::sync::mpsc::channel(sql::MAX_BATCH * 16);
        let (grown, log) = tokio::sync::mpsc::channel(1);
        if let Some(pool) = checkpoint {
            tokio::spawn(checkpoints(pool, log));
        }
        tokio::spawn(sql::batcher(write.clone(), queue, Some(grown)));
        Pools {
            read,
            write,
            creates,
        }
    }
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
        // seldom waits for a checkpoint's writes and fsyncs. (At SQLite's
        // default of 4 MiB, the writer spent most of its time checkpointing
        // under load: creates ran at two thirds of the rate.)
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
                // per statement, an id); sqlx's default of 50 made the
                // connection's thread stop mid-batch until the batcher task
                // had drained them.
                .row_buffer_size(sql::MAX_BATCH * 8)
                // Each batch size is its own statement: keep them all
                // prepared (the default of 100 evicted some under load).
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
    Ok(Pools::new(read, write, Some(checkpoint)))
}

/// The least time between two background checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Runs a passive checkpoint (one that never blocks the writer or readers)
/// after commits, at most every [`CHECKPOINT_EVERY`]: the log's pages are
/// copied into the database and synced here, off the writer's thread. Ends
/// when the batcher, which signals commits on `log`, has ended.
async fn checkpoints(pool: SqlitePool, mut log: tokio::sync::mpsc::Receiver<()>) {
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

pub mod sql {
    use super::Pools;

    type Db = sqlx::Sqlite;

    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

    /// One writer: every committed event is settled.
    const SETTLED: &str = "";

    /// SQLite has one writer connection, which already serialises writers.
    async fn lock_user(_tx: &mut sqlx::Transaction<'static, Db>, _user: &str) -> crate::Result<()> {
        Ok(())
    }

    include!("sql.rs");

    /// Bind parameters per create in the batch statement.
    const PARAMS: usize = 30;

    /// One batch at a time: there is one writer connection.
    const BATCHES_IN_FLIGHT: usize = 1;

    /// One transaction, one statement string: for each create, the task, its
    /// event (id from `last_insert_rowid()`, also patched into the event JSON
    /// with `json_set`), its tags (id from `sqlite_sequence`) and a `SELECT`
    /// of the id. sqlx binds `$N` by number across the statements.
    async fn commit_batch(write: &sqlx::SqlitePool, batch: &[CreateJob]) -> Result<Vec<i64>> {
        let mut sql = String::from("BEGIN;");
        for i in 0..batch.len() {
            let p = |n: usize| format!("${}", i * PARAMS + n);
            let values: Vec<String> = (1..=25).map(p).collect();
            sql.push_str(&format!(
                "INSERT INTO tasks (user_id, title, title_key, description, search, completed, completed_at, \
                   priority, priority_rank, tags, due_local, timezone, due_at, deadline_at, recurrence, \
                   anchor_local, reminder_minutes, reminder_at, remind_at, snoozed_until, series_id, \
                   previous_id, version, created_at, updated_at) VALUES ({}); \
                 INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, \
                   traceparent, data) \
                   VALUES ({e}, {u}, last_insert_rowid(), 'created', {s}, {t}, {tp}, json_set({d}, \
                   '$.task_data.id', last_insert_rowid(), '$.changes.id.new', last_insert_rowid())); \
                 INSERT INTO task_tags (task_id, user_id, tag) SELECT \
                   (SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), {u}, value FROM json_each({g}); \
                 SELECT seq FROM sqlite_sequence WHERE name = 'tasks';",
                values.join(", "),
                e = p(26),
                u = p(1),
                s = p(27),
                t = p(24),
                d = p(28),
                g = p(29),
                tp = p(30),
            ));
        }
        sql.push_str("COMMIT;");
        let derived: Vec<_> = batch.iter().map(|job| job.task.derived()).collect();
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for (job, d) in batch.iter().zip(&derived) {
            let task = &job.task;
            query = bind_new_task!(query, task, d)
                .bind(job.event_id)
                .bind(job.source.as_str())
                .bind(Json(&job.body))
                .bind(Json(task.fields.tags.as_slice()))
                .bind(job.traceparent.as_deref());
        }
        let mut conn = write.acquire().await?;
        match query.fetch_all(&mut *conn).await {
            Ok(ids) if ids.len() == batch.len() => Ok(ids),
            Ok(_) => Err(Error::Internal("a batched create returned no id".into())),
            Err(err) => {
                // A statement failed inside the transaction: undo it before
                // the connection goes back to the pool.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(err.into())
            }
        }
    }
}

//! The database a Taskflow process uses: SQLite (embedded mode) or
//! PostgreSQL (distributed mode), chosen by URL at start-up.
//!
//! Everything in which the two differ is named here and written in
//! `sqlite.rs` and `postgres.rs`: the pools, the per-user write lock, the
//! relay's lease and commit announcements.
//! Statements are written once and run on either through `query.rs`.

mod postgres;
mod query;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};
use tokio::sync::{Notify, mpsc};

use crate::tasks::batch;
use crate::{Error, Result};

pub(crate) use query::{Conn, Executor, Param, Query, add_pg_array, query};

pub use sqlx::postgres::PgConnectOptions as PostgresConnectOptions;

/// Which database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// A connected database.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) engine: Engine,
    /// Woken after every commit that appended an event (in this process; on
    /// PostgreSQL the relay also listens for other processes' commits).
    committed: Arc<Notify>,
    /// Plain creates, committed together by the batcher (`tasks::batch`).
    creates: mpsc::Sender<batch::Job>,
    /// Who to wake when webhook deliveries become due (in this process).
    pub(crate) webhook_wakers: Arc<crate::webhooks::Wakers>,
}

/// The pools of one database, by engine.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Sqlite(sqlite::Pools),
    Postgres(postgres::Pools),
}

impl Database {
    /// Starts the batcher of plain creates on `engine`; it ends when the
    /// last clone of the database is dropped.
    fn new(engine: Engine) -> Self {
        let committed = Arc::new(Notify::new());
        let (creates, queue) = mpsc::channel(batch::MAX_BATCH * 16);
        tokio::spawn(batch::run(engine.clone(), queue, committed.clone()));
        Self {
            engine,
            committed,
            creates,
            webhook_wakers: Arc::default(),
        }
    }

    /// Connects to a `sqlite://path` or `postgres://…` URL.
    pub async fn connect(url: &str) -> Result<Database> {
        if url.starts_with("sqlite:") {
            Ok(Self::new(Engine::Sqlite(sqlite::open_url(url).await?)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options: PostgresConnectOptions = url.parse()?;
            Self::connect_postgres(options, 16).await
        } else {
            Err(Error::Internal(format!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://…",
                url.split('@').next_back().unwrap_or_default()
            )))
        }
    }

    /// Opens (creating if needed) the SQLite database file at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Database> {
        Ok(Self::new(Engine::Sqlite(sqlite::open_file(path).await?)))
    }

    /// Connects to PostgreSQL with a pool of `max_connections`.
    pub async fn connect_postgres(
        options: PostgresConnectOptions,
        max_connections: u32,
    ) -> Result<Database> {
        Ok(Self::new(Engine::Postgres(
            postgres::connect(options, max_connections).await?,
        )))
    }

    /// The engine behind this database.
    pub fn kind(&self) -> DatabaseKind {
        match self.engine {
            Engine::Sqlite(_) => DatabaseKind::Sqlite,
            Engine::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(p) => sqlite::migrate(&p.write).await?,
            Engine::Postgres(p) => postgres::MIGRATOR.run(&p.pool).await?,
        }
        Ok(())
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.engine {
            Engine::Sqlite(p) => {
                p.read.close().await;
                p.write.close().await;
            }
            Engine::Postgres(p) => p.pool.close().await,
        }
    }

    /// A connection for reading.
    pub(crate) async fn read(&self) -> Result<Pooled> {
        Ok(match &self.engine {
            Engine::Sqlite(p) => Pooled::Sqlite(p.read.acquire().await?),
            Engine::Postgres(p) => Pooled::Postgres(p.pool.acquire().await?),
        })
    }

    /// A connection for one write statement (autocommitted).
    pub(crate) async fn write(&self) -> Result<Pooled> {
        Ok(match &self.engine {
            Engine::Sqlite(p) => Pooled::Sqlite(p.write.acquire().await?),
            Engine::Postgres(p) => Pooled::Postgres(p.pool.acquire().await?),
        })
    }

    /// Starts a write transaction.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        let inner = match &self.engine {
            Engine::Sqlite(p) => TxInner::Sqlite(p.write.begin().await?),
            Engine::Postgres(p) => TxInner::Postgres(p.pool.begin().await?),
        };
        Ok(Tx {
            inner,
            events: Vec::new(),
            appended: false,
            committed: self.committed.clone(),
        })
    }

    /// Starts a write transaction holding `user`'s write lock: writes that
    /// read before they write take it, so two of one user's changes never
    /// interleave.
    pub(crate) async fn begin_for(&self, user: &str) -> Result<Tx> {
        self.begin_for_each(&[user]).await
    }

    /// A write transaction holding the locks of every one of `users` (see
    /// [`Database::begin_for`]), taken in one order so two such
    /// transactions never wait on each other.
    pub(crate) async fn begin_for_each(&self, users: &[&str]) -> Result<Tx> {
        let mut users = users.to_vec();
        users.sort_unstable();
        users.dedup();
        let mut tx = self.begin().await?;
        if let TxInner::Postgres(pg) = &mut tx.inner {
            for user in users {
                postgres::lock_user(pg, user).await?;
            }
        }
        // SQLite: the one writer connection already serialises writers.
        Ok(tx)
    }

    /// Queues a plain create for the batcher.
    pub(crate) async fn queue_create(&self, job: batch::Job) -> Result<()> {
        self.creates
            .send(job)
            .await
            .map_err(|_| Error::Unavailable(sqlx::Error::PoolClosed))
    }

    /// Woken after commits that appended events (see [`Database::committed`]).
    pub(crate) fn commits(&self) -> &Arc<Notify> {
        &self.committed
    }

    /// Takes the relay's lease if no other process holds it.
    pub(crate) async fn try_relay_lease(&self) -> Result<Option<RelayLease>> {
        match &self.engine {
            // The database file belongs to this process.
            Engine::Sqlite(_) => Ok(Some(RelayLease::Local)),
            Engine::Postgres(p) => Ok(postgres::try_relay_lock(p)
                .await?
                .map(|conn| RelayLease::Postgres(Box::new(conn)))),
        }
    }

    /// On PostgreSQL, forwards every process's commit announcements to
    /// [`Database::commits`] until `stop`; None on SQLite, whose commits are
    /// all this process's own.
    pub(crate) fn forward_announcements(
        &self,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>> {
        match &self.engine {
            Engine::Sqlite(_) => None,
            Engine::Postgres(p) => Some(tokio::spawn(postgres::forward_announcements(
                p.clone(),
                self.committed.clone(),
                stop.clone(),
            ))),
        }
    }
}

/// Proof that this process is the active relay.
#[derive(Debug)]
pub(crate) enum RelayLease {
    /// SQLite: the database belongs to this process.
    Local,
    /// PostgreSQL: the advisory lock, held by this connection.
    Postgres(Box<sqlx::PgConnection>),
}

impl RelayLease {
    /// Whether the lease still holds (its connection is alive).
    pub async fn still_held(&mut self) -> bool {
        match self {
            RelayLease::Local => true,
            RelayLease::Postgres(conn) => {
                sqlx::query("SELECT 1").execute(conn.as_mut()).await.is_ok()
            }
        }
    }
}

/// A pooled connection of either database.
#[derive(Debug)]
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Executor for Pooled {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => c.conn(),
            Pooled::Postgres(c) => c.conn(),
        }
    }
}

/// A write transaction. It rolls back when dropped uncommitted; its commit
/// wakes the relay when it appended an event, so no write path can forget to.
///
/// Its outbox events are written last, just before the commit: on
/// PostgreSQL inserting an event takes the outbox's order lock until the
/// commit (see migration 0023), and a transaction holding it must not then
/// wait for another's row locks.
#[derive(Debug)]
pub(crate) struct Tx {
    inner: TxInner,
    events: Vec<Query<'static>>,
    appended: bool,
    committed: Arc<Notify>,
}

#[derive(Debug)]
enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// Queues `insert`, an outbox event's, to run just before the commit.
    pub fn append_event(&mut self, insert: Query<'static>) {
        self.events.push(insert);
        self.appended = true;
    }

    /// Notes that the transaction wrote outbox events itself (a batch of
    /// new tasks, after [`Tx::write_events`]: afterwards it touches only
    /// those tasks' rows).
    pub fn appended_events(&mut self) {
        self.appended = true;
    }

    /// Writes the queued events now, so events written next follow them.
    pub async fn write_events(&mut self) -> Result<()> {
        for insert in std::mem::take(&mut self.events) {
            insert.execute(self).await?;
        }
        Ok(())
    }

    /// Writes the queued events and commits; wakes the relay if there were
    /// any.
    pub async fn commit(mut self) -> Result<()> {
        self.write_events().await?;
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        if self.appended {
            self.committed.notify_one();
        }
        Ok(())
    }
}

impl Executor for Tx {
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => Conn::Sqlite(tx),
            TxInner::Postgres(tx) => Conn::Postgres(tx),
        }
    }
}

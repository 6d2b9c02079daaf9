//! The database a Taskflow process uses: SQLite (embedded mode) or
//! PostgreSQL (distributed mode), chosen by URL at start-up.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::Notify;

use chrono::{DateTime, Utc};

use crate::outbox::{OutboxEvent, RelayLag};
use crate::{Error, Result, postgres, sqlite};

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
    pub(crate) pools: Pools,
    /// Woken after every commit that appended an event (in this process; on
    /// PostgreSQL the relay also listens for other processes' commits).
    pub(crate) committed: Arc<Notify>,
}

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite(sqlite::Pools),
    Postgres(postgres::Pools),
}

/// Runs `$body` with `$pools` bound to the dialect's pools and `sql` to the
/// dialect's SQL module.
macro_rules! dispatch {
    ($db:expr, $pools:ident => $body:expr) => {
        match &$db.pools {
            $crate::database::Pools::Sqlite($pools) => {
                use $crate::sqlite::sql;
                $body
            }
            $crate::database::Pools::Postgres($pools) => {
                use $crate::postgres::sql;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

impl Database {
    fn new(pools: Pools) -> Self {
        Self {
            pools,
            committed: Arc::new(Notify::new()),
        }
    }

    /// Connects to a `sqlite://path` or `postgres://…` URL.
    pub async fn connect(url: &str) -> Result<Database> {
        if url.starts_with("sqlite:") {
            Ok(Self::new(Pools::Sqlite(sqlite::open_url(url).await?)))
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
        Ok(Self::new(Pools::Sqlite(sqlite::open_file(path).await?)))
    }

    /// Connects to PostgreSQL with a pool of `max_connections`.
    pub async fn connect_postgres(
        options: PostgresConnectOptions,
        max_connections: u32,
    ) -> Result<Database> {
        Ok(Self::new(Pools::Postgres(
            postgres::connect(options, max_connections).await?,
        )))
    }

    /// The engine behind this database.
    pub fn kind(&self) -> DatabaseKind {
        match self.pools {
            Pools::Sqlite(_) => DatabaseKind::Sqlite,
            Pools::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        dispatch!(self, pools => sql::migrate(pools).await)
    }

    /// The oldest committed events not yet published, in sequence order.
    ///
    /// A row that does not decode (written by a newer version, say) holds
    /// back its user's later events, so their order is kept, and is logged;
    /// other users' events go on.
    pub async fn unpublished(&self, limit: u32) -> Result<Vec<OutboxEvent>> {
        let rows = dispatch!(self, pools => sql::unpublished(pools, limit).await)?;
        let mut held: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            if held.contains(row.user_id()) {
                continue;
            }
            let (user, sequence) = (row.user_id().to_owned(), row.sequence());
            match OutboxEvent::try_from(row) {
                Ok(event) => events.push(event),
                Err(err) => {
                    tracing::error!(sequence, %user, error = %err, "an outbox row cannot be read; holding back this user's events");
                    held.insert(user);
                }
            }
        }
        Ok(events)
    }

    /// The user's committed events after sequence `after`, oldest first, at
    /// most `limit` (what a reconnecting live view missed).
    pub async fn events_after(
        &self,
        user: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>> {
        let rows = dispatch!(self, pools => sql::events_after(pools, user, after, limit).await)?;
        rows.into_iter().map(OutboxEvent::try_from).collect()
    }

    /// (sequence, user, task) of every committed event after `after`,
    /// oldest first, at most `limit` (on SQLite, commit order).
    pub async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, String, i64)>> {
        dispatch!(self, pools => sql::events_since(pools, after, limit).await)
    }

    /// The highest sequence number committed so far (0 for none).
    pub async fn last_sequence(&self) -> Result<i64> {
        dispatch!(self, pools => sql::last_sequence(pools).await)
    }

    /// Records that events have been handed to the transport.
    pub async fn mark_published(&self, sequences: &[i64], at: DateTime<Utc>) -> Result<()> {
        dispatch!(self, pools => sql::mark_published(pools, sequences, at).await)
    }

    /// How far the relay is behind.
    pub async fn relay_lag(&self) -> Result<RelayLag> {
        let (unpublished, oldest) = dispatch!(self, pools => sql::lag(pools).await)?;
        Ok(RelayLag {
            unpublished,
            oldest,
        })
    }

    /// Wakes the relay: an event was committed.
    pub(crate) fn notify_committed(&self) {
        self.committed.notify_one();
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite(p) => {
                p.read.close().await;
                p.write.close().await;
            }
            Pools::Postgres(p) => p.write.close().await,
        }
    }
}

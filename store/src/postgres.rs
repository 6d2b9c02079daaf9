//! The PostgreSQL edition: one pool. Writes that read before they write
//! (updates, completions, next occurrences, idempotent creates) take a
//! transaction-scoped advisory lock per user; plain creates take none. Event
//! order does not depend on it: the relay publishes only settled events
//! (`SETTLED`: written by transactions older than every running one), so no
//! lower sequence can commit after a published one.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Result;

/// The LISTEN/NOTIFY channel that announces new outbox events (notified by
/// the `task_events_notify` trigger of the migration).
pub const OUTBOX_CHANNEL: &str = "taskflow_outbox";

/// Takes the relay lock on a connection of its own, if no other relay holds
/// it. The lock lives as long as the connection: if the holder dies, its
/// connection closes and a standby's next attempt succeeds.
pub async fn try_relay_lock(pools: &Pools) -> Result<Option<sqlx::PgConnection>> {
    let mut conn = pools.write.acquire().await?.detach();
    // One lock per schema, so deployments sharing a database (in separate
    // schemas) each have their own active relay.
    let locked: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtextextended('taskflow-relay:' || current_schema(), 0))",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(locked.then_some(conn))
}

/// Subscribes to outbox announcements from every process.
pub async fn listen(pools: &Pools) -> Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(&pools.write).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    Ok(listener)
}

/// The pool of one PostgreSQL database (readers and writers share it).
#[derive(Debug, Clone)]
pub struct Pools {
    pub read: PgPool,
    pub write: PgPool,
}

/// Connects with at most `max_connections` connections.
pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<Pools> {
    // A slow or locked database answers 503 within seconds instead of
    // holding requests (and their connections) without bound.
    let options = options.options([("lock_timeout", "5s"), ("statement_timeout", "15s")]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(Pools {
        read: pool.clone(),
        write: pool,
    })
}

pub mod sql {
    use super::Pools;

    type Db = sqlx::Postgres;

    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    /// Only events whose transaction is older than every running one: no
    /// lower sequence can still commit after them (see the migration).
    const SETTLED: &str = "AND xid < pg_snapshot_xmin(pg_current_snapshot())";

    async fn lock_user(tx: &mut sqlx::Transaction<'static, Db>, user: &str) -> crate::Result<()> {
        // Two 32-bit keys (a namespace and the user): a key space of its own,
        // apart from the relay's single 64-bit key.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('taskflow-user'), hashtext($1))")
            .bind(user)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    include!("sql.rs");

    /// PostgreSQL's extended protocol runs one statement per round trip; the
    /// shared path is the one.
    async fn create_in_one_round_trip(
        _: &Pools,
        _: Source,
        _: &mut Stored,
    ) -> Result<Option<Task>> {
        Ok(None)
    }
}

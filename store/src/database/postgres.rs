//! The PostgreSQL edition: one pool. Writes that read before they write
//! (updates, completions, next occurrences, idempotent creates) take a
//! transaction-scoped advisory lock per user; plain creates take none. Event
//! order does not depend on it: inserting events takes the outbox's order
//! lock to the commit (migration 0023), so sequences commit in order and no
//! lower one can appear after a reader saw a higher.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::Result;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The LISTEN/NOTIFY channel that announces new outbox events (notified by
/// the `task_events_notify` trigger of the migration).
const OUTBOX_CHANNEL: &str = "taskflow_outbox";

/// The pool of one PostgreSQL database (readers and writers share it).
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    pub pool: PgPool,
}

/// Connects with at most `max_connections` connections.
pub(super) async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<Pools> {
    // A slow or locked database answers 503 within seconds instead of
    // holding requests (and their connections) without bound.
    let options = options.options([("lock_timeout", "5s"), ("statement_timeout", "15s")]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(Pools { pool })
}

/// Takes `user`'s write lock for the rest of the transaction.
pub(super) async fn lock_user(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    user: &str,
) -> Result<()> {
    // Two 32-bit keys (a namespace and the user): a key space of its own,
    // apart from the relay's single 64-bit key.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('taskflow-user'), hashtext($1))")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes the relay lock on a connection of its own, if no other relay holds
/// it. The lock lives as long as the connection: if the holder dies, its
/// connection closes and a standby's next attempt succeeds.
pub(super) async fn try_relay_lock(pools: &Pools) -> Result<Option<sqlx::PgConnection>> {
    let mut conn = pools.pool.acquire().await?.detach();
    // One lock per schema, so deployments sharing a database (in separate
    // schemas) each have their own active relay.
    let locked: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtextextended('taskflow-relay:' || current_schema(), 0))",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(locked.then_some(conn))
}

/// Forwards outbox announcements from every process to `committed` until
/// `stop`, reconnecting when the listening connection fails.
pub(super) async fn forward_announcements(
    pools: Pools,
    committed: Arc<Notify>,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        match listen(&pools).await {
            Ok(mut listener) => loop {
                match listener.recv().await {
                    Ok(_) => committed.notify_one(),
                    Err(err) => {
                        tracing::warn!(error = %err, "outbox LISTEN connection failed; reconnecting");
                        break;
                    }
                }
            },
            Err(err) => tracing::warn!(error = %err, "cannot LISTEN for outbox events"),
        }
        // Until the listener is back, the relay's poll backstop keeps it going.
        if taskflow_events::transport::pause(&stop, Duration::from_secs(1))
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn listen(pools: &Pools) -> Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(&pools.pool).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    Ok(listener)
}

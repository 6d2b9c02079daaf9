//! The PostgreSQL edition: one pool; writers of the same user are serialised
//! by a transaction-scoped advisory lock, so each user's events get sequence
//! numbers in commit order (the relay and SSE replay rely on it), while
//! different users write in parallel.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Result;

/// The pool of one PostgreSQL database (readers and writers share it).
#[derive(Debug, Clone)]
pub struct Pools {
    pub read: PgPool,
    pub write: PgPool,
}

/// Connects with at most `max_connections` connections.
pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<Pools> {
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

    async fn lock_user(tx: &mut sqlx::Transaction<'static, Db>, user: &str) -> crate::Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(user)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    include!("sql.rs");
}

//! `taskflow serve`: migrate, then serve HTTP until a shutdown signal; on the
//! signal stop accepting, finish requests in flight (up to the shutdown
//! timeout), close the database, and exit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use taskflow_api::auth::{Verifier, mint};
use taskflow_api::{AppState, app};
use taskflow_events::{Backoff, InProcessBus};
use taskflow_store::{DatabaseKind, RelayConfig, TaskService};
use taskflow_workers::recurrence::Recurrence;
use tokio_util::sync::CancellationToken;

use crate::config::ServeArgs;

/// How often an in-process handler is tried before its event is given up on.
const HANDLER_ATTEMPTS: u32 = 8;

/// How long the token printed at start-up is valid.
const LOCAL_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(term) => term,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Runs the server until `shutdown` resolves.
pub async fn run(
    args: ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = args.database.connect().await?;
    db.migrate().await.context("applying migrations")?;
    let secret = args.auth.secret(&args.database.data_dir)?;
    let tasks = TaskService::new(db.clone());
    // Embedded mode: the outbox relay publishes to in-process handlers.
    let bus = InProcessBus::new(
        vec![Arc::new(Recurrence::new(tasks.clone()))],
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        },
        HANDLER_ATTEMPTS,
    );
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(taskflow_store::relay::run(
        db.clone(),
        Arc::new(bus),
        RelayConfig::default(),
        relay_stop.clone(),
    ));
    let state = AppState {
        tasks,
        verifier: Arc::new(Verifier::hs256(&secret)),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if db.kind() == DatabaseKind::Sqlite {
        let token = mint(&secret, &args.local_user, LOCAL_TOKEN_TTL)?;
        println!(
            "Development token for user `{}` (valid 30 days):\n{token}",
            args.local_user
        );
    }
    println!("Taskflow listening on http://{addr}");
    tracing::info!(%addr, database = ?db.kind(), "serving");

    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let limit = Duration::from(args.shutdown_timeout);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        stopping.cancel();
    });
    let graceful =
        axum::serve(listener, app(state)).with_graceful_shutdown(stop.clone().cancelled_owned());
    let mut server = tokio::spawn(async move { graceful.await });
    // After the signal, requests in flight get `limit` to finish.
    let result = tokio::select! {
        joined = &mut server => match joined {
            Ok(served) => served.context("serving HTTP"),
            Err(err) => Err(anyhow::anyhow!("the server task failed: {err}")),
        },
        _ = async { stop.cancelled().await; tokio::time::sleep(limit).await } => {
            tracing::warn!(?limit, "requests still in flight at the shutdown limit; stopping them");
            server.abort();
            let _ = server.await;
            Ok(())
        }
    };
    // Requests are done; let the relay finish the batch in hand.
    relay_stop.cancel();
    if tokio::time::timeout(Duration::from_secs(2), relay)
        .await
        .is_err()
    {
        tracing::warn!(
            "the relay did not stop in time; unpublished events go out at the next start"
        );
    }
    if tokio::time::timeout(Duration::from_secs(1), db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit");
    }
    tracing::info!("stopped");
    result
}

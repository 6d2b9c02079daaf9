//! `taskflow serve`: migrate, then serve HTTP until a shutdown signal; on the
//! signal stop accepting, finish requests in flight (up to the shutdown
//! timeout), close the database, and exit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use taskflow_api::auth::{Verifier, mint};
use taskflow_api::{AppState, app};
use taskflow_store::{DatabaseKind, TaskService};
use tokio_util::sync::CancellationToken;

use crate::config::ServeArgs;

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
    let state = AppState {
        tasks: TaskService::new(db.clone()),
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
    if tokio::time::timeout(Duration::from_secs(1), db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit");
    }
    tracing::info!("stopped");
    result
}

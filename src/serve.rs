//! `taskflow serve` (everything in one process, events on the in-process
//! bus) and the [`Process`] every role runs as: HTTP plus the outbox relay,
//! until a shutdown signal; then stop accepting, finish requests in flight
//! (up to the shutdown timeout), let the relay finish, close the database.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use taskflow_api::auth::mint;
use taskflow_api::dashboard::LocalSignIn;
use taskflow_api::oauth::OAuthServer;
use taskflow_api::stream::Hub;
use taskflow_api::{AppState, app};
use taskflow_events::{Backoff, InProcessBus, Publisher};
use taskflow_mcp::watch::Watch;
use taskflow_store::{Database, DatabaseKind, RelayConfig, TaskService, retention};
use taskflow_workers::reminders::Reminders;
use taskflow_workers::webhooks::Sender;
use tokio_util::sync::CancellationToken;

use crate::config::ServeArgs;
use crate::topology::{Consumers, TOPOLOGY};

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
    let (listener, public_url) = args.http.bind().await?;
    let tasks =
        TaskService::new(db.clone()).with_insecure_webhooks(args.webhooks.webhooks_allow_insecure);
    let embedded = db.kind() == DatabaseKind::Sqlite;
    let closing = CancellationToken::new();
    let state = AppState {
        hub: Hub::new(
            tasks.audience().clone(),
            closing.clone(),
            Some(stream_ticket_key(&secret)),
            args.http.max_streams,
        ),
        oauth: Some(OAuthServer {
            issuer: public_url.clone(),
            secret: Arc::new(secret.clone()),
            insecure_documents: false,
        }),
        ..AppState::new(
            tasks.clone(),
            args.verify
                .verifier(Some(&secret))?
                .with_own_issuer(&public_url),
        )
        .with_chat_model(args.chat.model())
        .with_public_url(&public_url)
    };
    // One-click sign-in for the dashboard: embedded mode, loopback only.
    let state = AppState {
        local_sign_in: (embedded && args.http.listen.ip().is_loopback()).then(|| LocalSignIn {
            user: args.local_user.clone(),
            secret: Arc::new(secret.clone()),
        }),
        ..state
    };
    // Embedded mode: the in-process bus stands in for the broker, and
    // delivers every subscription of the topology. The relay publishes each
    // outbox row through it: task changes to recurrence, the reminder
    // scheduler (to re-arm), MCP sessions and the SSE hub; fired reminders
    // to notifications; new notifications' notices to the hub; task and
    // list changes to webhook deliveries, which the sender POSTs.
    let consumers = Consumers {
        tasks: tasks.clone(),
        reminders: Reminders::new(tasks.clone()),
        hub: state.hub.clone(),
        watch: Watch::new(tasks.audience().clone()),
    };
    let bus = Arc::new(InProcessBus::new(
        consumers.handlers(TOPOLOGY.iter()),
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        },
        HANDLER_ATTEMPTS,
    ));
    let reminders = consumers.reminders.clone();
    let sender = Sender::new(tasks.clone(), args.webhooks.sender())
        .context("building the webhook client")?;
    let background = vec![
        tokio::spawn(reminders.clone().run(closing.child_token())),
        tokio::spawn(sender.run(closing.child_token())),
        tokio::spawn(retention::run(
            tasks.clone(),
            args.retention.retention(),
            closing.child_token(),
        )),
    ];
    let mcp = taskflow_mcp::http::router(
        tasks.clone(),
        consumers.watch.clone(),
        state.verifier.clone(),
        args.mcp.options(Some(public_url)),
        closing.clone(),
    );
    let process = Process {
        db,
        router: app(state).merge(reminders.routes()).merge(mcp),
        publisher: bus,
        listener,
        shutdown_timeout: args.http.shutdown_timeout.into(),
        write_timeout: args.http.write_timeout.into(),
        send_buffer: args.http.send_buffer,
        closing,
        background,
    };
    let local_user = args.local_user;
    process
        .run(shutdown, move |addr| {
            if embedded {
                match mint(&secret, &local_user, LOCAL_TOKEN_TTL) {
                    Ok(token) => println!(
                        "Development token for user `{local_user}` (valid 30 days):\n{token}"
                    ),
                    Err(err) => tracing::warn!(error = %err, "cannot mint the development token"),
                }
            }
            println!("Taskflow listening on http://{addr}");
        })
        .await
}

/// One Taskflow process: an HTTP router, the outbox relay publishing
/// through `publisher`, and background workers. `serve` and every cluster
/// role run as one of these.
#[derive(Debug)]
pub struct Process {
    pub db: Database,
    pub router: axum::Router,
    pub publisher: Arc<dyn Publisher>,
    /// Bound by [`crate::config::HttpArgs::bind`].
    pub listener: tokio::net::TcpListener,
    /// How long requests in flight may take after the shutdown signal.
    pub shutdown_timeout: Duration,
    /// How long a write may wait on a client that stopped reading.
    pub write_timeout: Duration,
    /// The kernel send buffer of each connection, in bytes.
    pub send_buffer: usize,
    /// Cancelled when shutdown starts, so endless responses (SSE streams)
    /// end cleanly instead of holding the shutdown up, and background
    /// workers stop.
    pub closing: CancellationToken,
    /// Workers that stop when `closing` is cancelled (the reminder
    /// scheduler); awaited, briefly, before the database closes.
    pub background: Vec<tokio::task::JoinHandle<()>>,
}

/// The key of stream tickets, derived from the token secret so every
/// replica sharing the secret accepts them, yet distinct from it so a ticket
/// is never a bearer token.
pub fn stream_ticket_key(secret: &[u8]) -> Vec<u8> {
    let mut key = secret.to_vec();
    key.extend_from_slice(b"/taskflow-stream-tickets");
    key
}

impl Process {
    /// Listens, calls `on_listening` with the bound address, then serves and
    /// relays until `shutdown`: stop accepting, finish requests in flight (up
    /// to the limit), let the relay finish its batch, close the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        on_listening: impl FnOnce(SocketAddr),
    ) -> anyhow::Result<()> {
        let Process {
            db,
            router,
            publisher,
            listener,
            shutdown_timeout: limit,
            write_timeout,
            send_buffer,
            closing,
            background,
        } = self;
        let addr = listener.local_addr()?;
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(taskflow_store::relay::run(
            db.clone(),
            publisher,
            RelayConfig::default(),
            relay_stop.clone(),
        ));
        on_listening(addr);
        tracing::info!(%addr, database = ?db.kind(), "serving");

        let stop = CancellationToken::new();
        let stopping = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            closing.cancel();
            stopping.cancel();
        });
        let listener = crate::net::TimedListener::new(listener, write_timeout, send_buffer);
        let served = crate::net::serve(listener, router, stop.clone());
        let mut server = tokio::spawn(served);
        let result = tokio::select! {
            joined = &mut server => joined
                .map_err(|err| anyhow::anyhow!("the server task failed: {err}")),
            _ = async { stop.cancelled().await; tokio::time::sleep(limit).await } => {
                tracing::warn!(?limit, "requests still in flight at the shutdown limit; stopping them");
                server.abort();
                let _ = server.await;
                Ok(())
            }
        };
        // Requests are done; let the relay finish the batch in hand, and the
        // workers their step.
        relay_stop.cancel();
        if tokio::time::timeout(
            Duration::from_secs(2),
            futures::future::join_all(background),
        )
        .await
        .is_err()
        {
            tracing::warn!("background workers did not stop in time");
        }
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
}

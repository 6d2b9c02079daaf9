//! `taskflow api`: the API service of a cluster. The same HTTP API as
//! `serve`, plus the Dapr subscription routes of the seeds
//! (`/api/events/task-events` → recurrence, `/api/events/reminders` →
//! notifications), publishing through the Dapr sidecar.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use taskflow_api::stream::Hub;
use taskflow_api::{AppState, app};
use taskflow_events::{DaprConfig, DaprPublisher, Subscriptions};
use taskflow_store::TaskService;
use taskflow_workers::notifications::Notifications;
use taskflow_workers::recurrence::Recurrence;
use tokio_util::sync::CancellationToken;

use crate::config::ApiArgs;
use crate::serve::{Process, stream_ticket_key};

/// Runs the API service until `shutdown` resolves.
pub async fn run(
    args: ApiArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.dapr
            .app_api_token
            .as_deref()
            .is_some_and(|t| !t.is_empty()),
        "set APP_API_TOKEN (and the same token in Dapr): without it anyone who reaches this service could deliver events"
    );
    let db = crate::connect(&args.database_url).await?;
    if args.migrate {
        db.migrate().await.context("applying migrations")?;
    }
    let tasks = TaskService::new(db.clone());
    let dapr = &args.dapr;
    let mut config = DaprConfig::new(
        format!("http://127.0.0.1:{}", dapr.dapr_http_port),
        &dapr.pubsub,
    );
    config.api_token = dapr.dapr_api_token.clone();
    let closing = CancellationToken::new();
    let ticket_key = args
        .jwt_secret
        .as_deref()
        .map(|s| stream_ticket_key(s.as_bytes()));
    let state = AppState {
        hub: Hub::new(closing.clone(), ticket_key),
        ..AppState::new(
            tasks.clone(),
            args.verify
                .verifier(args.jwt_secret.as_deref().map(str::as_bytes))?,
        )
    };
    let subscriptions = Subscriptions::new(&dapr.pubsub, dapr.app_api_token.clone())
        .route(
            "/api/events/task-events",
            Arc::new(Recurrence::new(tasks.clone())),
        )
        .route("/api/events/reminders", Arc::new(Notifications::new(tasks)))
        .route("/api/events/task-updates", Arc::new(state.hub.clone()));
    let process = Process {
        db,
        router: app(state).merge(subscriptions.router()),
        publisher: Arc::new(DaprPublisher::new(config)),
        listen: args.http.listen,
        shutdown_timeout: args.http.shutdown_timeout.into(),
        closing,
    };
    process
        .run(shutdown, |addr| {
            println!("Taskflow API listening on http://{addr}")
        })
        .await
}

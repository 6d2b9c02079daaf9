//! The cluster roles, one thin binary each, every one beside a Dapr sidecar
//! and publishing through it (the outbox relay runs in each; on PostgreSQL
//! only one is active at a time). What each consumes is the topology's
//! ([`crate::topology`]):
//!
//! - `taskflow-api`: the REST API.
//! - `taskflow-sse`: the SSE gateway; consumes `task-updates` (every replica
//!   needs every update: a consumer group per pod).
//! - `taskflow-recurrence`: consumes `task-events`, creates next occurrences.
//! - `taskflow-reminders`: the reminder scheduler; consumes `task-events`
//!   (to re-arm) and `reminders` (to record notifications), and serves the
//!   Dapr cron binding `POST /reminder-sweep`.
//! - `taskflow-mcp`: MCP over streamable HTTP at `/mcp`; consumes
//!   `task-events` for its subscribers (a consumer group per pod, like SSE).
//! - `taskflow-webhooks`: consumes `task-events` into webhook deliveries and
//!   sends them (replicas share the endpoints: each is leased to one).
//!
//! Delivery routes are `/api/events/<topic>`.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};
use rand::RngCore;
use taskflow_api::auth::Verifier;
use taskflow_api::oauth::OAuthServer;
use taskflow_api::stream::Hub;
use taskflow_api::{AppState, Surfaces, router};
use taskflow_events::{DaprConfig, DaprPublisher, Publisher, Subscriptions};
use taskflow_mcp::watch::Watch;
use taskflow_store::TaskService;
use taskflow_workers::reminders::Reminders;
use taskflow_workers::webhooks::Sender;
use tokio_util::sync::CancellationToken;

use crate::config::{ClusterArgs, SubscriptionSource};
use crate::serve::{Process, shutdown_signal, stream_ticket_key};
use crate::topology::{self, Consumers};

/// A cluster role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Api,
    Sse,
    Recurrence,
    Reminders,
    Mcp,
    Webhooks,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Api,
        Role::Sse,
        Role::Recurrence,
        Role::Reminders,
        Role::Mcp,
        Role::Webhooks,
    ];

    /// The role's binary.
    pub fn binary(self) -> &'static str {
        match self {
            Role::Api => "taskflow-api",
            Role::Sse => "taskflow-sse",
            Role::Recurrence => "taskflow-recurrence",
            Role::Reminders => "taskflow-reminders",
            Role::Mcp => "taskflow-mcp",
            Role::Webhooks => "taskflow-webhooks",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Role::Api => "Taskflow's REST API, beside a Dapr sidecar",
            Role::Sse => "Taskflow's SSE gateway: live task changes and notifications for browsers",
            Role::Recurrence => {
                "Taskflow's recurrence worker: creates the next occurrence of completed recurring tasks"
            }
            Role::Reminders => {
                "Taskflow's reminder worker: fires reminders and overdue notices, records notifications"
            }
            Role::Mcp => "Taskflow's MCP server over streamable HTTP, beside a Dapr sidecar",
            Role::Webhooks => {
                "Taskflow's webhook worker: records a delivery for each endpoint a change is for, and sends them signed"
            }
        }
    }

    fn surfaces(self) -> Surfaces {
        match self {
            Role::Api => Surfaces {
                rest: true,
                stream: false,
            },
            Role::Sse => Surfaces {
                rest: false,
                stream: true,
            },
            Role::Recurrence | Role::Reminders | Role::Mcp | Role::Webhooks => Surfaces::NONE,
        }
    }
}

/// The `main` of a role's binary: parses its flags and environment, runs it
/// until SIGTERM or Ctrl-C.
pub async fn main(role: Role) -> ExitCode {
    let command = ClusterArgs::command()
        .name(role.binary())
        .bin_name(role.binary())
        .about(role.about());
    let args = match ClusterArgs::from_arg_matches(&command.get_matches()) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    crate::telemetry::init();
    match run(role, args, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `role` until `shutdown` resolves.
pub async fn run(
    role: Role,
    args: ClusterArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let dapr = &args.dapr;
    anyhow::ensure!(
        dapr.app_api_token.as_deref().is_some_and(|t| !t.is_empty()),
        "set APP_API_TOKEN (and the same token in Dapr): without it anyone who reaches this service could deliver events"
    );
    let surfaces = role.surfaces();
    let (listener, public_url) = args.http.bind().await?;
    // Only roles with user-facing routes verify tokens; the others get a
    // verifier no token can satisfy.
    let verifier = if surfaces == Surfaces::NONE && role != Role::Mcp {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Verifier::hs256(&key)
    } else {
        args.verify
            .verifier(args.jwt_secret.as_deref().map(str::as_bytes))?
            .with_own_issuer(&public_url)
    };
    let db = crate::connect(&args.database_url).await?;
    if args.migrate {
        db.migrate().await.context("applying migrations")?;
    }
    let tasks =
        TaskService::new(db.clone()).with_insecure_webhooks(args.webhooks.webhooks_allow_insecure);
    let mut config = DaprConfig::new(
        format!("http://127.0.0.1:{}", dapr.dapr_http_port),
        &dapr.pubsub,
    );
    config.api_token = dapr.dapr_api_token.clone();
    let publisher: Arc<dyn Publisher> = Arc::new(DaprPublisher::new(config));
    let closing = CancellationToken::new();
    let ticket_key = args
        .jwt_secret
        .as_deref()
        .map(|s| stream_ticket_key(s.as_bytes()));
    let state = AppState {
        hub: Hub::new(
            tasks.audience().clone(),
            closing.clone(),
            ticket_key,
            args.http.max_streams,
        ),
        // The api role is the authorization server, when it has the HS256
        // secret to sign with.
        oauth: args.jwt_secret.as_ref().map(|secret| OAuthServer {
            issuer: public_url.clone(),
            secret: Arc::new(secret.as_bytes().to_vec()),
            insecure_documents: false,
        }),
        ..AppState::new(tasks.clone(), verifier)
            .with_chat_model(args.chat.model())
            .with_public_url(&public_url)
    };
    let mut subscriptions =
        Subscriptions::new(&dapr.pubsub, dapr.app_api_token.clone(), closing.clone());
    if dapr.subscriptions == SubscriptionSource::Declarative {
        subscriptions = subscriptions.declarative();
    }
    let consumers = Consumers {
        tasks: tasks.clone(),
        reminders: Reminders::new(tasks.clone()),
        hub: state.hub.clone(),
        watch: Watch::new(tasks.audience().clone()),
    };
    for subscription in topology::of(role) {
        subscriptions = subscriptions.route(
            subscription.route(),
            consumers.handler(subscription.consumer),
        );
    }
    let mut app = router(state.clone(), surfaces);
    // Every role prunes; one at a time (an advisory lock), so a role
    // scaled to zero never stops it.
    let mut background = vec![tokio::spawn(taskflow_store::retention::run(
        tasks.clone(),
        args.retention.retention(),
        closing.child_token(),
    ))];
    match role {
        Role::Api | Role::Sse | Role::Recurrence => {}
        Role::Webhooks => {
            let sender = Sender::new(tasks.clone(), args.webhooks.sender())
                .context("building the webhook client")?;
            background.push(tokio::spawn(sender.run(closing.child_token())));
        }
        Role::Reminders => {
            app = app.merge(consumers.reminders.routes());
            background.push(tokio::spawn(
                consumers.reminders.clone().run(closing.child_token()),
            ));
        }
        Role::Mcp => {
            app = app.merge(taskflow_mcp::http::router(
                tasks.clone(),
                consumers.watch.clone(),
                state.verifier.clone(),
                args.mcp
                    .options(args.jwt_secret.is_some().then(|| public_url.clone())),
                closing.clone(),
            ));
        }
    }
    let process = Process {
        db,
        router: app.merge(subscriptions.router()),
        publisher,
        listener,
        shutdown_timeout: args.http.shutdown_timeout.into(),
        write_timeout: args.http.write_timeout.into(),
        send_buffer: args.http.send_buffer,
        closing,
        background,
    };
    process
        .run(shutdown, |addr| {
            println!("Taskflow {} listening on http://{addr}", role.binary())
        })
        .await
}

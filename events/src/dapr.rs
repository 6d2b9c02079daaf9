//! The Dapr transport: publishes through the sidecar's HTTP API
//! (`POST /v1.0/publish/{pubsub}/{topic}`), per `dapr-contract.md` §1.1 and
//! §1.9. It waits for `/v1.0/healthz/outbound` before the first publish,
//! sends our own CloudEvent (`application/cloudevents+json`, so the sidecar
//! keeps its id) with `metadata.partitionKey` = the user id, and retries
//! until the sidecar accepts: connection errors and 5xx with backoff; "not
//! configured / not found" as not-ready until the first success, afterwards
//! as a configuration error, logged loudly and retried slowly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::transport::{Backoff, Message, Publisher, Stopped, pause};

/// Where the sidecar is and how to talk to it.
#[derive(Debug, Clone)]
pub struct DaprConfig {
    /// The sidecar's HTTP API, such as `http://127.0.0.1:3500`.
    pub base_url: String,
    /// The pub/sub component name.
    pub pubsub: String,
    /// Sent as `dapr-api-token` when the sidecar requires one.
    pub api_token: Option<String>,
    /// Backoff for connection errors, 5xx and not-ready answers.
    pub retry: Backoff,
    /// Delay between retries of a publish the sidecar refuses as misconfigured.
    pub slow_retry: Duration,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl DaprConfig {
    /// Defaults for a sidecar at `base_url` with component `pubsub`.
    pub fn new(base_url: impl Into<String>, pubsub: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            pubsub: pubsub.into(),
            api_token: None,
            retry: Backoff::default(),
            slow_retry: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Publishes through a Dapr sidecar.
#[derive(Debug)]
pub struct DaprPublisher {
    config: DaprConfig,
    client: reqwest::Client,
    ready: AtomicBool,
    published_once: AtomicBool,
}

/// How the sidecar answered one publish.
enum Answer {
    Accepted,
    /// Worth retrying soon (connection error, 5xx, not ready yet).
    Transient(String),
    /// Refused as misconfigured (4xx once running).
    Refused(String),
}

impl DaprPublisher {
    /// A publisher for the sidecar in `config`.
    pub fn new(config: DaprConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_default();
        Self {
            config,
            client,
            ready: AtomicBool::new(false),
            published_once: AtomicBool::new(false),
        }
    }

    /// Whether the sidecar has reported its outbound side ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Waits until `GET /v1.0/healthz/outbound` answers 204.
    pub async fn wait_until_ready(&self, stop: &CancellationToken) -> Result<(), Stopped> {
        let url = format!("{}/v1.0/healthz/outbound", self.config.base_url);
        let mut attempt = 0;
        while !self.is_ready() {
            match self.with_token(self.client.get(&url)).send().await {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(sidecar = %self.config.base_url, "Dapr sidecar is ready for publishing");
                    self.ready.store(true, Ordering::Relaxed);
                }
                Ok(response) => {
                    tracing::info!(status = %response.status(), "waiting for the Dapr sidecar")
                }
                Err(err) => tracing::info!(error = %err, "waiting for the Dapr sidecar"),
            }
            if !self.is_ready() {
                pause(stop, self.config.retry.delay(attempt.min(4))).await?;
                attempt += 1;
            }
        }
        Ok(())
    }

    fn with_token(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.api_token {
            Some(token) => request.header("dapr-api-token", token),
            None => request,
        }
    }

    async fn send(&self, message: &Message, body: &[u8]) -> Answer {
        let url = format!(
            "{}/v1.0/publish/{}/{}",
            self.config.base_url, self.config.pubsub, message.topic
        );
        let mut request = self
            .client
            .post(url)
            .query(&[("metadata.partitionKey", message.key.as_str())])
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/cloudevents+json",
            )
            .body(body.to_vec());
        // The sidecar's own span joins the event's trace.
        if let Some(traceparent) = &message.event.traceparent {
            request = request.header("traceparent", traceparent);
        }
        let response = match self.with_token(request).send().await {
            Ok(response) => response,
            Err(err) => return Answer::Transient(format!("sidecar unreachable: {err}")),
        };
        let status = response.status();
        if status.is_success() {
            return Answer::Accepted;
        }
        let detail = response.text().await.unwrap_or_default();
        let not_ready = matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND)
            && (detail.contains("ERR_PUBSUB_NOT_CONFIGURED")
                || detail.contains("ERR_PUBSUB_NOT_FOUND"));
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Answer::Transient(format!("{status}: {detail}"))
        } else if not_ready && !self.published_once.load(Ordering::Relaxed) {
            Answer::Transient(format!("pub/sub not ready yet ({status}: {detail})"))
        } else {
            Answer::Refused(format!("{status}: {detail}"))
        }
    }
}

impl Publisher for DaprPublisher {
    fn publish<'a>(
        &'a self,
        message: &'a Message,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>> {
        async move {
            self.wait_until_ready(stop).await?;
            let body = match serde_json::to_vec(&message.event) {
                Ok(body) => body,
                Err(err) => {
                    // A CloudEvent of JSON values always serialises; keep the
                    // event rather than lose it if that ever changes.
                    tracing::error!(error = %err, event_id = %message.event.id, "cannot serialise event");
                    return Err(Stopped);
                }
            };
            let mut attempt = 0;
            loop {
                if stop.is_cancelled() {
                    return Err(Stopped);
                }
                match self.send(message, &body).await {
                    Answer::Accepted => {
                        self.published_once.store(true, Ordering::Relaxed);
                        return Ok(());
                    }
                    Answer::Transient(why) => {
                        tracing::warn!(topic = message.topic, event_id = %message.event.id, attempt, %why, "publish failed; retrying");
                        metrics::counter!("taskflow_publish_retries_total", "topic" => message.topic).increment(1);
                        pause(stop, self.config.retry.delay(attempt)).await?;
                        attempt = attempt.saturating_add(1);
                    }
                    Answer::Refused(why) => {
                        tracing::error!(
                            topic = message.topic,
                            pubsub = %self.config.pubsub,
                            event_id = %message.event.id,
                            %why,
                            "the Dapr sidecar refuses to publish: check the pub/sub component and topic scopes; retrying slowly, nothing is dropped"
                        );
                        pause(stop, self.config.slow_retry).await?;
                    }
                }
            }
        }
        .boxed()
    }
}

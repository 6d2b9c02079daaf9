//! Webhooks: the consumer that turns each `task-events` message into one
//! delivery row per endpoint that takes it (written with its
//! processed-event mark, so redeliveries make none), and the sender that
//! POSTs them, signed per Standard Webhooks, each endpoint's in sequence
//! order, retrying on the Standard schedule.
//!
//! The sender connects only to public addresses: the URL is checked again
//! for every run of attempts (as the endpoint is then) and every name is
//! resolved by [`PublicOnly`] at each connection, which drops private,
//! loopback and link-local answers (DNS can change after an endpoint is
//! made). It follows no redirect and reads at most 4 KB of an
//! answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;
use sha2::Sha256;
use taskflow_core::WebhookUrl;
use taskflow_core::webhook::reachable;
use taskflow_events::{Delivery, Handler, Outcome, TASK_EVENTS};
use taskflow_store::{
    After, Attempt, DatabaseKind, Endpoint, Error, MAX_ERROR, Outgoing, TaskService, WebhookEvent,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The Standard Webhooks retry schedule: the first attempt at once, then
/// after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (each ±10%).
pub const STANDARD_SCHEDULE: [u64; 8] = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// An endpoint failing this long is disabled and its owner told.
pub const FAILING_LIMIT: chrono::Duration = chrono::Duration::days(5);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Deliveries read (and sent in order) at a time per endpoint.
const BATCH: u32 = 100;
/// How long a sender that has sent everything keeps its endpoint for the
/// next deliveries (with a slot to spare): under a stream of changes they
/// come within milliseconds, and each claim it saves is a write.
const LINGER: Duration = Duration::from_millis(200);

/// How the sender sends.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Allow `http://` and loopback addresses (development).
    pub insecure: bool,
    /// Delay before each attempt, the first included (the number of
    /// attempts is its length).
    pub schedule: Vec<Duration>,
    /// How long a sender holds an endpoint it is sending to; one that
    /// dies holding it (killed) is sent to again after this.
    pub lease: Duration,
    /// Endpoints sent to at once.
    pub concurrency: usize,
    /// The longest an attempt may take.
    pub timeout: Duration,
    /// How often due deliveries are looked for without being woken.
    pub poll: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            insecure: false,
            schedule: STANDARD_SCHEDULE.map(Duration::from_secs).to_vec(),
            lease: Duration::from_secs(60),
            concurrency: 16,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

/// Consumes `task-events` and records deliveries.
#[derive(Debug, Clone)]
pub struct WebhookConsumer {
    tasks: TaskService,
}

impl WebhookConsumer {
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }
}

/// What the consumer reads of a `task-events` message, a task's or a list's.
#[derive(Debug, Clone, Deserialize)]
pub struct Changed {
    user_id: String,
    sequence: i64,
    /// A list event's list.
    #[serde(default)]
    list_id: Option<i64>,
    #[serde(default)]
    task_data: Option<InList>,
    #[serde(default)]
    changes: Option<MemberChange>,
    /// False: no endpoint could take it when it was published.
    #[serde(default)]
    webhooks: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
struct InList {
    list_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct MemberChange {
    #[serde(default)]
    member: Option<Sides>,
}

#[derive(Debug, Clone, Deserialize)]
struct Sides {
    #[serde(default)]
    old: Option<serde_json::Value>,
    #[serde(default)]
    new: Option<serde_json::Value>,
}

/// The event a delivery carries (None: its id is not a UUID).
fn event(delivery: &Delivery<Changed>) -> Option<WebhookEvent> {
    let Ok(event_id) = Uuid::parse_str(&delivery.id) else {
        tracing::warn!(id = %delivery.id, "a task event without a UUID id; no webhook");
        return None;
    };
    let changed = &delivery.data;
    let list = changed
        .task_data
        .as_ref()
        .map(|t| t.list_id)
        .or(changed.list_id);
    let member = changed
        .changes
        .as_ref()
        .and_then(|c| c.member.as_ref())
        .and_then(|sides| {
            [&sides.new, &sides.old]
                .into_iter()
                .flatten()
                .find_map(|side| {
                    side.get("user_id")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                })
        });
    Some(WebhookEvent {
        event_id,
        sequence: changed.sequence,
        event_type: delivery.event_type.clone(),
        owner: changed.user_id.clone(),
        list,
        member,
    })
}

impl Handler for WebhookConsumer {
    type Payload = Changed;
    const TOPIC: &'static str = TASK_EVENTS;
    const NAME: &'static str = "webhooks";

    async fn handle(&self, delivery: Delivery<Changed>) -> Outcome {
        self.handle_batch(vec![delivery])
            .await
            .pop()
            .unwrap_or(Outcome::Retry)
    }

    /// The whole run in one transaction: one outcome for all. Events the
    /// relay found no endpoint for are passed over without a read.
    async fn handle_batch(&self, deliveries: Vec<Delivery<Changed>>) -> Vec<Outcome> {
        let events: Vec<_> = deliveries
            .iter()
            .filter(|d| d.data.webhooks != Some(false))
            .filter_map(event)
            .collect();
        let outcome = match self
            .tasks
            .record_webhook_deliveries(Self::NAME, &events)
            .await
        {
            Ok(written) => {
                if written > 0 {
                    metrics::counter!("taskflow_webhook_deliveries_queued_total")
                        .increment(written as u64);
                }
                Outcome::Success
            }
            Err(Error::Invalid(err)) => {
                tracing::warn!(error = %err, "cannot record webhook deliveries; dropping");
                Outcome::Drop
            }
            Err(err) => {
                tracing::warn!(error = %err, "recording webhook deliveries failed; will retry");
                Outcome::Retry
            }
        };
        vec![outcome; deliveries.len()]
    }
}

/// Resolves names to public addresses only (loopback too when insecure).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly {
    insecure: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let insecure = self.insecure;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| reachable(a.ip(), insecure))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "`{host}` resolves to no public address (private, loopback and link-local ones are refused)"
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Sends due deliveries.
#[derive(Debug, Clone)]
pub struct Sender {
    tasks: TaskService,
    client: reqwest::Client,
    config: Arc<SenderConfig>,
}

/// An endpoint as a run of attempts sends to it.
struct Target {
    url: WebhookUrl,
    /// One per secret: the current one, then the previous one while the
    /// rotation overlap lasts.
    signers: Vec<Hmac<Sha256>>,
}

/// The HMAC keyed with a `whsec_…` secret (None: not base64).
fn signer(secret: &str) -> Option<Hmac<Sha256>> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    Hmac::new_from_slice(&key).ok()
}

/// A Standard Webhooks signature, `v1,<base64 of HMAC-SHA256 of
/// "id.timestamp.body">`. (Written here rather than by the
/// `standardwebhooks` crate: its SHA-256 is portable code, and `sha2`
/// uses the CPU's SHA instructions; the tests verify every request with
/// that crate.)
fn sign(signer: &Hmac<Sha256>, id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = signer.clone();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// What one attempt came to.
#[derive(Debug)]
struct Answer {
    status: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    took: Duration,
}

impl Answer {
    fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl Sender {
    /// A sender for `tasks`' deliveries.
    pub fn new(tasks: TaskService, config: SenderConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .dns_resolver(Arc::new(PublicOnly {
                insecure: config.insecure,
            }))
            .no_proxy()
            .https_only(!config.insecure)
            .user_agent(concat!("Taskflow-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            tasks,
            client,
            config: Arc::new(config),
        })
    }

    /// Sends until `stop`: claims endpoints with due deliveries (woken by
    /// new ones in this process, or every `poll`), each sent to by one task
    /// at a time; on stopping, lets the running ones finish their attempt.
    pub async fn run(self, stop: CancellationToken) {
        let db = self.tasks.database().clone();
        if db.kind() == DatabaseKind::Sqlite
            && let Err(err) = db.release_webhook_leases().await
        {
            tracing::warn!(error = %err, "could not release webhook leases");
        }
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        loop {
            let free = slots.available_permits();
            if free > 0 {
                let now = self.tasks.now();
                match db
                    .claim_webhook_endpoints(now, now + lease, free as u32)
                    .await
                {
                    Ok(endpoints) => {
                        for endpoint in endpoints {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let sender = self.clone();
                            let stop = stop.clone();
                            let spare = slots.clone();
                            tokio::spawn(async move {
                                sender.serve(endpoint, &stop, &spare).await;
                                drop(slot);
                                // What came while it let go is the claiming
                                // loop's to send.
                                sender.tasks.database().webhook_wakers().wake_claims();
                            });
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "claiming webhook endpoints failed"),
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = db.webhook_wakers().claims_due() => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
        // Let attempts in flight finish (each is bounded by the timeout).
        let _ = slots
            .acquire_many(self.config.concurrency as u32)
            .await
            .map(drop);
    }

    /// Sends an endpoint's pending deliveries in order while it holds it;
    /// with nothing left, waits [`LINGER`] for more while `slots` has one
    /// to spare for other endpoints.
    async fn serve(&self, mut endpoint: Endpoint, stop: &CancellationToken, slots: &Semaphore) {
        let db = self.tasks.database();
        let serving = db.webhook_wakers().serve(endpoint.id);
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        // Let go well before the lease ends.
        let budget = Instant::now() + self.config.lease / 2;
        loop {
            let allowed = match db.webhook_still_allowed(&endpoint).await {
                Ok(allowed) => allowed,
                Err(err) => {
                    tracing::warn!(endpoint = endpoint.id, error = %err, "checking the endpoint failed");
                    return;
                }
            };
            let (attempts, after, full) = if allowed {
                let batch = match db.pending_webhook_deliveries(&endpoint, BATCH).await {
                    Ok(batch) => batch,
                    Err(err) => {
                        tracing::warn!(endpoint = endpoint.id, error = %err, "reading deliveries failed");
                        return;
                    }
                };
                let full = batch.len() == BATCH as usize;
                let (attempts, after) = self.send_in_order(&endpoint, batch, stop, budget).await;
                (attempts, after, full)
            } else {
                let why = "its owner no longer administers its list (or the list was deleted)";
                (Vec::new(), After::Disable(why.into()), false)
            };
            let now = self.tasks.now();
            let going = after == After::Sent && !stop.is_cancelled() && Instant::now() < budget;
            let more = going && full && attempts.len() == BATCH as usize;
            let linger = going && !more && slots.available_permits() > 0;
            let held_until = if more || linger { now + lease } else { now };
            // Woken for deliveries the last round sent: nothing to write
            // (the lease outlasts the budget).
            let idle = linger && attempts.is_empty();
            if !idle {
                if let Err(err) = db
                    .record_webhook_attempts(&endpoint, &attempts, &after, now, held_until)
                    .await
                {
                    tracing::warn!(endpoint = endpoint.id, error = %err, "recording attempts failed");
                    return;
                }
                endpoint.held = held_until;
            }
            if more {
                continue;
            }
            if !linger {
                return;
            }
            let woken = tokio::select! {
                () = serving.due() => true,
                () = tokio::time::sleep(LINGER) => false,
                () = stop.cancelled() => false,
            };
            let now = self.tasks.now();
            if !woken {
                // Let it go: the claiming loop takes it when more come.
                if let Err(err) = db
                    .record_webhook_attempts(&endpoint, &[], &After::Sent, now, now)
                    .await
                {
                    tracing::warn!(endpoint = endpoint.id, error = %err, "releasing the endpoint failed");
                }
                return;
            }
            // Changed meanwhile (a rotated secret, a new URL), disabled, or
            // taken over?
            endpoint = match db.held_webhook_endpoint(&endpoint, now).await {
                Ok(Some(current)) => current,
                Ok(None) => {
                    // Disabled (or gone): let go, so enabling it again sends
                    // at once (a lease another sender holds stays its own).
                    let released = db
                        .record_webhook_attempts(&endpoint, &[], &After::Sent, now, now)
                        .await;
                    if let Err(err) = released {
                        tracing::warn!(endpoint = endpoint.id, error = %err, "releasing the endpoint failed");
                    }
                    return;
                }
                Err(err) => {
                    tracing::warn!(endpoint = endpoint.id, error = %err, "reading the endpoint failed");
                    return;
                }
            };
        }
    }

    /// Sends `batch` in order until one fails; what was attempted, and
    /// what becomes of the endpoint.
    async fn send_in_order(
        &self,
        endpoint: &Endpoint,
        batch: Vec<Outgoing>,
        stop: &CancellationToken,
        budget: Instant,
    ) -> (Vec<Attempt>, After) {
        let mut attempts = Vec::with_capacity(batch.len());
        let last = self.config.schedule.len().max(1);
        let target = self.target(endpoint);
        for outgoing in batch {
            if stop.is_cancelled() || Instant::now() >= budget {
                break;
            }
            let at = self.tasks.now();
            // A body that cannot be sent never will be: failed at once,
            // and the next one goes.
            let unsendable = outgoing.body.is_err();
            let answer = match (outgoing.body, &target) {
                (Ok(body), Ok(target)) => self.attempt(target, outgoing.id, body).await,
                (Err(why), _) => Answer {
                    status: None,
                    error: Some(why),
                    retry_after: None,
                    took: Duration::ZERO,
                },
                (Ok(_), Err(why)) => Answer {
                    status: None,
                    error: Some(why.clone()),
                    retry_after: None,
                    took: Duration::ZERO,
                },
            };
            let succeeded = answer.succeeded();
            let made = outgoing.attempts as usize + 1;
            if unsendable {
                count(&answer);
                attempts.push(Attempt {
                    id: outgoing.id,
                    status: None,
                    error: answer.error,
                    duration_ms: 0,
                    at,
                    succeeded: false,
                    gave_up: true,
                });
                continue;
            }
            let gave_up = !succeeded && made >= last;
            count(&answer);
            attempts.push(Attempt {
                id: outgoing.id,
                status: answer.status,
                error: answer.error.clone(),
                duration_ms: i32::try_from(answer.took.as_millis()).unwrap_or(i32::MAX),
                at,
                succeeded,
                gave_up,
            });
            if succeeded {
                continue;
            }
            let failing_since = endpoint.failing_since.unwrap_or(at);
            let after = if answer.status == Some(410) {
                After::Disable("the receiver answered 410 Gone".into())
            } else if at - failing_since >= FAILING_LIMIT {
                After::Disable("every attempt failed for five days".into())
            } else if gave_up {
                After::GaveUp
            } else {
                let wait = answer
                    .retry_after
                    .unwrap_or_else(|| jitter(self.config.schedule[made.min(last - 1)]));
                // Whole microseconds, as both databases keep them.
                let wait = chrono::Duration::from_std(wait).unwrap_or_default();
                After::RetryAt((at + wait).trunc_subsecs(6))
            };
            return (attempts, after);
        }
        (attempts, After::Sent)
    }

    /// Where and how a run of attempts at `endpoint` is sent (checked and
    /// decoded once a run), or why none can be.
    fn target(&self, endpoint: &Endpoint) -> Result<Target, String> {
        let url =
            WebhookUrl::parse(&endpoint.url, self.config.insecure).map_err(|err| err.reason)?;
        let signers = endpoint
            .secrets
            .iter()
            .map(|secret| signer(secret))
            .collect::<Option<_>>()
            .ok_or("cannot sign: the secret is not `whsec_` and base64")?;
        Ok(Target { url, signers })
    }

    /// One signed POST.
    async fn attempt(&self, target: &Target, id: Uuid, body: String) -> Answer {
        let started = Instant::now();
        let failed = |error: String| Answer {
            status: None,
            error: Some(error),
            retry_after: None,
            took: started.elapsed(),
        };
        let msg_id = id.to_string();
        // The attempt's real time: receivers check it against their clock.
        let timestamp = Utc::now().timestamp();
        let signatures = target
            .signers
            .iter()
            .map(|signer| sign(signer, &msg_id, timestamp, &body))
            .collect::<Vec<_>>()
            .join(" ");
        let sent = self
            .client
            .post(target.url.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signatures)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(err) => return failed(describe(&err)),
        };
        let status = response.status();
        let retry_after = match status.as_u16() {
            429 | 503 => response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, Utc::now())),
            _ => None,
        };
        // Read at most 4 KB of the answer (for the log).
        let mut text = Vec::new();
        while text.len() < MAX_ERROR {
            match response.chunk().await {
                Ok(Some(chunk)) => text.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        text.truncate(MAX_ERROR);
        let error = if status.is_success() {
            None
        } else if status.is_redirection() {
            Some(format!(
                "the receiver answered {status}; redirects are not followed, give the final URL"
            ))
        } else {
            Some(format!(
                "the receiver answered {status}: {}",
                String::from_utf8_lossy(&text)
            ))
        };
        Answer {
            status: Some(status.as_u16()),
            error,
            retry_after,
            took: started.elapsed(),
        }
    }
}

/// A transport error in words (with its causes).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `delay` ± 10%.
fn jitter(delay: Duration) -> Duration {
    if delay.is_zero() {
        return delay;
    }
    delay.mul_f64(rand::rng().random_range(0.9..1.1))
}

/// A `Retry-After` value (seconds, or an HTTP date), at most a day.
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let wait = match value.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
            (at.with_timezone(&Utc) - now).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `taskflow_webhook_attempts_total{outcome}` and the attempt's duration.
fn count(answer: &Answer) {
    let outcome = if answer.succeeded() {
        "succeeded"
    } else if answer.status.is_some() {
        "refused"
    } else {
        "unreachable"
    };
    metrics::counter!("taskflow_webhook_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("taskflow_webhook_attempt_seconds").record(answer.took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date_and_at_most_a_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sun, 06 Dec 2026 10:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn signatures_are_the_standard_librarys() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"type":"taskflow.ping.v1"}"#;
        let standard = standardwebhooks::Webhook::new(secret).unwrap();
        assert_eq!(
            sign(&signer(secret).unwrap(), "msg_1", 1_700_000_000, body),
            standard
                .sign("msg_1", 1_700_000_000, body.as_bytes())
                .unwrap()
        );
        assert!(signer("whsec_not base64!").is_none());
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let got = jitter(Duration::from_secs(100)).as_secs_f64();
            assert!((90.0..=110.0).contains(&got), "{got}");
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}

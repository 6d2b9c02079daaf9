//! The outbox relay: hands committed `task_events` rows to the Publisher in
//! sequence order, then marks them published. Each user's events are
//! published one after another (per-user order); different users' events in
//! a batch go out concurrently. It wakes on commit (an in-process notify, and
//! PostgreSQL LISTEN/NOTIFY for other processes) with a slow poll as
//! backstop. On PostgreSQL exactly one relay is active: it holds an advisory
//! lock on a connection of its own; standbys retry every second and take
//! over when the holder's connection goes away. A transport outage only
//! delays publishing: rows stay unpublished until the transport accepts them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use taskflow_events::{Backoff, Message, Publisher, Stopped, TOPICS, transport::pause};
use tokio_util::sync::CancellationToken;

use crate::database::RelayLease;
use crate::outbox::OutboxEvent;
use crate::{Clock, Database, Result, SystemClock};

/// How the relay batches and waits.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Most events read and published per round.
    pub batch: u32,
    /// Backstop poll when no commit notification arrives.
    pub poll: Duration,
    /// How often a standby relay tries to become the active one.
    pub standby_retry: Duration,
    /// Backoff after a database error.
    pub retry: Backoff,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            poll: Duration::from_secs(1),
            standby_retry: Duration::from_secs(1),
            retry: Backoff {
                initial: Duration::from_millis(200),
                max: Duration::from_secs(5),
            },
        }
    }
}

/// Runs the relay until `stop` is cancelled. The batch in hand is finished
/// (or, if the transport is down, left unpublished for the next start).
pub async fn run(
    db: Database,
    publisher: Arc<dyn Publisher>,
    config: RelayConfig,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let Ok(mut lease) = acquire(&db, &config, &stop).await else {
            break;
        };
        tracing::info!("outbox relay active");
        let listener = db.forward_announcements(&stop);
        let outcome = relay(&db, publisher.as_ref(), &config, &mut lease, &stop).await;
        if let Some(listener) = listener {
            listener.abort();
        }
        if outcome.is_err() {
            break;
        }
        tracing::warn!("outbox relay lost its lock; standing by");
    }
    tracing::info!("outbox relay stopped");
}

async fn acquire(
    db: &Database,
    config: &RelayConfig,
    stop: &CancellationToken,
) -> Result<RelayLease, Stopped> {
    let mut waiting_logged = false;
    loop {
        match db.try_relay_lease().await {
            Ok(Some(lease)) => return Ok(lease),
            Ok(None) if !waiting_logged => {
                tracing::info!("another outbox relay is active; standing by");
                waiting_logged = true;
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "cannot take the relay lock"),
        }
        pause(stop, config.standby_retry).await?;
    }
}

/// Relays until stopped (Err) or the lease is lost (Ok).
async fn relay(
    db: &Database,
    publisher: &dyn Publisher,
    config: &RelayConfig,
    lease: &mut RelayLease,
    stop: &CancellationToken,
) -> Result<(), Stopped> {
    let mut failures = 0;
    loop {
        if stop.is_cancelled() {
            return Err(Stopped);
        }
        let batch = match db.unpublished(config.batch).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(error = %err, "relay cannot read the outbox");
                pause(stop, config.retry.delay(failures)).await?;
                failures = failures.saturating_add(1);
                if !lease.still_held().await {
                    return Ok(());
                }
                continue;
            }
        };
        failures = 0;
        // Another relay may have taken over if our lock connection died
        // while we were busy: never publish without the lock.
        if !batch.is_empty() && !lease.still_held().await {
            return Ok(());
        }
        if batch.is_empty() {
            tokio::select! {
                _ = stop.cancelled() => return Err(Stopped),
                _ = db.commits().notified() => {}
                _ = tokio::time::sleep(config.poll) => {
                    if !lease.still_held().await {
                        return Ok(());
                    }
                }
            }
            continue;
        }
        let (published, stopped) = publish_batch(&batch, publisher, stop).await;
        mark(db, &published, config, stop).await?;
        if stopped {
            return Err(Stopped);
        }
        if published.is_empty() {
            // Nothing went out (an unbuildable event heads every chain):
            // do not spin on it.
            pause(stop, config.retry.max).await?;
        }
    }
}

/// Publishes a batch, each user's events in order, users concurrently.
/// Returns the sequences published and whether shutdown interrupted.
async fn publish_batch(
    batch: &[OutboxEvent],
    publisher: &dyn Publisher,
    stop: &CancellationToken,
) -> (Vec<i64>, bool) {
    let mut chains: Vec<Vec<&OutboxEvent>> = Vec::new();
    let mut by_user: HashMap<&str, usize> = HashMap::new();
    for event in batch {
        let chain = *by_user.entry(&event.user_id).or_insert_with(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        chains[chain].push(event);
    }
    let results = join_all(
        chains
            .into_iter()
            .map(|chain| publish_chain(chain, publisher, stop)),
    )
    .await;
    let stopped = results.iter().any(|(_, stopped)| *stopped);
    (
        results.into_iter().flat_map(|(done, _)| done).collect(),
        stopped,
    )
}

/// Publishes one user's events in order. Each topic is an independent
/// ordered stream (a task change's `task-events` message and its
/// `task-updates` notice, a reminder's `reminders` message), published side
/// by side, each as one run; an event is done when all of its messages are.
async fn publish_chain(
    chain: Vec<&OutboxEvent>,
    publisher: &dyn Publisher,
    stop: &CancellationToken,
) -> (Vec<i64>, bool) {
    let mut runs: [Vec<Message>; TOPICS.len()] = Default::default();
    let mut built = 0;
    for event in &chain {
        match event.messages() {
            Ok(messages) => {
                for message in messages {
                    if let Some(run) = TOPICS.iter().position(|t| *t == message.topic) {
                        runs[run].push(message);
                    }
                }
                built += 1;
            }
            Err(err) => {
                // Unreachable for valid rows; stop this user's chain here so
                // order holds, and leave the row for a fixed build.
                tracing::error!(sequence = event.sequence, error = %err, "cannot build the event's messages");
                break;
            }
        }
    }
    let streams = join_all(runs.iter().map(|run| publish_run(run, publisher, stop))).await;
    // A run is accepted whole or published again whole.
    let through = if streams.iter().all(|done| *done) {
        built
    } else {
        0
    };
    let done = chain.iter().take(through).map(|e| e.sequence).collect();
    (done, streams.iter().any(|done| !*done))
}

/// Publishes one topic's run; whether it was all accepted.
async fn publish_run(run: &[Message], publisher: &dyn Publisher, stop: &CancellationToken) -> bool {
    if run.is_empty() {
        return true;
    }
    if publisher.publish_all(run, stop).await.is_err() {
        return false;
    }
    for message in run {
        message.span().in_scope(|| tracing::debug!("published"));
        metrics::counter!("taskflow_events_published_total", "topic" => message.topic).increment(1);
    }
    true
}

/// Marks events published, retrying: a publish that is not recorded would
/// only be published again (at least once), but keep that rare.
async fn mark(
    db: &Database,
    sequences: &[i64],
    config: &RelayConfig,
    stop: &CancellationToken,
) -> Result<(), Stopped> {
    if sequences.is_empty() {
        return Ok(());
    }
    let mut attempt = 0;
    loop {
        match db.mark_published(sequences, SystemClock.now()).await {
            Ok(()) => return Ok(()),
            Err(err) if attempt < 10 => {
                tracing::warn!(error = %err, "cannot mark events published; retrying");
                pause(stop, config.retry.delay(attempt)).await?;
                attempt += 1;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot mark events published; they will be published again");
                return Ok(());
            }
        }
    }
}

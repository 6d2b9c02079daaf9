//! Reminders: fires `reminder due` at each task's reminder instant (or the
//! end of its snooze) and `task overdue` at its deadline if it is still open,
//! publishing each on `reminders`.
//!
//! The scheduler knows the next instant and sleeps until it; every
//! `task-events` delivery wakes it to look again (a due date, reminder or
//! snooze may have moved, or the task was completed or deleted), and so does
//! a tokio-cron-scheduler sweep each minute (a safety net) and, in a
//! cluster, Dapr's cron binding at `POST /reminder-sweep`. Claims are
//! conditional updates in the database, so each (task, kind, instant) fires
//! once across restarts and replicas; the claim records the message, which
//! is published again if its scheduler stopped before the transport had it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use taskflow_events::{
    Backoff, Delivery, Handler, Outcome, Publisher, TASK_EVENTS, TaskEventMessage,
};
use taskflow_store::{Dispatch, TaskService};
use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How many reminders (and as many overdue notices) one claim takes.
const BATCH: u32 = 200;
/// How long a claimed dispatch may stay unconfirmed before another pass
/// publishes it again (its scheduler may be retrying a slow transport).
const REPUBLISH_AFTER: chrono::Duration = chrono::Duration::seconds(60);
/// The longest sleep when nothing is scheduled; the minute sweep wakes it
/// sooner anyway.
const IDLE: Duration = Duration::from_secs(3600);

/// The reminder scheduler. Cheap to clone; every clone wakes the same loop.
#[derive(Debug, Clone)]
pub struct Reminders(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    tasks: TaskService,
    publisher: Arc<dyn Publisher>,
    wake: Notify,
}

impl Reminders {
    /// A scheduler over `tasks`, publishing through `publisher`.
    pub fn new(tasks: TaskService, publisher: Arc<dyn Publisher>) -> Self {
        Reminders(Arc::new(Inner {
            tasks,
            publisher,
            wake: Notify::new(),
        }))
    }

    /// Makes the scheduler look again now (a wake-up while it is busy is
    /// kept for its next wait).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Publishes what is due now and returns how many messages went out:
    /// first dispatches whose publication was never confirmed, then new
    /// claims until none are left. Stops early, without error, on `stop`.
    pub async fn sweep(&self, stop: &CancellationToken) -> taskflow_store::Result<usize> {
        self.sweep_after(REPUBLISH_AFTER, stop).await
    }

    /// A sweep that publishes again dispatches unconfirmed for `grace`.
    async fn sweep_after(
        &self,
        grace: chrono::Duration,
        stop: &CancellationToken,
    ) -> taskflow_store::Result<usize> {
        let tasks = &self.0.tasks;
        // One batch per sweep: rows whose marking fails come back next time.
        let stale = tasks.unpublished_dispatches(grace, BATCH).await?;
        let mut sent = self.publish(stale, stop).await;
        loop {
            let fired = tasks.claim_due_reminders(BATCH).await?;
            if fired.is_empty() || stop.is_cancelled() {
                return Ok(sent);
            }
            let now = tasks.now();
            for dispatch in &fired {
                let late = (now - dispatch.instant).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!("taskflow_reminder_delay_seconds", "kind" => dispatch.kind.clone())
                    .record(late);
            }
            sent += self.publish(fired, stop).await;
        }
    }

    async fn publish(&self, dispatches: Vec<Dispatch>, stop: &CancellationToken) -> usize {
        let mut sent = 0;
        for dispatch in dispatches {
            // Each fired reminder starts a trace (its message carries it).
            let span = tracing::error_span!(
                "reminder",
                task = dispatch.task_id,
                kind = %dispatch.kind,
                trace_id = dispatch.message.event.trace_id(),
            );
            let published = self
                .0
                .publisher
                .publish(&dispatch.message, stop)
                .instrument(span.clone())
                .await;
            if published.is_err() {
                break; // stopping; the next start publishes it again
            }
            span.in_scope(|| tracing::debug!(instant = %dispatch.instant, "reminder fired"));
            sent += 1;
            metrics::counter!("taskflow_reminders_fired_total", "kind" => dispatch.kind.clone())
                .increment(1);
            if let Err(err) = self.0.tasks.mark_dispatched(&dispatch).await {
                // Published but not marked: a later pass sends it again, and
                // consumers drop the repeat by its id.
                tracing::warn!(task = dispatch.task_id, error = %err, "cannot mark a reminder published");
            }
        }
        sent
    }

    /// Runs until `stop`: [`Reminders::schedule`], with a
    /// tokio-cron-scheduler job waking it every minute as a safety net.
    pub async fn run(self, stop: CancellationToken) {
        let mut cron = match self.minute_sweep().await {
            Ok(cron) => Some(cron),
            Err(err) => {
                tracing::warn!(error = %err, "cannot start the minute sweep; relying on exact timers and task events");
                None
            }
        };
        self.schedule(stop).await;
        if let Some(cron) = cron.as_mut() {
            let _ = cron.shutdown().await;
        }
    }

    /// The scheduling loop alone, until `stop`: sweep, sleep until the next
    /// instant or a wake-up (a task event, [`Reminders::wake`]), repeat.
    pub async fn schedule(&self, stop: CancellationToken) {
        let backoff = Backoff::default();
        let mut failures = 0;
        // The first sweep also publishes what a previous run of this
        // process claimed but could not confirm before it stopped.
        let mut grace = chrono::Duration::zero();
        while !stop.is_cancelled() {
            let swept = self.sweep_after(grace, &stop).await;
            if swept.is_ok() {
                grace = REPUBLISH_AFTER;
            }
            let next = match swept {
                Ok(_) => self.0.tasks.next_reminder_instant().await,
                Err(err) => Err(err),
            };
            let sleep = match next {
                Ok(next) => {
                    failures = 0;
                    match next {
                        // Still due after a sweep (claimed elsewhere, or held
                        // by a snooze): look again shortly, not in a loop.
                        Some(at) => (at - self.0.tasks.now())
                            .to_std()
                            .unwrap_or_default()
                            .max(Duration::from_millis(100)),
                        None => IDLE,
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the reminder scheduler cannot read the database; retrying");
                    failures += 1;
                    backoff.delay(failures - 1)
                }
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.0.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    async fn minute_sweep(&self) -> Result<JobScheduler, tokio_cron_scheduler::JobSchedulerError> {
        let cron = JobScheduler::new().await?;
        let me = self.clone();
        cron.add(Job::new("0 * * * * *", move |_, _| me.wake())?)
            .await?;
        cron.start().await?;
        Ok(cron)
    }

    /// The route of Dapr's cron input binding `reminder-sweep`: runs one
    /// sweep and answers exactly 200 (Dapr treats anything else as failure).
    pub fn routes(&self) -> Router {
        Router::new()
            .route("/reminder-sweep", post(cron_sweep))
            .with_state(self.clone())
    }
}

async fn cron_sweep(State(reminders): State<Reminders>) -> StatusCode {
    match reminders.sweep(&CancellationToken::new()).await {
        Ok(_) => StatusCode::OK,
        Err(err) => {
            tracing::warn!(error = %err, "the cron sweep failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Every task change may move an instant: look again.
impl Handler for Reminders {
    type Payload = TaskEventMessage;
    const TOPIC: &'static str = TASK_EVENTS;
    const NAME: &'static str = "reminders";

    async fn handle(&self, _: Delivery<TaskEventMessage>) -> Outcome {
        self.wake();
        Outcome::Success
    }
}

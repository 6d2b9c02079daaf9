//! Reminders: fires `reminder due` at each task's reminder instant (or the
//! end of its snooze) and `task overdue` at its deadline if it is still open.
//! Firing is a claim in the database that appends the `reminders` message to
//! the outbox in the same transaction; the relay publishes it.
//!
//! The scheduler knows the next instant and sleeps until it; every
//! `task-events` delivery wakes it to look again (a due date, reminder or
//! snooze may have moved, or the task was completed or deleted), and so does
//! a tokio-cron-scheduler sweep each minute (a safety net) and, in a
//! cluster, Dapr's cron binding at `POST /reminder-sweep`. Claims are
//! conditional updates in the database, so each (task, kind, instant) fires
//! once across restarts and replicas, and a sweep never waits on the broker.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use taskflow_events::{
    Backoff, Delivery, Handler, Outcome, TASK_EVENT_PREFIX, TASK_EVENTS, TaskEventMessage,
};
use taskflow_store::TaskService;
use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

/// How many reminders (and as many overdue notices) one claim takes.
const BATCH: u32 = 200;
/// The longest sleep when nothing is scheduled; the minute sweep wakes it
/// sooner anyway.
const IDLE: Duration = Duration::from_secs(3600);

/// The reminder scheduler. Cheap to clone; every clone wakes the same loop.
#[derive(Debug, Clone)]
pub struct Reminders(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    tasks: TaskService,
    wake: Notify,
}

impl Reminders {
    /// A scheduler over `tasks`.
    pub fn new(tasks: TaskService) -> Self {
        Reminders(Arc::new(Inner {
            tasks,
            wake: Notify::new(),
        }))
    }

    /// Makes the scheduler look again now (a wake-up while it is busy is
    /// kept for its next wait).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Fires what is due now and returns how many fired: claims until none
    /// are left, each claim's messages committed to the outbox with it.
    pub async fn sweep(&self) -> taskflow_store::Result<usize> {
        let tasks = &self.0.tasks;
        let mut fired = 0;
        loop {
            let batch = tasks.claim_due_reminders(BATCH).await?;
            if batch.is_empty() {
                return Ok(fired);
            }
            let now = tasks.now();
            for reminder in &batch {
                let late = (now - reminder.instant).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!("taskflow_reminder_delay_seconds", "kind" => reminder.label())
                    .record(late);
                metrics::counter!("taskflow_reminders_fired_total", "kind" => reminder.label())
                    .increment(1);
                tracing::debug!(task = reminder.task_id, kind = reminder.label(), instant = %reminder.instant, "reminder fired");
            }
            fired += batch.len();
        }
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
        while !stop.is_cancelled() {
            let next = match self.sweep().await {
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
    match reminders.sweep().await {
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

    fn accepts(event_type: &str) -> bool {
        event_type.starts_with(TASK_EVENT_PREFIX)
    }

    async fn handle(&self, _: Delivery<TaskEventMessage>) -> Outcome {
        self.wake();
        Outcome::Success
    }
}

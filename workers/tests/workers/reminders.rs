//! The reminder scheduler on SQLite and PostgreSQL with a manual clock (no
//! test waits for real time to pass): reminders and overdue notices fire at
//! their instants, once; snoozes postpone, due-date changes re-arm,
//! completion and deletion cancel; a restart or a second scheduler fires
//! nothing twice and misses nothing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use serde_json::json;
use taskflow_core::{CreateTask, SnoozeTask, Task, UpdateTask};
use taskflow_events::{
    Backoff, InProcessBus, Message, Publisher, REMINDERS, ReminderMessage, Source, Stopped,
};
use taskflow_store::{Actor, Body, RelayConfig};
use taskflow_testkit::harness::{Harness, start};
use taskflow_testkit::{on_both_databases, wait_for};
use taskflow_workers::reminders::Reminders;
use tokio_util::sync::CancellationToken;

/// Keeps every message it is given.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Message>>);

impl Publisher for Recorder {
    fn publish<'a>(
        &'a self,
        message: &'a Message,
        _: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>> {
        self.0.lock().unwrap().push(message.clone());
        Box::pin(async { Ok(()) })
    }
}

/// The reminders the scheduler has fired: its messages in the outbox.
struct Outbox<'h> {
    h: &'h Harness,
    /// The last sequence taken.
    seen: Mutex<i64>,
}

impl<'h> Outbox<'h> {
    fn of(h: &'h Harness) -> Self {
        Self {
            h,
            seen: Mutex::new(0),
        }
    }

    /// Every reminder message in the outbox, oldest first.
    async fn all(&self) -> Vec<(i64, ReminderMessage, String)> {
        let rows = self
            .h
            .svc
            .database()
            .events_after("alice", 0, 10_000)
            .await
            .unwrap();
        rows.into_iter()
            .filter_map(|row| match row.body {
                Body::Reminder(message) => Some((row.sequence, message, row.event_id.to_string())),
                _ => None,
            })
            .collect()
    }

    /// (kind, task, fire_at) of each reminder fired since the last take.
    async fn take(&self) -> Vec<(String, i64, String)> {
        let mut seen = *self.seen.lock().unwrap();
        let mut fired = Vec::new();
        for (sequence, message, _) in self.all().await {
            if sequence > seen {
                seen = sequence;
                fired.push((
                    message.kind.as_str().to_owned(),
                    message.task_id,
                    message
                        .fire_at
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                ));
            }
        }
        *self.seen.lock().unwrap() = seen;
        fired
    }

    /// The ids of every reminder message.
    async fn ids(&self) -> Vec<String> {
        self.all().await.into_iter().map(|(_, _, id)| id).collect()
    }
}

fn alice() -> Actor {
    Actor::new("alice", Source::Api)
}

async fn task(h: &Harness, body: serde_json::Value) -> Task {
    let input: CreateTask = serde_json::from_value(body).unwrap();
    h.svc.create(&alice(), &input, None).await.unwrap()
}

fn at(minutes: i64) -> DateTime<Utc> {
    start() + TimeDelta::minutes(minutes)
}

/// Moves the clock `minutes` past 12:00 and sweeps.
async fn sweep_at(h: &Harness, reminders: &Reminders, minutes: i64) {
    h.clock.set(at(minutes));
    reminders.sweep().await.unwrap();
}

fn fired(kind: &str, task: &Task, minutes: i64) -> (String, i64, String) {
    (
        kind.to_owned(),
        task.id,
        at(minutes).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

on_both_databases!(
    reminders_and_overdue_notices_fire_at_their_instants_once,
    snoozing_postpones_moving_the_due_date_rearms_completing_and_deleting_cancel,
    a_claim_and_its_message_commit_together_and_go_out_once,
    two_schedulers_on_one_database_fire_each_instant_once,
    a_task_change_wakes_the_sleeping_scheduler,
);

async fn reminders_and_overdue_notices_fire_at_their_instants_once(h: &Harness) {
    let recorder = Outbox::of(h);
    let reminders = Reminders::new(h.svc.clone());
    // Due 13:00 UTC, reminder 30 minutes before; a date-only task is overdue
    // when its day ends.
    let meeting = task(h, json!({"title": "meeting", "due": "2026-03-23T13:00", "timezone": "UTC", "reminder": {"minutes_before": 30}})).await;
    let report = task(
        h,
        json!({"title": "report", "due": "2026-03-23", "timezone": "Europe/Berlin"}),
    )
    .await;

    sweep_at(h, &reminders, 0).await;
    sweep_at(h, &reminders, 29).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 30).await;
    assert_eq!(recorder.take().await, [fired("reminder_due", &meeting, 30)]);
    sweep_at(h, &reminders, 31).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 60).await;
    assert_eq!(recorder.take().await, [fired("task_overdue", &meeting, 60)]);
    // Berlin's 2026-03-23 ends at 23:00 UTC (UTC+1 in March before DST).
    sweep_at(h, &reminders, 659).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 660).await;
    assert_eq!(recorder.take().await, [fired("task_overdue", &report, 660)]);
    sweep_at(h, &reminders, 24 * 60).await;
    assert!(recorder.take().await.is_empty());
}

async fn snoozing_postpones_moving_the_due_date_rearms_completing_and_deleting_cancel(h: &Harness) {
    let recorder = Outbox::of(h);
    let reminders = Reminders::new(h.svc.clone());
    let snoozed = task(h, json!({"title": "snoozed", "due": "2026-03-23T13:00", "timezone": "UTC", "reminder": {"minutes_before": 30}})).await;
    let moved = task(h, json!({"title": "moved", "due": "2026-03-23T14:00", "timezone": "UTC", "reminder": {"minutes_before": 10}})).await;
    let done = task(h, json!({"title": "done", "due": "2026-03-23T12:20", "timezone": "UTC", "reminder": {"minutes_before": 5}})).await;
    let gone = task(h, json!({"title": "gone", "due": "2026-03-23T12:20", "timezone": "UTC", "reminder": {"minutes_before": 5}})).await;

    sweep_at(h, &reminders, 10).await;
    h.svc
        .complete(&alice(), done.id, None, false)
        .await
        .unwrap();
    h.svc.delete(&alice(), gone.id, None).await.unwrap();
    let update: UpdateTask = serde_json::from_value(json!({"due": "2026-03-23T15:00"})).unwrap();
    h.svc
        .update(&alice(), moved.id, &update, None)
        .await
        .unwrap();
    sweep_at(h, &reminders, 25).await;
    assert!(
        recorder.take().await.is_empty(),
        "completed and deleted tasks stay quiet"
    );

    // The reminder fires; "remind me in 15 minutes" fires it again then.
    sweep_at(h, &reminders, 30).await;
    assert_eq!(recorder.take().await, [fired("reminder_due", &snoozed, 30)]);
    let snooze = SnoozeTask {
        minutes: Some(15),
        until: None,
    };
    h.svc.snooze(&alice(), snoozed.id, &snooze).await.unwrap();
    sweep_at(h, &reminders, 44).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 45).await;
    assert_eq!(recorder.take().await, [fired("reminder_due", &snoozed, 45)]);

    // A snooze past the deadline holds the overdue notice until it ends.
    sweep_at(h, &reminders, 59).await;
    let snooze = SnoozeTask {
        minutes: Some(20),
        until: None,
    };
    h.svc.snooze(&alice(), snoozed.id, &snooze).await.unwrap();
    sweep_at(h, &reminders, 60).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 79).await;
    assert_eq!(
        recorder.take().await,
        [
            fired("reminder_due", &snoozed, 79),
            fired("task_overdue", &snoozed, 60)
        ]
    );

    // The moved task: not at its old instant (13:50), at its new one.
    sweep_at(h, &reminders, 110).await;
    assert!(recorder.take().await.is_empty());
    sweep_at(h, &reminders, 170).await;
    assert_eq!(recorder.take().await, [fired("reminder_due", &moved, 170)]);
    // Moved on, then back: the reminder instant that already fired does not
    // fire again; the deadline that never did is now past and does.
    let update: UpdateTask = serde_json::from_value(json!({"due": "2026-03-23T15:30"})).unwrap();
    h.svc
        .update(&alice(), moved.id, &update, None)
        .await
        .unwrap();
    sweep_at(h, &reminders, 200).await;
    assert_eq!(recorder.take().await, [fired("reminder_due", &moved, 200)]);
    let update: UpdateTask = serde_json::from_value(json!({"due": "2026-03-23T15:00"})).unwrap();
    h.svc
        .update(&alice(), moved.id, &update, None)
        .await
        .unwrap();
    sweep_at(h, &reminders, 201).await;
    assert_eq!(recorder.take().await, [fired("task_overdue", &moved, 180)]);
}

async fn a_claim_and_its_message_commit_together_and_go_out_once(h: &Harness) {
    for n in 0..3 {
        task(
            h,
            json!({"title": format!("t{n}"), "due": "2026-03-23T12:30", "timezone": "UTC"}),
        )
        .await;
    }
    h.clock.set(at(30));
    // A scheduler claims the three and stops: their messages are committed
    // with the claim, waiting for the relay, not for that scheduler.
    assert_eq!(h.svc.claim_due_reminders(100).await.unwrap().len(), 3);
    let outbox = Outbox::of(h);
    assert_eq!(outbox.ids().await.len(), 3);

    // Whichever process's relay runs next publishes each once.
    let recorder = Arc::new(Recorder::default());
    let stop = CancellationToken::new();
    let relay = tokio::spawn(taskflow_store::relay::run(
        h.svc.database().clone(),
        recorder.clone(),
        RelayConfig::default(),
        stop.clone(),
    ));
    let published = || {
        let messages = recorder.0.lock().unwrap();
        messages
            .iter()
            .filter(|m| m.topic == REMINDERS)
            .map(|m| m.event.id.clone())
            .collect::<Vec<_>>()
    };
    wait_for(
        "the relay to publish the 3 claimed reminders",
        Duration::from_secs(10),
        || async { published().len() >= 3 },
    )
    .await;
    Reminders::new(h.svc.clone()).sweep().await.unwrap();
    h.clock.set(at(120));
    Reminders::new(h.svc.clone()).sweep().await.unwrap();
    assert_eq!(outbox.ids().await.len(), 3, "nothing fires twice");
    stop.cancel();
    relay.await.unwrap();
    let ids = published();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3);
    let mut fired = outbox.ids().await;
    fired.sort();
    let mut sent = ids.clone();
    sent.sort();
    assert_eq!(fired, sent, "the message ids are the outbox rows' ids");
}

async fn two_schedulers_on_one_database_fire_each_instant_once(h: &Harness) {
    for n in 0..40 {
        task(h, json!({"title": format!("t{n}"), "due": "2026-03-23T12:30", "timezone": "UTC", "reminder": {"minutes_before": n % 7}})).await;
    }
    let first = Reminders::new(h.svc.clone());
    let second = Reminders::new(h.svc.clone());
    for minutes in [24, 26, 28, 30, 31] {
        h.clock.set(at(minutes));
        let (x, y) = tokio::join!(first.sweep(), second.sweep());
        assert!(x.unwrap() + y.unwrap() <= 80);
    }
    let all = Outbox::of(h).ids().await;
    assert_eq!(all.len(), 80, "40 reminders and 40 overdue notices");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 80);
}

async fn a_task_change_wakes_the_sleeping_scheduler(h: &Harness) {
    let recorder = Outbox::of(h);
    let reminders = Reminders::new(h.svc.clone());
    // Task events reach the scheduler as in `taskflow serve`: the relay
    // publishes them through an in-process bus holding its handler.
    let bus = InProcessBus::new(vec![Arc::new(reminders.clone())], Backoff::default(), 3);
    let stop = CancellationToken::new();
    let relay = tokio::spawn(taskflow_store::relay::run(
        h.svc.database().clone(),
        Arc::new(bus),
        RelayConfig {
            poll: Duration::from_millis(20),
            ..RelayConfig::default()
        },
        stop.clone(),
    ));
    // A first task due now fires in the scheduler's first sweep; then
    // nothing is scheduled and it sleeps for an hour.
    task(
        h,
        json!({"title": "first", "due": "2026-03-23T12:00", "timezone": "UTC"}),
    )
    .await;
    // The loop alone, without the minute sweep: only a wake-up (here, the
    // task event) ends its hour-long sleep.
    let running = tokio::spawn({
        let (reminders, stop) = (reminders.clone(), stop.clone());
        async move { reminders.schedule(stop).await }
    });
    wait_for(
        "the first sweep to fire the first task",
        Duration::from_secs(10),
        || async { recorder.ids().await.len() == 1 },
    )
    .await;
    // A task due now created meanwhile fires only because its event wakes
    // the scheduler.
    task(
        h,
        json!({"title": "now", "due": "2026-03-23T12:00", "timezone": "UTC"}),
    )
    .await;
    wait_for(
        "the task event to wake the scheduler and so fire the new task",
        Duration::from_secs(10),
        || async { recorder.ids().await.len() == 2 },
    )
    .await;
    stop.cancel();
    running.await.unwrap();
    relay.await.unwrap();
}

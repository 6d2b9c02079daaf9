//! The recurrence worker end to end on SQLite and PostgreSQL: for each rule,
//! complete the current occurrence, let the relay deliver the event to the
//! handler through the in-process bus, and check the next occurrence's due
//! date — daily, every 2 days, weekly on Mon/Wed/Fri, monthly on the 31st,
//! yearly on Feb 29, across DST changes in Europe/Berlin and
//! America/New_York, COUNT=3 and UNTIL — and that it keeps the task's
//! title, description, priority, tags, reminder offset and zone.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use taskflow_core::{CreateTask, ListQuery, Task};
use taskflow_events::{Backoff, InProcessBus, Source};
use taskflow_store::{Actor, RelayConfig};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::{on_both_databases, wait_for};
use taskflow_workers::recurrence::Recurrence;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(30);

/// (rule, first due, zone, the dues that follow; fewer than 3 when the
/// series ends).
const CASES: &[(&str, &str, &str, &[&str])] = &[
    (
        "FREQ=DAILY",
        "2026-03-01",
        "UTC",
        &["2026-03-02", "2026-03-03", "2026-03-04"],
    ),
    (
        "FREQ=DAILY;INTERVAL=2",
        "2026-03-01",
        "UTC",
        &["2026-03-03", "2026-03-05", "2026-03-07"],
    ),
    (
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "2026-03-23T09:00",
        "UTC",
        &[
            "2026-03-25T09:00:00",
            "2026-03-27T09:00:00",
            "2026-03-30T09:00:00",
        ],
    ),
    (
        "FREQ=MONTHLY",
        "2026-01-31",
        "UTC",
        &["2026-02-28", "2026-03-31", "2026-04-30"],
    ),
    (
        "FREQ=YEARLY",
        "2028-02-29",
        "UTC",
        &["2029-02-28", "2030-02-28", "2031-02-28"],
    ),
    // Berlin moves its clocks forward on 2026-03-29: 09:00 stays 09:00.
    (
        "FREQ=DAILY",
        "2026-03-28T09:00",
        "Europe/Berlin",
        &[
            "2026-03-29T09:00:00",
            "2026-03-30T09:00:00",
            "2026-03-31T09:00:00",
        ],
    ),
    // New York moves its clocks forward on 2026-03-08.
    (
        "FREQ=WEEKLY",
        "2026-03-02T09:00",
        "America/New_York",
        &[
            "2026-03-09T09:00:00",
            "2026-03-16T09:00:00",
            "2026-03-23T09:00:00",
        ],
    ),
    (
        "FREQ=DAILY;COUNT=3",
        "2026-03-01",
        "UTC",
        &["2026-03-02", "2026-03-03"],
    ),
    (
        "FREQ=DAILY;UNTIL=20260303",
        "2026-03-01",
        "UTC",
        &["2026-03-02", "2026-03-03"],
    ),
];

on_both_databases!(each_rule_yields_the_right_next_occurrences_through_the_worker);

async fn each_rule_yields_the_right_next_occurrences_through_the_worker(h: &Harness) {
    let bus = InProcessBus::new(
        vec![Arc::new(Recurrence::new(h.svc.clone()))],
        Backoff::default(),
        3,
    );
    let stop = CancellationToken::new();
    let config = RelayConfig {
        poll: Duration::from_millis(20),
        ..RelayConfig::default()
    };
    tokio::spawn(taskflow_store::relay::run(
        h.svc.database().clone(),
        Arc::new(bus),
        config,
        stop.clone(),
    ));
    let actor = Actor::new("alice", Source::Api);
    for (rule, first, zone, expected) in CASES {
        let input: CreateTask = serde_json::from_value(json!({
            "title": format!("every {rule}"), "description": "notes", "priority": "high",
            "tags": ["home"], "due": first, "timezone": zone, "recurrence": rule,
            "reminder": {"minutes_before": 30},
        }))
        .unwrap();
        let mut current = h.svc.create(&actor, &input, None).await.unwrap();
        let mut dues = Vec::new();
        loop {
            h.svc
                .complete(&actor, current.id, None, false)
                .await
                .unwrap();
            // The relay marks an event published once the bus delivered it.
            let published = format!(
                "SELECT COUNT(*) FROM task_events WHERE task_id = {} \
                 AND event_type = 'completed' AND published_at IS NOT NULL",
                current.id
            );
            let handled = || async { h.raw.scalar(&published).await == 1 };
            wait_for(
                format!("the bus to deliver the completion of {rule}"),
                DEADLINE,
                handled,
            )
            .await;
            let Some(next) = next_of(h, current.id).await else {
                break;
            };
            assert_eq!(
                (
                    &next.title,
                    &next.description,
                    next.priority,
                    &next.tags,
                    next.reminder,
                    &next.timezone
                ),
                (
                    &current.title,
                    &current.description,
                    current.priority,
                    &current.tags,
                    current.reminder,
                    &current.timezone
                ),
                "{rule}: the next occurrence keeps the task"
            );
            assert!(!next.completed);
            dues.push(next.due.clone().unwrap());
            current = next;
            if dues.len() == 3 {
                break;
            }
        }
        assert_eq!(&dues, expected, "{rule} from {first} in {zone}");
    }
    stop.cancel();
}

async fn next_of(h: &Harness, id: i64) -> Option<Task> {
    let query = ListQuery {
        limit: Some(100),
        ..Default::default()
    };
    let page = h.svc.list("alice", &query).await.unwrap();
    page.tasks.into_iter().find(|t| t.previous_id == Some(id))
}

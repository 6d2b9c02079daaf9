//! Webhooks on SQLite and PostgreSQL, consumer and sender together against
//! a receiver on loopback that every request is verified at with the
//! Standard Webhooks library: each event reaches the endpoint once, signed,
//! in sequence order, however often the consumer is given it; a receiver
//! down for a minute gets everything afterwards, each event always under
//! one `webhook-id`; `Retry-After` is honoured, 410 disables the endpoint
//! and tells its owner; a rotated secret signs beside the old one for a day.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use taskflow_core::{CreateTask, CreateWebhook, DeliveryQuery, NotificationQuery};
use taskflow_events::{CloudEvent, ErasedHandler, Outcome, Source, TASK_EVENTS};
use taskflow_store::{Actor, Clock, TaskService, delivery_id};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::receiver::{Received, Receiver};
use taskflow_testkit::{Lazy, on_both_databases, wait_for};
use taskflow_workers::webhooks::{Sender, SenderConfig, WebhookConsumer};
use tokio_util::sync::CancellationToken;

on_both_databases!(
    every_event_reaches_the_endpoint_once_signed_and_in_order,
    a_receiver_down_for_a_minute_gets_everything_afterwards_under_the_same_ids,
    retry_after_is_honoured_and_410_disables_the_endpoint,
    a_rotated_secret_signs_beside_the_old_one_for_a_day,
    a_member_removed_or_demoted_is_sent_nothing_more_of_the_list,
    a_message_the_relay_found_no_endpoint_for_is_passed_over,
    new_deliveries_wake_the_sender_without_a_poll,
);

const DEADLINE: Duration = Duration::from_secs(15);

/// Alice's endpoint at a fresh receiver, a consumer and a running sender.
struct Hooked {
    svc: TaskService,
    receiver: Receiver,
    endpoint: i64,
    secret: String,
    consumer: WebhookConsumer,
    /// The last sequence fed to the consumer.
    fed: i64,
    stop: CancellationToken,
}

impl Drop for Hooked {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn hooked(h: &Harness) -> Hooked {
    hooked_as(h, "alice", None).await
}

/// `user`'s endpoint (of `list` only, if given) at a fresh receiver.
async fn hooked_as(h: &Harness, user: &str, list: Option<i64>) -> Hooked {
    hooked_polling(h, user, list, Duration::from_millis(20)).await
}

/// As [`hooked_as`], the sender looking for deliveries every `poll`.
async fn hooked_polling(h: &Harness, user: &str, list: Option<i64>, poll: Duration) -> Hooked {
    let svc = h.svc.clone().with_insecure_webhooks(true);
    let receiver = Receiver::start().await;
    let created = svc
        .create_webhook(
            user,
            &CreateWebhook {
                url: receiver.url(),
                list_id: list,
                ..CreateWebhook::default()
            },
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    let stop = CancellationToken::new();
    let config = SenderConfig {
        insecure: true,
        poll,
        ..SenderConfig::default()
    };
    let sender = Sender::new(svc.clone(), config).unwrap();
    tokio::spawn(sender.run(stop.clone()));
    Hooked {
        consumer: WebhookConsumer::new(svc.clone()),
        svc,
        receiver,
        endpoint: created.webhook.id,
        secret: created.secret,
        fed: 0,
        stop,
    }
}

impl Hooked {
    async fn create(&self, user: &str, title: &str) -> i64 {
        let input = CreateTask {
            title: title.into(),
            ..CreateTask::default()
        };
        self.svc
            .create(&Actor::new(user, Source::Api), &input, None)
            .await
            .unwrap()
            .id
    }

    /// The `task-events` messages written since the last feed, as the bus
    /// delivers them.
    async fn messages(&self) -> Vec<CloudEvent<Value>> {
        let events = self.svc.database().unpublished(10_000).await.unwrap();
        events
            .iter()
            .filter(|e| e.sequence > self.fed)
            .flat_map(|e| e.messages().unwrap())
            .filter(|m| m.topic == TASK_EVENTS)
            .map(|m| m.event)
            .collect()
    }

    /// The `task-events` messages written since the last feed (each is
    /// committed, in sequence order, once its write is answered).
    async fn written(&self) -> Vec<CloudEvent<Value>> {
        self.messages().await
    }

    /// Gives the consumer `messages`, `times` times over.
    async fn deliver(&self, messages: &[CloudEvent<Value>], times: usize) {
        let run: Vec<_> = messages.iter().collect();
        let stop = CancellationToken::new();
        for _ in 0..times {
            let outcomes = self.consumer.deliver_all(&run, &stop).await;
            assert!(
                outcomes.iter().all(|o| *o == Outcome::Success),
                "{outcomes:?}"
            );
        }
    }

    /// Gives the consumer what was written since the last feed, `times`
    /// times over.
    async fn feed(&mut self, times: usize) {
        let messages = self.written().await;
        self.deliver(&messages, times).await;
        if let Some(last) = self
            .svc
            .database()
            .unpublished(10_000)
            .await
            .unwrap()
            .last()
        {
            self.fed = last.sequence;
        }
    }

    async fn until_accepted(&self, count: usize) -> Vec<Received> {
        let receiver = &self.receiver;
        wait_for(
            Lazy(|| {
                format!(
                    "{count} accepted deliveries (received {:?})",
                    receiver
                        .received()
                        .iter()
                        .map(|r| (r.answered, r.json()["data"]["sequence"].clone()))
                        .collect::<Vec<_>>()
                )
            }),
            DEADLINE,
            || async { receiver.accepted().len() >= count },
        )
        .await;
        receiver.accepted()
    }

    async fn until_received(&self, count: usize) {
        let receiver = &self.receiver;
        wait_for(format!("{count} requests"), DEADLINE, || async {
            receiver.received().len() >= count
        })
        .await;
    }

    /// Waits until the oldest delivery has had `count` attempts recorded.
    async fn until_attempts(&self, count: i32) -> taskflow_core::Delivery {
        wait_for(format!("{count} attempts recorded"), DEADLINE, || async {
            self.deliveries()
                .await
                .iter()
                .any(|d| d.attempts >= count && d.status.as_str() == "pending")
        })
        .await;
        let deliveries = self.deliveries().await;
        deliveries
            .into_iter()
            .find(|d| d.attempts >= count && d.status.as_str() == "pending")
            .unwrap()
    }

    async fn deliveries(&self) -> Vec<taskflow_core::Delivery> {
        let endpoint = self.svc.webhooks("alice").await.unwrap();
        let owner = if endpoint.iter().any(|w| w.id == self.endpoint) {
            "alice"
        } else {
            "bob"
        };
        self.svc
            .webhook_deliveries(
                owner,
                self.endpoint,
                &DeliveryQuery {
                    limit: Some(100),
                    ..DeliveryQuery::default()
                },
            )
            .await
            .unwrap()
            .deliveries
    }
}

/// The sequence a request carries.
fn sequence(r: &Received) -> i64 {
    r.json()["data"]["sequence"].as_i64().unwrap()
}

async fn every_event_reaches_the_endpoint_once_signed_and_in_order(h: &Harness) {
    let mut hook = hooked(h).await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(hook.create("alice", &format!("task {n}")).await);
    }
    for id in &ids[..2] {
        hook.svc
            .complete(&Actor::new("alice", Source::Api), *id, None, false)
            .await
            .unwrap();
    }
    hook.create("bob", "not alice's").await;
    // Every message given twice, the second time in the same run.
    hook.feed(2).await;
    let got = hook.until_accepted(12).await;
    let events: HashMap<i64, uuid::Uuid> = hook
        .svc
        .database()
        .events_after("alice", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.sequence, e.event_id))
        .collect();
    assert_eq!(got.len(), 12, "each event once");
    let sequences: Vec<_> = got.iter().map(sequence).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    for r in &got {
        assert!(r.verifies_with(&hook.secret), "{:?}", r.headers);
        let body = r.json();
        let event = events[&sequence(r)];
        assert_eq!(r.id(), delivery_id(event, hook.endpoint).to_string());
        assert_eq!(r.header("content-type"), "application/json");
        assert!(body["type"].as_str().unwrap().starts_with("taskflow.task."));
        assert_eq!(body["data"]["actor"]["id"], "alice");
        assert!(body["timestamp"].is_string());
    }
    assert_eq!(got[0].json()["data"]["task"]["title"], "task 0");
    assert_eq!(got[11].json()["type"], "taskflow.task.completed.v1");
    assert!(got[11].json()["data"]["changes"]["completed"].is_object());
    // Given again later: nothing new is written or sent.
    hook.fed = 0;
    hook.feed(1).await;
    wait_for("every delivery recorded as sent", DEADLINE, || async {
        let deliveries = hook.deliveries().await;
        deliveries.iter().all(|d| d.status.as_str() == "succeeded")
    })
    .await;
    let deliveries = hook.deliveries().await;
    assert_eq!(deliveries.len(), 12);
    assert!(deliveries.iter().all(|d| d.attempts == 1));
    // A test goes out first, and is logged too.
    let ping = hook.svc.test_webhook("alice", hook.endpoint).await.unwrap();
    let got = hook.until_accepted(13).await;
    assert_eq!(got[12].json()["type"], "taskflow.ping.v1");
    assert_eq!(got[12].id(), ping.id);
    assert!(got[12].verifies_with(&hook.secret));
    // Bob sees none of alice's endpoints.
    assert!(hook.svc.webhook("bob", hook.endpoint).await.is_err());
}

/// New deliveries wake the sender at once, whether it holds the endpoint
/// (sending, or lingering for more) or not: none waits for the poll.
async fn new_deliveries_wake_the_sender_without_a_poll(h: &Harness) {
    let mut hook = hooked_polling(h, "alice", None, Duration::from_secs(3600)).await;
    hook.create("alice", "first").await;
    hook.feed(1).await;
    hook.until_accepted(1).await;
    for n in 0..3 {
        hook.create("alice", &format!("more {n}")).await;
        hook.feed(1).await;
        hook.until_accepted(2 + n).await;
    }
    hook.svc.test_webhook("alice", hook.endpoint).await.unwrap();
    let got = hook.until_accepted(5).await;
    assert_eq!(got[4].json()["type"], "taskflow.ping.v1");
}

/// The relay's word that no endpoint could take an event is taken (the
/// consumer does not look); a message without it is looked at.
async fn a_message_the_relay_found_no_endpoint_for_is_passed_over(h: &Harness) {
    let hook = hooked(h).await;
    hook.create("alice", "one").await;
    let mut messages = hook.written().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].data["webhooks"], true, "alice has an endpoint");
    messages[0].data["webhooks"] = false.into();
    hook.deliver(&messages, 1).await;
    assert!(hook.deliveries().await.is_empty());
    messages[0].data.as_object_mut().unwrap().remove("webhooks");
    hook.deliver(&messages, 1).await;
    assert_eq!(hook.until_accepted(1).await.len(), 1);
}

async fn a_receiver_down_for_a_minute_gets_everything_afterwards_under_the_same_ids(h: &Harness) {
    let mut hook = hooked(h).await;
    hook.create("alice", "before").await;
    hook.feed(1).await;
    hook.until_accepted(1).await;
    hook.receiver.answer(503, None);
    for n in 0..20 {
        hook.create("alice", &format!("while down {n}")).await;
    }
    hook.feed(1).await;
    // At once, then 5 s later (±10%), then not before 5 min.
    hook.until_attempts(1).await;
    h.clock.set(h.clock.now() + chrono::Duration::seconds(6));
    hook.until_attempts(2).await;
    h.clock.set(h.clock.now() + chrono::Duration::seconds(54));
    for n in 0..5 {
        hook.create("alice", &format!("later {n}")).await;
    }
    hook.feed(1).await;
    let head = hook.until_attempts(2).await;
    let next = head.next_attempt_at.unwrap();
    let wait = (next - h.clock.now()).num_seconds();
    assert!((200..=290).contains(&wait), "next attempt in {wait}s");
    assert_eq!(
        hook.receiver.received().len(),
        3,
        "nothing sent while waiting"
    );
    assert_eq!(head.last_status, Some(503));
    // Back, and the retry comes.
    hook.receiver.answer(200, None);
    h.clock.set(next);
    let got = hook.until_accepted(26).await;
    let sequences: Vec<_> = got.iter().map(sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "in order: {sequences:?}"
    );
    let mut ids: HashMap<i64, String> = HashMap::new();
    for r in hook.receiver.received() {
        assert!(r.verifies_with(&hook.secret));
        let id = ids.entry(sequence(&r)).or_insert_with(|| r.id().to_owned());
        assert_eq!(id, r.id(), "one id per event");
    }
    assert_eq!(ids.len(), 26);
    wait_for("every delivery recorded as sent", DEADLINE, || async {
        let deliveries = hook.deliveries().await;
        deliveries.len() == 26 && deliveries.iter().all(|d| d.status.as_str() == "succeeded")
    })
    .await;
    let endpoint = hook.svc.webhook("alice", hook.endpoint).await.unwrap();
    assert!(endpoint.failing_since.is_none() && endpoint.enabled);
}

async fn retry_after_is_honoured_and_410_disables_the_endpoint(h: &Harness) {
    let mut hook = hooked(h).await;
    hook.receiver.answer(429, Some("120"));
    hook.create("alice", "throttled").await;
    hook.feed(1).await;
    let waiting = hook.until_attempts(1).await;
    assert_eq!(waiting.last_status, Some(429));
    assert_eq!(
        waiting.next_attempt_at,
        Some(h.clock.now() + chrono::Duration::seconds(120))
    );
    hook.receiver.answer(410, None);
    h.clock.set(h.clock.now() + chrono::Duration::seconds(120));
    hook.until_received(2).await;
    let svc = hook.svc.clone();
    let endpoint = hook.endpoint;
    wait_for("the endpoint disabled", DEADLINE, || async {
        !hook.svc.webhook("alice", endpoint).await.unwrap().enabled
    })
    .await;
    let disabled = svc.webhook("alice", endpoint).await.unwrap();
    assert_eq!(
        disabled.disabled_reason.as_deref(),
        Some("the receiver answered 410 Gone")
    );
    let told = svc
        .notifications("alice", &NotificationQuery::default())
        .await
        .unwrap();
    assert_eq!(told.notifications[0].kind.as_str(), "webhook_disabled");
    // Disabled: what comes is not delivered; enabled again, it all goes.
    hook.receiver.answer(200, None);
    hook.create("alice", "while disabled").await;
    hook.feed(1).await;
    let patch = taskflow_core::UpdateWebhook {
        enabled: Some(true),
        ..Default::default()
    };
    let enabled = svc.update_webhook("alice", endpoint, &patch).await.unwrap();
    assert!(enabled.enabled && enabled.disabled_reason.is_none());
    let got = hook.until_accepted(1).await;
    assert_eq!(got[0].json()["data"]["task"]["title"], "throttled");
    let replayed = svc.replay_webhook("alice", endpoint, 0).await.unwrap();
    assert_eq!(replayed.queued, 2);
    let got = hook.until_accepted(3).await;
    assert_eq!(got[1].id(), got[0].id(), "a replay keeps the id");
    assert_eq!(got[2].json()["data"]["task"]["title"], "while disabled");
}

async fn a_rotated_secret_signs_beside_the_old_one_for_a_day(h: &Harness) {
    let mut hook = hooked(h).await;
    let rotated = hook
        .svc
        .rotate_webhook_secret("alice", hook.endpoint)
        .await
        .unwrap();
    assert_ne!(rotated.secret, hook.secret);
    hook.create("alice", "during the overlap").await;
    hook.feed(1).await;
    let got = hook.until_accepted(1).await;
    assert!(got[0].verifies_with(&hook.secret) && got[0].verifies_with(&rotated.secret));
    h.clock.set(h.clock.now() + chrono::Duration::hours(25));
    hook.create("alice", "after it").await;
    hook.feed(1).await;
    let got = hook.until_accepted(2).await;
    assert!(got[1].verifies_with(&rotated.secret));
    assert!(!got[1].verifies_with(&hook.secret));
}

async fn a_member_removed_or_demoted_is_sent_nothing_more_of_the_list(h: &Harness) {
    use taskflow_core::{CreateInvitation, CreateList, Grant, MoveTask, UpdateMember};
    let alice = Actor::new("alice", Source::Api);
    for user in ["alice", "bob"] {
        h.svc.saw(&taskflow_core::Subject::new(user)).await.unwrap();
    }
    let list = |title: &str| CreateList {
        title: title.into(),
        ..CreateList::default()
    };
    let shared = h.svc.create_list(&alice, &list("Shared")).await.unwrap().id;
    let private = h
        .svc
        .create_list(&alice, &list("Private"))
        .await
        .unwrap()
        .id;
    let invite = CreateInvitation {
        username: "bob".into(),
        role: Grant::Admin,
    };
    let invitation = h.svc.invite(&alice, shared, &invite).await.unwrap();
    let bob = Actor::new("bob", Source::Api);
    h.svc.accept_invitation(&bob, invitation.id).await.unwrap();
    // Bob's endpoint of everything he sees, and one of the shared list.
    let mut all = hooked_as(h, "bob", None).await;
    let scoped = hooked_as(h, "bob", Some(shared)).await;
    let in_shared = CreateTask {
        title: "in shared".into(),
        list: Some(taskflow_core::ListRef::Id(shared)),
        ..CreateTask::default()
    };
    let task = h.svc.create(&alice, &in_shared, None).await.unwrap();
    all.feed(1).await;
    // The shared list, his joining and its task: never the private list.
    let got = all.until_accepted(3).await;
    let types: Vec<_> = got.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "taskflow.list.created.v1",
            "taskflow.list.member_added.v1",
            "taskflow.task.created.v1"
        ]
    );
    assert!(got.iter().all(|r| r.json()["data"]["list_id"] == shared));
    assert_eq!(got[2].json()["data"]["task"]["title"], "in shared");
    // Moved to alice's private list: bob's endpoint is not sent where it went.
    let moving = MoveTask {
        list: Some(taskflow_core::ListRef::Id(private)),
        ..MoveTask::default()
    };
    h.svc
        .move_task(&alice, task.id, &moving, None)
        .await
        .unwrap();
    // Demoted to editor: the endpoint of the list stops, told why.
    let editor = UpdateMember {
        role: Grant::Editor,
    };
    h.svc
        .update_member(&alice, shared, "bob", &editor)
        .await
        .unwrap();
    // Then, while bob's receiver is down, a change he sees is queued...
    all.receiver.answer(503, None);
    let second = CreateTask {
        title: "second".into(),
        list: Some(taskflow_core::ListRef::Id(shared)),
        ..CreateTask::default()
    };
    h.svc.create(&alice, &second, None).await.unwrap();
    all.feed(1).await;
    all.until_attempts(1).await;
    // ...and bob is removed before it goes.
    h.svc.remove_member(&alice, shared, "bob").await.unwrap();
    all.feed(1).await;
    all.receiver.answer(200, None);
    h.clock.set(h.clock.now() + chrono::Duration::minutes(1));
    // The news of his removal reaches him; the task queued before does not.
    let got = all.until_accepted(5).await;
    let types: Vec<_> = got[3..].iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "taskflow.list.member_changed.v1",
            "taskflow.list.member_removed.v1"
        ],
        "{types:?}"
    );
    let refused_for_good = || async {
        all.deliveries().await.iter().any(|d| {
            d.status.as_str() == "failed"
                && d.last_error.as_deref() == Some("no longer visible to the endpoint's owner")
        })
    };
    wait_for(
        "the queued task refused for good",
        DEADLINE,
        refused_for_good,
    )
    .await;
    assert!(
        all.receiver
            .received()
            .iter()
            .all(|r| { r.json()["data"]["task"]["title"] != "second" || r.answered == 503 })
    );
    // The list's endpoint was disabled when it had something to send.
    let svc = scoped.svc.clone();
    wait_for("the scoped endpoint disabled", DEADLINE, || async {
        !svc.webhook("bob", scoped.endpoint).await.unwrap().enabled
    })
    .await;
    let disabled = svc.webhook("bob", scoped.endpoint).await.unwrap();
    assert!(
        disabled
            .disabled_reason
            .unwrap()
            .contains("no longer administers"),
        "{:?}",
        scoped.receiver.received().len()
    );
}

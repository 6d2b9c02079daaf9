//! Webhooks in the store: the relay's read says whether anyone who may see
//! an event has an endpoint; a sender that overran its lease, the endpoint
//! taken over by another, records nothing; the one holding it does.

use taskflow_core::{
    CreateInvitation, CreateList, CreateWebhook, Grant, ListRef, Subject, UpdateWebhook,
};
use taskflow_store::{After, Attempt, Clock, WebhookEvent};

use super::*;

on_both_databases!(
    the_relay_reads_whether_an_endpoint_may_take_each_event,
    a_sender_that_lost_its_lease_records_nothing,
);

/// Whether the relay's read says an endpoint may take `task`'s event (its
/// first), once that has settled.
async fn may_take(h: &Harness, task: i64) -> Option<bool> {
    let db = h.svc.database();
    let read = || async {
        let events = db.unpublished(10_000).await.unwrap();
        events
            .iter()
            .find(|e| e.task_id == task)
            .map(|e| e.webhooks)
    };
    wait_for(
        "the event to settle",
        std::time::Duration::from_secs(30),
        || async { read().await.is_some() },
    )
    .await;
    read().await.unwrap()
}

/// The owner's enabled endpoints count, and those of the list's members;
/// not a member's endpoint for a list they are not in, nor a disabled one.
async fn the_relay_reads_whether_an_endpoint_may_take_each_event(h: &Harness) {
    let svc = h.svc.clone().with_insecure_webhooks(true);
    for user in ["alice", "bob"] {
        h.svc.saw(&Subject::new(user)).await.unwrap();
    }
    let list = CreateList {
        title: "Shared".into(),
        ..CreateList::default()
    };
    let shared = h.svc.create_list(&alice(), &list).await.unwrap().id;
    let invite = CreateInvitation {
        username: "bob".into(),
        role: Grant::Editor,
    };
    let invitation = h.svc.invite(&alice(), shared, &invite).await.unwrap();
    h.svc
        .accept_invitation(&bob(), invitation.id)
        .await
        .unwrap();
    let private = h
        .svc
        .create(&alice(), &titled("private"), None)
        .await
        .unwrap()
        .id;
    let in_shared = CreateTask {
        list: Some(ListRef::Id(shared)),
        ..titled("shared")
    };
    let in_shared = h.svc.create(&alice(), &in_shared, None).await.unwrap().id;
    let hints = || async { (may_take(h, private).await, may_take(h, in_shared).await) };
    assert_eq!(hints().await, (Some(false), Some(false)), "no endpoint");
    let hook = CreateWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    };
    let bobs = svc.create_webhook("bob", &hook).await.unwrap().webhook.id;
    assert_eq!(hints().await, (Some(false), Some(true)), "a member's");
    let disable = UpdateWebhook {
        enabled: Some(false),
        ..Default::default()
    };
    svc.update_webhook("bob", bobs, &disable).await.unwrap();
    assert_eq!(hints().await, (Some(false), Some(false)), "disabled");
    svc.create_webhook("alice", &hook).await.unwrap();
    assert_eq!(hints().await, (Some(true), Some(true)), "the owner's");
    // Only the relay's read asks.
    let replayed = h
        .svc
        .database()
        .events_after("alice", 0, 100)
        .await
        .unwrap();
    assert!(replayed.iter().all(|e| e.webhooks.is_none()));
}

async fn a_sender_that_lost_its_lease_records_nothing(h: &Harness) {
    let db = h.svc.database();
    let svc = h.svc.clone().with_insecure_webhooks(true);
    let hook = CreateWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        ..Default::default()
    };
    svc.create_webhook("alice", &hook).await.unwrap();
    h.svc.create(&alice(), &titled("one"), None).await.unwrap();
    let event = db.events_after("alice", 0, 10).await.unwrap().remove(0);
    let change = WebhookEvent {
        event_id: event.event_id,
        sequence: event.sequence,
        event_type: "taskflow.task.created.v1".into(),
        owner: "alice".into(),
        list: event.list_id,
        member: None,
    };
    svc.record_webhook_deliveries("webhooks", &[change])
        .await
        .unwrap();
    let lease = Duration::seconds(60);
    let t0 = h.clock.now();
    let first = db
        .claim_webhook_endpoints(t0, t0 + lease, 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    // Held: nobody else gets it.
    assert!(
        db.claim_webhook_endpoints(t0, t0 + lease, 1)
            .await
            .unwrap()
            .is_empty()
    );
    // The first overruns; a second takes the endpoint over.
    let t1 = t0 + Duration::seconds(61);
    let second = db
        .claim_webhook_endpoints(t1, t1 + lease, 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let outgoing = db.pending_webhook_deliveries(&second, 10).await.unwrap();
    let sent = |at| Attempt {
        id: outgoing[0].id,
        status: Some(200),
        error: None,
        duration_ms: 3,
        at,
        succeeded: true,
        gave_up: false,
    };
    // The first's late record changes nothing, and frees nothing.
    db.record_webhook_attempts(&first, &[sent(t1)], &After::Sent, t1, t1)
        .await
        .unwrap();
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
            .await,
        1
    );
    assert!(
        db.claim_webhook_endpoints(t1, t1 + lease, 1)
            .await
            .unwrap()
            .is_empty()
    );
    // The holder's does.
    db.record_webhook_attempts(&second, &[sent(t1)], &After::Sent, t1, t1)
        .await
        .unwrap();
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'succeeded'")
            .await,
        1
    );
}

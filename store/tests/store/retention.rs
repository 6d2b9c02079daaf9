//! Retention: published events older than the horizon go, oldest first and
//! a small batch at a time, with the processed-event marks, reminder
//! dispatches and finished webhook deliveries of the same age, and
//! idempotency keys after a day; what is unpublished, pending or recent
//! stays; a changes cursor behind what was pruned is told so.

use taskflow_core::CreateWebhook;
use taskflow_store::retention::Retention;
use taskflow_store::{After, Attempt, Clock, WebhookEvent};

use super::*;

on_both_databases!(old_published_events_and_ledgers_go_in_batches_and_recent_ones_stay,);

fn keep(batch: u32) -> Retention {
    Retention {
        batch,
        ..Retention::default()
    }
}

async fn count(h: &Harness, table: &str) -> i64 {
    h.raw.scalar(&format!("SELECT COUNT(*) FROM {table}")).await
}

async fn old_published_events_and_ledgers_go_in_batches_and_recent_ones_stay(h: &Harness) {
    let db = h.svc.database();
    let svc = h.svc.clone().with_insecure_webhooks(true);
    let hook = svc
        .create_webhook(
            "alice",
            &CreateWebhook {
                url: "http://127.0.0.1:9/hook".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Day 0: seven changes with an idempotency key, published, each with a
    // webhook delivery that went through.
    let mut ids = Vec::new();
    for n in 0..6 {
        let key = format!("key-{n}");
        ids.push(
            h.svc
                .create(&alice(), &titled(&format!("old {n}")), Some(&key))
                .await
                .unwrap()
                .id,
        );
    }
    h.svc.delete(&alice(), ids[5], None).await.unwrap();
    let old = db.events_after("alice", 0, 100).await.unwrap();
    assert_eq!(old.len(), 7);
    let events: Vec<_> = old
        .iter()
        .map(|e| WebhookEvent {
            event_id: e.event_id,
            sequence: e.sequence,
            event_type: "taskflow.task.created.v1".into(),
            owner: "alice".into(),
            list: e.list_id,
            member: None,
        })
        .collect();
    assert_eq!(
        svc.record_webhook_deliveries("webhooks", &events)
            .await
            .unwrap(),
        7
    );
    let now = h.clock.now();
    let endpoint = db
        .claim_webhook_endpoints(now, now + Duration::seconds(60), 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(endpoint.id, hook.webhook.id);
    let outgoing = db.pending_webhook_deliveries(&endpoint, 100).await.unwrap();
    let sent: Vec<_> = outgoing[..6]
        .iter()
        .map(|o| Attempt {
            id: o.id,
            status: Some(200),
            error: None,
            duration_ms: 1,
            at: now,
            succeeded: true,
            gave_up: false,
        })
        .collect();
    db.record_webhook_attempts(&endpoint, &sent, &After::Sent, now, now)
        .await
        .unwrap();
    // An app's code, redeemed for a refresh token that lasts 30 days.
    let client = svc
        .register_client("App", &["https://app.example/cb".to_owned()])
        .await
        .unwrap();
    let code = svc
        .approve(
            "alice",
            &taskflow_store::Approval {
                client: &client,
                scopes: taskflow_core::Scopes::ALL,
                resource: "https://tf.example/mcp",
                redirect_uri: "https://app.example/cb",
                code_challenge: &taskflow_store::s256(&"v".repeat(43)),
            },
        )
        .await
        .unwrap();
    svc.redeem(
        &code,
        taskflow_store::Redeem::Code {
            client_id: &client.id,
            redirect_uri: "https://app.example/cb",
            code_verifier: &"v".repeat(43),
        },
    )
    .await
    .unwrap();
    // Another app registers and is never approved.
    svc.register_client("Abandoned", &["https://other.example/cb".to_owned()])
        .await
        .unwrap();
    let sequences: Vec<i64> = old.iter().map(|e| e.sequence).collect();
    db.mark_published(&sequences, now).await.unwrap();
    let last_old = *sequences.last().unwrap();

    // 31 days on: two more changes, one of them published.
    h.clock.set(now + Duration::days(31));
    let kept = h
        .svc
        .create(&alice(), &titled("recent"), Some("key-new"))
        .await
        .unwrap();
    h.svc
        .create(&alice(), &titled("unpublished"), None)
        .await
        .unwrap();
    let recent = db.events_after("alice", last_old, 100).await.unwrap();
    db.mark_published(&[recent[0].sequence], h.clock.now())
        .await
        .unwrap();

    // Nothing old is touched before its time.
    let early = db
        .prune(now + Duration::days(29), &keep(1000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            early.task_events,
            early.processed_events,
            early.webhook_deliveries
        ),
        (0, 0, 0)
    );
    assert_eq!(early.idempotency_keys, 6, "a day is enough for keys");
    assert_eq!(
        early.oauth_tokens, 1,
        "the spent code, not the refresh token"
    );
    assert_eq!(early.oauth_clients, 1, "the app no one approved");

    // Three at a time, until nothing is left to prune.
    let mut rounds = Vec::new();
    loop {
        let pruned = db.prune(h.clock.now(), &keep(3)).await.unwrap().unwrap();
        assert!(pruned.task_events <= 3 && pruned.processed_events <= 3);
        if pruned == Default::default() {
            break;
        }
        rounds.push(pruned.task_events);
    }
    assert_eq!(rounds.iter().sum::<u64>(), 7);
    assert_eq!(rounds[..3], [3, 3, 1]);
    assert_eq!(db.pruned_through().await.unwrap(), last_old);
    assert_eq!(db.first_sequence().await.unwrap(), recent[0].sequence);
    assert_eq!(count(h, "task_events").await, 2);
    assert_eq!(count(h, "processed_events").await, 0);
    assert_eq!(count(h, "idempotency_keys").await, 1);
    assert_eq!(count(h, "oauth_tokens").await, 0);
    assert_eq!(count(h, "oauth_clients").await, 1);
    // The delivery still pending stays; the six that went through go.
    assert_eq!(count(h, "webhook_deliveries").await, 1);
    assert!(db.oldest_event_at().await.unwrap().unwrap() > now + Duration::days(30));
    assert!(h.svc.get("alice", kept.id).await.is_ok());

    // A cursor behind what was pruned is told; 0 starts at what is held.
    let expired = h.svc.changes("alice", Some(1), None).await;
    assert!(
        matches!(expired, Err(Error::CursorExpired { oldest, .. }) if oldest == recent[0].sequence),
        "{expired:?}"
    );
    let held = h.svc.changes("alice", Some(0), None).await.unwrap();
    assert_eq!(held.changes.len(), 2);
    let since_mark = h.svc.changes("alice", Some(last_old), None).await.unwrap();
    assert_eq!(since_mark.changes.len(), 2);
    // An unpublished event holds pruning back, however old.
    h.clock.set(now + Duration::days(62));
    let later = db.prune(h.clock.now(), &keep(1000)).await.unwrap().unwrap();
    assert_eq!(later.task_events, 1, "only the published one");
    assert_eq!(count(h, "task_events").await, 1);
    // Kept for ever: nothing goes.
    let forever = Retention {
        events: None,
        ..keep(1000)
    };
    h.clock.set(now + Duration::days(400));
    assert_eq!(
        db.prune(h.clock.now(), &forever)
            .await
            .unwrap()
            .unwrap()
            .task_events,
        0
    );
}

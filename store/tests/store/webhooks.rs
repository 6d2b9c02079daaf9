//! The webhook sender's lease: a sender that overran its lease, the
//! endpoint taken over by another, records nothing; the one holding it
//! does.

use taskflow_core::CreateWebhook;
use taskflow_store::{After, Attempt, Clock, WebhookEvent};

use super::*;

on_both_databases!(a_sender_that_lost_its_lease_records_nothing,);

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

//! Idempotency keys: a retried create returns the first result.

use super::*;

on_both_databases!(an_idempotency_key_returns_the_first_result,);

async fn an_idempotency_key_returns_the_first_result(h: &Harness) {
    let first = h
        .svc
        .create(&alice(), &titled("once"), Some("key-1"))
        .await
        .unwrap();
    let again = h
        .svc
        .create(&alice(), &titled("once"), Some("key-1"))
        .await
        .unwrap();
    assert_eq!(first, again);
    let other = h
        .svc
        .create(&alice(), &titled("different"), Some("key-1"))
        .await;
    assert!(
        matches!(other, Err(Error::IdempotencyMismatch)),
        "{other:?}"
    );
    // Keys belong to a user.
    let bobs = h
        .svc
        .create(&bob(), &titled("once"), Some("key-1"))
        .await
        .unwrap();
    assert_ne!(bobs.id, first.id);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM tasks").await, 2);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 2);
}

//! Database basics on both engines: opening, time and text round trips.

use super::*;

on_both_databases!(
    instants_keep_microseconds_on_both_databases,
    unicode_titles_round_trip,
);

async fn instants_keep_microseconds_on_both_databases(h: &Harness) {
    let input: CreateTask = serde_json::from_value(
        json!({"title": "precise", "reminder": {"at": "2026-05-01T08:45:00.123456789Z"}}),
    )
    .unwrap();
    let created = h.svc.create(&alice(), &input, None).await.unwrap();
    assert_eq!(
        created.reminder.unwrap().at().unwrap().to_rfc3339(),
        "2026-05-01T08:45:00.123456+00:00"
    );
    assert_eq!(h.svc.get("alice", created.id).await.unwrap(), created);
    // The same value again is no change.
    let same: UpdateTask =
        serde_json::from_value(json!({"reminder": {"at": "2026-05-01T08:45:00.123456789Z"}}))
            .unwrap();
    assert_eq!(
        h.svc
            .update(&alice(), created.id, &same, None)
            .await
            .unwrap()
            .version,
        1
    );
    let until = SnoozeTask {
        minutes: None,
        until: Some(harness::start() + Duration::nanoseconds(60_000_000_123)),
    };
    let snoozed = h.svc.snooze(&alice(), created.id, &until).await.unwrap();
    assert_eq!(h.svc.get("alice", created.id).await.unwrap(), snoozed);
}

#[tokio::test]
async fn an_in_memory_sqlite_database_works() {
    let db = taskflow_store::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let svc = taskflow_store::TaskService::new(db);
    let task = svc
        .create(&alice(), &titled("in memory"), None)
        .await
        .unwrap();
    assert_eq!(
        svc.list("alice", &ListQuery::default())
            .await
            .unwrap()
            .tasks,
        [task]
    );
}

async fn unicode_titles_round_trip(h: &Harness) {
    for title in [
        "Café ☕ 会議 🗓️",
        "שלום עולם",
        "e\u{301}clair",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "emoji 👩‍👩‍👧‍👦",
    ] {
        let task = h.svc.create(&alice(), &titled(title), None).await.unwrap();
        assert_eq!(h.svc.get("alice", task.id).await.unwrap().title, title);
        let query = ListQuery {
            q: Some(title.to_uppercase()),
            ..Default::default()
        };
        let found = h.svc.list("alice", &query).await.unwrap();
        assert!(
            found.tasks.iter().any(|t| t.id == task.id),
            "search finds {title}"
        );
    }
}

//! The outbox: every change leaves its event, in order and with its trace;
//! nothing half-written; an unreadable row holds back only what it must;
//! sequences commit in order.

use super::*;

on_both_databases!(
    an_unreadable_outbox_row_holds_back_only_its_users_events,
    the_created_event_carries_the_task_exactly_as_created,
    a_failed_transaction_leaves_neither_the_change_nor_its_event,
    ten_thousand_creates_leave_ten_thousand_events_in_sequence_order,
    every_write_keeps_its_requests_trace_in_the_outbox,
    an_upgrade_moves_unconfirmed_reminders_into_the_outbox,
    every_event_names_its_actor_by_their_name_when_read,
    an_import_announces_its_lists_before_their_tasks,
);

/// PostgreSQL: sequences commit in order. A transaction that took its xid
/// first but inserts its event second waits for the one holding the lower
/// sequence, so a cursor read in between (SSE replay, the changes feed, a
/// CalDAV sync token) never steps past an event that commits later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_never_passes_an_event_that_commits_later_on_postgres() {
    // None only when skipping PostgreSQL was asked for.
    let Some(h) = harness::postgres().await else {
        return;
    };
    let taskflow_testkit::harness::Raw::Postgres(pool) = &h.raw else {
        unreachable!()
    };
    let body = serde_json::to_value(taskflow_events::TaskEventBody {
        task_data: h
            .svc
            .create(&bob(), &titled("template"), None)
            .await
            .unwrap(),
        changes: Default::default(),
    })
    .unwrap();
    let insert = move |task: i64| {
        sqlx::query(
            "INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, data) \
             VALUES (gen_random_uuid(), 'alice', $1, 'updated', 'api', now(), $2)",
        )
        .bind(task)
        .bind(body.clone())
    };
    // The older transaction takes its xid first; the younger then inserts
    // its event (the lower sequence) and stays open.
    let mut older = pool.begin().await.unwrap();
    let older_pid: i32 =
        sqlx::query_scalar("SELECT pg_backend_pid() FROM (SELECT pg_current_xact_id()) x")
            .fetch_one(&mut *older)
            .await
            .unwrap();
    let mut younger = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *younger)
        .await
        .unwrap();
    insert(1001).execute(&mut *younger).await.unwrap();
    let older_insert = insert(1002);
    let older_write = tokio::spawn(async move {
        older_insert.execute(&mut *older).await.unwrap();
        older.commit().await.unwrap();
    });
    // Either it committed (and a reader may see it) or it waits for the lock.
    // (The raw pool's two connections are both in use.)
    let watcher = sqlx::PgPool::connect(&harness::postgres_url().unwrap())
        .await
        .unwrap();
    wait_for("the older transaction to commit or wait", std::time::Duration::from_secs(30), || async {
        older_write.is_finished()
            || sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')",
            )
            .bind(older_pid)
            .fetch_one(&watcher)
            .await
            .unwrap()
    })
    .await;
    let db = h.svc.database();
    let first = db.events_after("alice", 0, 10).await.unwrap();
    let cursor = first.last().map_or(0, |e| e.sequence);
    younger.commit().await.unwrap();
    older_write.await.unwrap();
    let rest = db.events_after("alice", cursor, 10).await.unwrap();
    let mut seen: Vec<i64> = first.iter().chain(&rest).map(|e| e.task_id).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [1001, 1002],
        "the cursor passed an event that committed later"
    );
    let all = db.events_after("alice", 0, 10).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].sequence < w[1].sequence));
    h.finish().await;
}

async fn an_unreadable_outbox_row_holds_back_only_its_users_events(h: &Harness) {
    h.svc
        .create(&alice(), &titled("before"), None)
        .await
        .unwrap();
    let uuid = match h.svc.database().kind() {
        taskflow_store::DatabaseKind::Sqlite => "randomblob(16)",
        taskflow_store::DatabaseKind::Postgres => "gen_random_uuid()",
    };
    h.raw
        .exec(&format!(
            "INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, data) \
             VALUES ({uuid}, 'alice', 1, 'teleported', 'api', '2026-03-23T12:00:00+00:00', '{{}}')"
        ))
        .await;
    h.svc
        .create(&alice(), &titled("after"), None)
        .await
        .unwrap();
    h.svc.create(&bob(), &titled("bob's"), None).await.unwrap();
    // On PostgreSQL, other tests' transactions may hold the horizon a moment.
    let db = h.svc.database();
    wait_for(
        "the two readable events to settle",
        std::time::Duration::from_secs(30),
        || async { db.unpublished(10).await.unwrap().len() == 2 },
    )
    .await;
    let ready: Vec<(String, String)> = h
        .svc
        .database()
        .unpublished(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.user_id.clone(),
                e.change().unwrap().1.task_data.title.clone(),
            )
        })
        .collect();
    assert_eq!(
        ready,
        [
            ("alice".to_owned(), "before".to_owned()),
            ("bob".to_owned(), "bob's".to_owned())
        ]
    );
}

async fn the_created_event_carries_the_task_exactly_as_created(h: &Harness) {
    let plain = CreateTask {
        tags: vec!["a".into(), "b".into()],
        ..titled("plain")
    };
    let recurring: CreateTask = serde_json::from_value(
        json!({"title": "weekly", "due": "2026-03-30", "recurrence": "FREQ=WEEKLY"}),
    )
    .unwrap();
    let mut created = Vec::new();
    for input in [&plain, &recurring, &titled("second plain")] {
        created.push(h.svc.create(&alice(), input, None).await.unwrap());
    }
    // On PostgreSQL other tests' transactions may hold the horizon a moment.
    let db = h.svc.database();
    let all_settled = || async { db.unpublished(10).await.unwrap().len() == 3 };
    wait_for(
        "all three events to settle",
        std::time::Duration::from_secs(30),
        all_settled,
    )
    .await;
    let events = db.unpublished(10).await.unwrap();
    for (event, task) in events.iter().zip(&created) {
        assert_eq!(event.task_id, task.id);
        let (event_type, change) = event.change().unwrap();
        assert_eq!(event_type, TaskEventType::Created);
        assert_eq!(&change.task_data, task);
        assert_eq!(change.changes["id"].new, json!(task.id));
        assert_eq!(h.svc.get("alice", task.id).await.unwrap(), *task);
    }
    assert_eq!(h.svc.tags("alice").await.unwrap().len(), 2);
}

async fn a_failed_transaction_leaves_neither_the_change_nor_its_event(h: &Harness) {
    let task = h
        .svc
        .create(&alice(), &titled("keep me"), None)
        .await
        .unwrap();
    h.raw.break_inserts("task_events").await;
    let created = h.svc.create(&alice(), &titled("never stored"), None).await;
    assert!(matches!(created, Err(Error::Internal(_))), "{created:?}");
    let patch = UpdateTask {
        title: Some("renamed".into()),
        ..Default::default()
    };
    assert!(h.svc.update(&alice(), task.id, &patch, None).await.is_err());
    assert!(
        h.svc
            .complete(&alice(), task.id, None, false)
            .await
            .is_err()
    );
    assert!(h.svc.delete(&alice(), task.id, None).await.is_err());
    h.raw.mend_inserts("task_events").await;
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM tasks").await, 1);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 1);
    assert_eq!(h.svc.get("alice", task.id).await.unwrap(), task);
    // The service still works after the failures.
    h.svc.update(&alice(), task.id, &patch, None).await.unwrap();
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 2);
}

async fn ten_thousand_creates_leave_ten_thousand_events_in_sequence_order(h: &Harness) {
    const USERS: usize = 4;
    const PER_WORKER: usize = 1250;
    let workers = (0..USERS * 2).map(|w| {
        let svc = h.svc.clone();
        tokio::spawn(async move {
            let actor = Actor::new(format!("user{}", w % USERS), Source::Api);
            for i in 0..PER_WORKER {
                svc.create(&actor, &titled(&format!("task {w}-{i}")), None)
                    .await
                    .unwrap();
            }
        })
    });
    for worker in futures::future::join_all(workers).await {
        worker.unwrap();
    }
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM tasks").await, 10_000);
    assert_eq!(
        h.raw.scalar("SELECT COUNT(*) FROM task_events").await,
        10_000
    );
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(DISTINCT task_id) FROM task_events")
            .await,
        10_000
    );
    // Every user's tasks each have their one `created` event, and the
    // relay's view lists them all, in sequence order.
    for u in 0..USERS {
        let rows = h
            .raw
            .pairs(&format!("SELECT task_id, user_id FROM task_events WHERE user_id = 'user{u}' ORDER BY sequence"))
            .await;
        assert_eq!(rows.len(), 2 * PER_WORKER);
        let distinct: HashSet<i64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(distinct.len(), 2 * PER_WORKER);
    }
    // Read the outbox as the relay does, until every event was listed once,
    // in sequence order (on PostgreSQL other tests' transactions may hold
    // the horizon a moment).
    let drained = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let (mut seen, mut last) = (0, 0);
        while seen < 10_000 {
            let batch = h.svc.database().unpublished(1000).await.unwrap();
            if batch.is_empty() {
                tokio::task::yield_now().await;
                continue;
            }
            assert!(
                batch.windows(2).all(|w| w[0].sequence < w[1].sequence) && batch[0].sequence > last
            );
            last = batch.last().unwrap().sequence;
            seen += batch.len();
            let sequences: Vec<i64> = batch.iter().map(|e| e.sequence).collect();
            h.svc
                .database()
                .mark_published(&sequences, harness::start())
                .await
                .unwrap();
        }
        seen
    })
    .await
    .expect("the outbox drained within 30 s");
    assert_eq!(drained, 10_000);
}

/// The trace of the request that made a change is stamped on its outbox row,
/// also when the create is committed by the batcher on a task of its own.
async fn every_write_keeps_its_requests_trace_in_the_outbox(h: &Harness) {
    use taskflow_events::trace::{self, TraceContext};
    let traced = |context: TraceContext| context.to_string();
    let plain = TraceContext::root();
    let created = trace::scope(plain, h.svc.create(&alice(), &titled("batched"), None))
        .await
        .unwrap();
    let recurring = TraceContext::root();
    let series = CreateTask {
        recurrence: Some("FREQ=DAILY".into()),
        due: Some("2026-03-24".into()),
        ..titled("one transaction")
    };
    trace::scope(recurring, h.svc.create(&alice(), &series, None))
        .await
        .unwrap();
    let update = TraceContext::root();
    trace::scope(update, h.svc.complete(&alice(), created.id, None, false))
        .await
        .unwrap();
    let events = h.svc.database().events_after("alice", 0, 10).await.unwrap();
    let stamped: Vec<_> = events.iter().map(|e| e.traceparent.clone()).collect();
    assert_eq!(
        stamped,
        [plain, recurring, update].map(|c| Some(traced(c))),
        "each event carries the trace of the request that made it"
    );
}

/// Migration 0004, on the schema it upgrades: a reminder whose publication
/// the old scheduler never confirmed becomes an outbox row the relay
/// publishes; a confirmed one does not; the ledger keeps both.
async fn an_upgrade_moves_unconfirmed_reminders_into_the_outbox(h: &Harness) {
    let (json, time, upgrade) = match &h.raw {
        harness::Raw::Sqlite(_) => (
            "TEXT",
            "TEXT",
            include_str!("../../migrations/sqlite/0004_one_outbox.sql"),
        ),
        harness::Raw::Postgres(_) => (
            "JSONB",
            "TIMESTAMPTZ",
            include_str!("../../migrations/postgres/0004_one_outbox.sql"),
        ),
    };
    // The ledger as 0002 left it: each claim kept its message until the
    // transport confirmed it.
    h.raw
        .exec(&format!(
            "ALTER TABLE reminder_dispatches ADD COLUMN user_id TEXT NOT NULL DEFAULT ''; \
             ALTER TABLE reminder_dispatches ADD COLUMN message {json} NOT NULL DEFAULT '{{}}'; \
             ALTER TABLE reminder_dispatches ADD COLUMN published_at {time}; \
             CREATE INDEX reminder_dispatches_unpublished ON reminder_dispatches (fired_at) \
             WHERE published_at IS NULL"
        ))
        .await;
    let message = |kind: &str, task: i64| {
        json!({"kind": kind, "user_id": "alice", "task_id": task, "title": format!("task {task}"),
               "due_at": "2026-03-23T12:00:00Z", "fire_at": "2026-03-23T12:00:00Z"})
        .to_string()
    };
    h.raw
        .exec(&format!(
            "INSERT INTO reminder_dispatches (task_id, kind, due_at, fired_at, user_id, message, published_at) VALUES \
             (1, 'overdue', '2026-03-23T12:00:00+00:00', '2026-03-23T12:00:01+00:00', 'alice', '{}', NULL), \
             (2, 'reminder', '2026-03-23T11:00:00+00:00', '2026-03-23T11:00:01+00:00', 'alice', '{}', '2026-03-23T11:00:02+00:00')",
            message("task_overdue", 1),
            message("reminder_due", 2),
        ))
        .await;
    h.raw.exec(upgrade).await;

    let db = h.svc.database();
    wait_for(
        "the carried-over row to settle",
        std::time::Duration::from_secs(30),
        || async { !db.unpublished(10).await.unwrap().is_empty() },
    )
    .await;
    let rows = db.unpublished(10).await.unwrap();
    assert_eq!(rows.len(), 1, "only the unconfirmed reminder: {rows:?}");
    let taskflow_store::Body::Reminder(reminder) = &rows[0].body else {
        panic!("{rows:?}");
    };
    assert_eq!(
        (reminder.kind, reminder.task_id, reminder.title.as_str()),
        (taskflow_events::ReminderKind::TaskOverdue, 1, "task 1")
    );
    let messages = rows[0].messages().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].topic, taskflow_events::REMINDERS);
    assert_eq!(messages[0].event.event_type, "taskflow.task.overdue.v1");
    assert_eq!(messages[0].key, "alice");
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM reminder_dispatches")
            .await,
        2
    );
    // Nothing of the reminders shows as a change in the history.
    assert!(
        h.svc
            .activity("alice", None, None)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
}

/// The actor of a change is recorded with it and named as they are called
/// when the event is read (relay, replay, history); a worker's change is
/// made for the owner, through the worker.
async fn every_event_names_its_actor_by_their_name_when_read(h: &Harness) {
    h.svc
        .saw(&taskflow_core::Subject {
            id: "alice".into(),
            username: Some("al".into()),
            name: Some("Alice Liddell".into()),
        })
        .await
        .unwrap();
    let weekly: CreateTask = serde_json::from_value(
        json!({"title": "weekly", "due": "2026-03-30", "recurrence": "FREQ=WEEKLY"}),
    )
    .unwrap();
    let task = h.svc.create(&alice(), &weekly, None).await.unwrap();
    let done = h
        .svc
        .complete(&Actor::new("alice", Source::Mcp), task.id, None, false)
        .await
        .unwrap();
    let named = |name: &str| taskflow_events::EventActor {
        kind: taskflow_events::ActorKind::User,
        id: "alice".into(),
        name: name.into(),
        on_behalf_of: None,
    };
    let db = h.svc.database();
    let both_settled = || async { db.unpublished(10).await.unwrap().len() == 2 };
    wait_for(
        "both events to settle",
        std::time::Duration::from_secs(30),
        both_settled,
    )
    .await;
    let events = db.unpublished(10).await.unwrap();
    assert_eq!(events[1].actor, named("Alice Liddell"));
    assert_eq!(events[1].source, Source::Mcp);
    let messages = events[1].messages().unwrap();
    assert_eq!(
        messages[0].event.data["actor"],
        json!({"kind": "user", "id": "alice", "name": "Alice Liddell"})
    );

    // A new name shows in every event read afterwards, history included.
    h.svc
        .update_profile(
            "alice",
            &taskflow_core::UpdateProfile {
                display_name: Some("Alice L.".into()),
                time_zone: None,
            },
        )
        .await
        .unwrap();
    let replayed = db.events_after("alice", 0, 10).await.unwrap();
    assert!(
        replayed.iter().all(|e| e.actor == named("Alice L.")),
        "{replayed:?}"
    );
    let history = h.svc.history("alice", done.id, None, None).await.unwrap();
    assert_eq!(history.entries[0].actor, named("Alice L."));

    // The next occurrence is the recurrence worker's, made for the owner.
    let completed = replayed[1].clone();
    let receipt_event = completed.event_id;
    h.svc
        .next_occurrence("recurrence", receipt_event, "alice", task.id)
        .await
        .unwrap()
        .expect("a next occurrence");
    let last = db
        .events_after("alice", completed.sequence, 10)
        .await
        .unwrap();
    assert_eq!(
        (last[0].actor.id.as_str(), last[0].source),
        ("alice", Source::Worker)
    );
}

/// An import writes a list and its tasks in one transaction: the list's
/// event comes first, so no consumer hears of a task in a list it has not
/// heard of.
async fn an_import_announces_its_lists_before_their_tasks(h: &Harness) {
    let doc: taskflow_core::Export = serde_json::from_value(json!({
        "format": "taskflow.export", "version": 1,
        "lists": [{"id": 1, "title": "Moved in"}],
        "tasks": [{"id": 1, "list_id": 1, "title": "first"}, {"id": 2, "list_id": 1, "title": "second"}]
    }))
    .unwrap();
    h.svc
        .import(&alice(), &doc, taskflow_store::ImportInto::NewLists, false)
        .await
        .unwrap();
    let events = h
        .svc
        .database()
        .events_after("alice", 0, 100)
        .await
        .unwrap();
    let first_task = events.iter().position(|e| e.task_id > 0).unwrap();
    let list = events.iter().position(|e| e.task_id == 0).unwrap();
    assert!(
        list < first_task,
        "{:?}",
        events
            .iter()
            .map(|e| (e.sequence, e.task_id))
            .collect::<Vec<_>>()
    );
}

//! Task operations: create, read, list, change, complete, delete, snooze,
//! validation and per-user scoping.

use super::*;

on_both_databases!(
    create_then_get_round_trips_every_field,
    one_failing_create_does_not_fail_the_creates_committed_beside_it,
    a_stale_version_is_refused,
    concurrent_updates_at_the_same_version_let_exactly_one_through,
    search_and_filters_treat_wildcards_quotes_and_sql_as_plain_text,
    one_users_queries_never_return_another_users_rows,
    filters_select_by_status_priority_tag_due_window_and_overdue,
    every_sort_pages_through_all_tasks_once,
    updates_record_old_and_new_values_and_null_clears,
    complete_and_reopen_write_one_event_each_however_often_repeated,
    delete_removes_the_task_but_keeps_its_history,
    snooze_sets_the_time_and_refuses_nonsense,
    bad_input_to_every_operation_names_the_field,
    tags_are_counted_per_user,
    recurring_tasks_start_a_series,
);

async fn create_then_get_round_trips_every_field(h: &Harness) {
    let input: CreateTask = serde_json::from_value(json!({
        "title": "  Team meeting  ",
        "description": "Weekly sync",
        "priority": "high",
        "tags": ["Work", "work", "Meetings"],
        "due": "2026-03-30T10:00",
        "timezone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;BYDAY=MO",
        "reminder": {"minutes_before": 15}
    }))
    .unwrap();
    let created = h.svc.create(&alice(), &input, None).await.unwrap();
    assert_eq!(created.title, "Team meeting");
    assert_eq!(created.tags, ["work", "meetings"]);
    assert_eq!(created.due.as_deref(), Some("2026-03-30T10:00:00"));
    assert_eq!(created.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(created.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
    assert_eq!(
        created.reminder,
        Some(Reminder::Before { minutes_before: 15 })
    );
    assert_eq!(created.priority, Priority::High);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, harness::start());
    assert!(!created.completed);
    let fetched = h.svc.get("alice", created.id).await.unwrap();
    assert_eq!(fetched, created);
    // Lists show rows without re-parsing them; they must read the same.
    let listed = h.svc.list("alice", &ListQuery::default()).await.unwrap();
    assert_eq!(listed.tasks, std::slice::from_ref(&created));
    let history = h
        .svc
        .history("alice", created.id, None, None)
        .await
        .unwrap();
    assert_eq!(history.entries.len(), 1);
    assert_eq!(history.entries[0].event_type, TaskEventType::Created);
    assert_eq!(
        history.entries[0].changes["title"].new,
        json!("Team meeting")
    );
}

async fn one_failing_create_does_not_fail_the_creates_committed_beside_it(h: &Harness) {
    // Plain creates made at the same moment are committed together; the
    // database refuses one of them.
    h.raw.refuse_title("poison").await;
    let creates = (0..64).map(|i| {
        let svc = h.svc.clone();
        let title = if i == 32 {
            "poison".to_owned()
        } else {
            format!("task {i}")
        };
        tokio::spawn(async move { svc.create(&alice(), &titled(&title), None).await })
    });
    let results: Vec<_> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    for (i, result) in results.iter().enumerate() {
        if i == 32 {
            assert!(matches!(result, Err(Error::Internal(_))), "{result:?}");
        } else {
            assert_eq!(result.as_ref().unwrap().title.as_str(), format!("task {i}"));
        }
    }
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM tasks").await, 63);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 63);
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM task_events e JOIN tasks t ON t.id = e.task_id")
            .await,
        63
    );
}

async fn a_stale_version_is_refused(h: &Harness) {
    let task = h.svc.create(&alice(), &titled("v1"), None).await.unwrap();
    let patch = UpdateTask {
        title: Some("v2".into()),
        ..Default::default()
    };
    let v2 = h
        .svc
        .update(&alice(), task.id, &patch, Some(1))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let stale = UpdateTask {
        title: Some("lost update".into()),
        ..Default::default()
    };
    let refused = h.svc.update(&alice(), task.id, &stale, Some(1)).await;
    assert!(
        matches!(refused, Err(Error::Conflict { current: 2 })),
        "{refused:?}"
    );
    assert!(matches!(
        h.svc.complete(&alice(), task.id, Some(1), false).await,
        Err(Error::Conflict { current: 2 })
    ));
    assert!(matches!(
        h.svc.delete(&alice(), task.id, Some(7)).await,
        Err(Error::Conflict { current: 2 })
    ));
    assert_eq!(h.svc.get("alice", task.id).await.unwrap().title, "v2");
}

async fn concurrent_updates_at_the_same_version_let_exactly_one_through(h: &Harness) {
    let task = h
        .svc
        .create(&alice(), &titled("contended"), None)
        .await
        .unwrap();
    let attempts = (0..8).map(|i| {
        let svc = h.svc.clone();
        tokio::spawn(async move {
            let patch = UpdateTask {
                title: Some(format!("writer {i}")),
                ..Default::default()
            };
            svc.update(&alice(), task.id, &patch, Some(1)).await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(Error::Conflict { current: 2 }))))
        .count();
    assert_eq!((ok, conflicts), (1, 7));
}

async fn search_and_filters_treat_wildcards_quotes_and_sql_as_plain_text(h: &Harness) {
    let titles = [
        "100% done",
        "snake_case name",
        "it's quoted",
        "back\\slash",
        "plain",
    ];
    for title in titles {
        h.svc.create(&alice(), &titled(title), None).await.unwrap();
    }
    let search = |q: &str| {
        let query = ListQuery {
            q: Some(q.into()),
            ..Default::default()
        };
        let svc = h.svc.clone();
        async move {
            svc.list("alice", &query)
                .await
                .unwrap()
                .tasks
                .into_iter()
                .map(|t| t.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("%").await, ["100% done"]);
    assert_eq!(search("_").await, ["snake_case name"]);
    assert_eq!(search("'").await, ["it's quoted"]);
    assert_eq!(search("\\").await, ["back\\slash"]);
    assert!(search("' OR '1'='1").await.is_empty());
    assert!(search("x'); DROP TABLE tasks; --").await.is_empty());
    let tagged = ListQuery {
        tag: Some("' OR 1=1 --".into()),
        ..Default::default()
    };
    assert!(h.svc.list("alice", &tagged).await.unwrap().tasks.is_empty());
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM tasks").await, 5);
}

async fn one_users_queries_never_return_another_users_rows(h: &Harness) {
    let mine = h
        .svc
        .create(
            &alice(),
            &CreateTask {
                tags: vec!["secret".into()],
                ..titled("alice's")
            },
            None,
        )
        .await
        .unwrap();
    h.svc.create(&bob(), &titled("bob's"), None).await.unwrap();
    assert!(matches!(
        h.svc.get("bob", mine.id).await,
        Err(Error::NotFound)
    ));
    let patch = UpdateTask {
        title: Some("hijacked".into()),
        ..Default::default()
    };
    assert!(matches!(
        h.svc.update(&bob(), mine.id, &patch, None).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.complete(&bob(), mine.id, None, false).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.reopen(&bob(), mine.id, None).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.delete(&bob(), mine.id, None).await,
        Err(Error::NotFound)
    ));
    let snooze = SnoozeTask {
        minutes: Some(10),
        until: None,
    };
    assert!(matches!(
        h.svc.snooze(&bob(), mine.id, &snooze).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.history("bob", mine.id, None, None).await,
        Err(Error::NotFound)
    ));
    let bobs = h.svc.list("bob", &ListQuery::default()).await.unwrap();
    assert_eq!(
        bobs.tasks
            .iter()
            .map(|t| t.title.as_str())
            .collect::<Vec<_>>(),
        ["bob's"]
    );
    assert!(h.svc.tags("bob").await.unwrap().is_empty());
    assert_eq!(h.svc.get("alice", mine.id).await.unwrap(), mine);
}

async fn filters_select_by_status_priority_tag_due_window_and_overdue(h: &Harness) {
    let new = |title: &str, priority: &str, tag: &str, due: Option<&str>| {
        serde_json::from_value::<CreateTask>(
            json!({"title": title, "priority": priority, "tags": [tag], "due": due}),
        )
        .unwrap()
    };
    let past = h
        .svc
        .create(
            &alice(),
            &new("past", "high", "work", Some("2026-03-22T09:00:00Z")),
            None,
        )
        .await
        .unwrap();
    let today = h
        .svc
        .create(
            &alice(),
            &new("today", "low", "home", Some("2026-03-23")),
            None,
        )
        .await
        .unwrap();
    let later = h
        .svc
        .create(
            &alice(),
            &new("later", "high", "home", Some("2026-04-10")),
            None,
        )
        .await
        .unwrap();
    let undated = h
        .svc
        .create(&alice(), &new("undated", "none", "work", None), None)
        .await
        .unwrap();
    let done = h
        .svc
        .create(
            &alice(),
            &new("done", "medium", "work", Some("2026-03-01")),
            None,
        )
        .await
        .unwrap();
    h.svc
        .complete(&alice(), done.id, None, false)
        .await
        .unwrap();
    let ids = |query: ListQuery| {
        let svc = h.svc.clone();
        async move {
            let mut ids: Vec<i64> = svc
                .list("alice", &query)
                .await
                .unwrap()
                .tasks
                .iter()
                .map(|t| t.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        ids(ListQuery {
            status: Some(StatusFilter::Completed),
            ..Default::default()
        })
        .await,
        [done.id]
    );
    assert_eq!(
        ids(ListQuery {
            status: Some(StatusFilter::Open),
            ..Default::default()
        })
        .await
        .len(),
        4
    );
    assert_eq!(
        ids(ListQuery {
            priority: Some(Priority::High),
            ..Default::default()
        })
        .await,
        [past.id, later.id]
    );
    assert_eq!(
        ids(ListQuery {
            tag: Some("HOME".into()),
            ..Default::default()
        })
        .await,
        [today.id, later.id]
    );
    let window = ListQuery {
        due_after: Some("2026-03-22".into()),
        due_before: Some("2026-04-01".into()),
        ..Default::default()
    };
    assert_eq!(ids(window).await, [past.id, today.id]);
    // A date-only task is overdue only once its day has ended.
    let overdue = || ListQuery {
        overdue: Some(true),
        ..Default::default()
    };
    assert_eq!(ids(overdue()).await, [past.id]);
    h.clock.set(harness::start() + Duration::days(1));
    assert_eq!(ids(overdue()).await, [past.id, today.id]);
    assert!(!ids(overdue()).await.contains(&undated.id));
}

/// (undated, due, -rank, lower-cased title) of a listed task.
type SortKeys = (bool, Option<String>, i32, String);

async fn every_sort_pages_through_all_tasks_once(h: &Harness) {
    let priorities = ["none", "low", "medium", "high"];
    for i in 0..23 {
        let due = (i % 3 != 0).then(|| format!("2026-04-{:02}", 1 + i % 7));
        let input: CreateTask = serde_json::from_value(json!({
            "title": format!("{} task {i:02}", ["alpha", "Beta", "gamma"][i % 3]),
            "priority": priorities[i % 4],
            "due": due,
        }))
        .unwrap();
        h.svc.create(&alice(), &input, None).await.unwrap();
        h.clock
            .set(harness::start() + Duration::seconds((i / 2) as i64));
    }
    for sort in [
        "due",
        "-due",
        "created",
        "-created",
        "priority",
        "-priority",
        "title",
        "-title",
    ] {
        let all = h
            .svc
            .list(
                "alice",
                &ListQuery {
                    sort: Some(sort.into()),
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(all.tasks.len(), 23);
        assert!(all.next_cursor.is_none());
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let query = ListQuery {
                sort: Some(sort.into()),
                limit: Some(5),
                cursor: cursor.clone(),
                ..Default::default()
            };
            let page = h.svc.list("alice", &query).await.unwrap();
            paged.extend(page.tasks.iter().map(|t| t.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let expected: Vec<i64> = all.tasks.iter().map(|t| t.id).collect();
        assert_eq!(paged, expected, "paging by {sort}");
        let keys: Vec<SortKeys> = all
            .tasks
            .iter()
            .map(|t| {
                (
                    t.due.is_none(),
                    t.due.clone(),
                    -t.priority.rank(),
                    t.title.to_lowercase(),
                )
            })
            .collect();
        let ordered =
            |f: &dyn Fn(&SortKeys, &SortKeys) -> bool| keys.windows(2).all(|w| f(&w[0], &w[1]));
        match sort {
            "due" => assert!(ordered(&|a, b| (a.0, &a.1) <= (b.0, &b.1))),
            "priority" => assert!(ordered(&|a, b| a.2 <= b.2)),
            "-priority" => assert!(ordered(&|a, b| a.2 >= b.2)),
            "title" => assert!(ordered(&|a, b| a.3 <= b.3)),
            "-title" => assert!(ordered(&|a, b| a.3 >= b.3)),
            _ => {}
        }
    }
    let created: Vec<_> = h
        .svc
        .list(
            "alice",
            &ListQuery {
                sort: Some("created".into()),
                limit: Some(200),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .tasks;
    assert!(
        created
            .windows(2)
            .all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id))
    );
    let wrong = ListQuery {
        sort: Some("title".into()),
        cursor: h
            .svc
            .list(
                "alice",
                &ListQuery {
                    limit: Some(1),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .next_cursor,
        ..Default::default()
    };
    assert_eq!(invalid_field(h.svc.list("alice", &wrong).await), "cursor");
}

async fn updates_record_old_and_new_values_and_null_clears(h: &Harness) {
    let input: CreateTask = serde_json::from_value(json!({
        "title": "draft", "description": "notes", "tags": ["a", "b"], "due": "2026-04-01", "reminder": {"minutes_before": 30}
    }))
    .unwrap();
    let task = h.svc.create(&alice(), &input, None).await.unwrap();
    let patch: UpdateTask = serde_json::from_value(json!({
        "title": "final", "description": null, "tags": ["c"], "reminder": null, "priority": "medium"
    }))
    .unwrap();
    let updated = h.svc.update(&alice(), task.id, &patch, None).await.unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.description.as_deref()),
        ("final", None)
    );
    assert_eq!(updated.tags, ["c"]);
    assert_eq!(updated.reminder, None);
    assert_eq!(updated.due.as_deref(), Some("2026-04-01"));
    assert_eq!(updated.version, 2);
    let history = h.svc.history("alice", task.id, None, None).await.unwrap();
    let change = &history.entries[0];
    assert_eq!(change.event_type, TaskEventType::Updated);
    assert_eq!(change.changes["title"].old, json!("draft"));
    assert_eq!(change.changes["title"].new, json!("final"));
    assert_eq!(change.changes["description"].new, json!(null));
    assert_eq!(change.changes["tags"].new, json!(["c"]));
    let names: Vec<&str> = change.changes.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["description", "priority", "reminder", "tags", "title"]
    );
    // A patch that changes nothing writes nothing.
    let same = UpdateTask {
        title: Some("final".into()),
        ..Default::default()
    };
    assert_eq!(
        h.svc
            .update(&alice(), task.id, &same, None)
            .await
            .unwrap()
            .version,
        2
    );
    // Moving to another zone keeps the wall-clock due.
    let moved = UpdateTask {
        timezone: Some("Asia/Tokyo".into()),
        ..Default::default()
    };
    let moved = h.svc.update(&alice(), task.id, &moved, None).await.unwrap();
    assert_eq!(
        (moved.due.as_deref(), moved.timezone.as_deref()),
        (Some("2026-04-01"), Some("Asia/Tokyo"))
    );
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 3);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_tags").await, 1);
}

async fn complete_and_reopen_write_one_event_each_however_often_repeated(h: &Harness) {
    let task = h
        .svc
        .create(&alice(), &titled("do it"), None)
        .await
        .unwrap();
    let done = h
        .svc
        .complete(&alice(), task.id, None, false)
        .await
        .unwrap();
    assert!(done.completed);
    assert_eq!(done.completed_at, Some(harness::start()));
    assert_eq!(
        h.svc
            .complete(&alice(), task.id, None, false)
            .await
            .unwrap(),
        done
    );
    let open = h.svc.reopen(&alice(), task.id, None).await.unwrap();
    assert!(!open.completed && open.completed_at.is_none());
    h.svc.reopen(&alice(), task.id, None).await.unwrap();
    let types: Vec<TaskEventType> = h
        .svc
        .history("alice", task.id, None, None)
        .await
        .unwrap()
        .entries
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            TaskEventType::Reopened,
            TaskEventType::Completed,
            TaskEventType::Created
        ]
    );
    let page = h
        .svc
        .history("alice", task.id, None, Some(2))
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    let rest = h
        .svc
        .history("alice", task.id, page.next_before, Some(2))
        .await
        .unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.entries[0].event_type, TaskEventType::Created);
    assert_eq!(rest.next_before, None);
}

async fn delete_removes_the_task_but_keeps_its_history(h: &Harness) {
    let task = h
        .svc
        .create(
            &alice(),
            &CreateTask {
                tags: vec!["x".into()],
                ..titled("doomed")
            },
            None,
        )
        .await
        .unwrap();
    let deleted = h.svc.delete(&alice(), task.id, Some(1)).await.unwrap();
    assert_eq!(deleted, task);
    assert!(matches!(
        h.svc.get("alice", task.id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.delete(&alice(), task.id, None).await,
        Err(Error::NotFound)
    ));
    let history = h.svc.history("alice", task.id, None, None).await.unwrap();
    assert_eq!(history.entries[0].event_type, TaskEventType::Deleted);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_tags").await, 0);
}

async fn snooze_sets_the_time_and_refuses_nonsense(h: &Harness) {
    let task = h
        .svc
        .create(&alice(), &titled("later"), None)
        .await
        .unwrap();
    let snoozed = h
        .svc
        .snooze(
            &alice(),
            task.id,
            &SnoozeTask {
                minutes: Some(15),
                until: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        snoozed.snoozed_until,
        Some(harness::start() + Duration::minutes(15))
    );
    let past = SnoozeTask {
        minutes: None,
        until: Some(harness::start() - Duration::minutes(1)),
    };
    assert_eq!(
        invalid_field(h.svc.snooze(&alice(), task.id, &past).await),
        "until"
    );
    assert_eq!(
        invalid_field(
            h.svc
                .snooze(&alice(), task.id, &SnoozeTask::default())
                .await
        ),
        "minutes"
    );
    h.svc
        .complete(&alice(), task.id, None, false)
        .await
        .unwrap();
    assert_eq!(
        invalid_field(
            h.svc
                .snooze(
                    &alice(),
                    task.id,
                    &SnoozeTask {
                        minutes: Some(5),
                        until: None
                    }
                )
                .await
        ),
        "id"
    );
}

async fn bad_input_to_every_operation_names_the_field(h: &Harness) {
    let create = |v: serde_json::Value| serde_json::from_value::<CreateTask>(v).unwrap();
    let cases = [
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (
            json!({"title": "t", "description": "d".repeat(4001)}),
            "description",
        ),
        (json!({"title": "t", "tags": ["ok", " "]}), "tags[1]"),
        (
            json!({"title": "t", "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"title": "t", "tags": ["x".repeat(33)]}), "tags[0]"),
        (json!({"title": "t", "due": "someday"}), "due"),
        (
            json!({"title": "t", "due": "2026-03-01", "timezone": "Moon/Base"}),
            "timezone",
        ),
        (
            json!({"title": "t", "due": "2026-03-01", "recurrence": "FREQ=SECONDLY"}),
            "recurrence",
        ),
        (
            json!({"title": "t", "recurrence": "FREQ=DAILY"}),
            "recurrence",
        ),
        (
            json!({"title": "t", "reminder": {"minutes_before": 5}}),
            "reminder",
        ),
        (
            json!({"title": "t", "reminder": {"at": "+10000-01-01T00:00:00Z"}}),
            "reminder",
        ),
        (
            json!({"title": "t", "description": "nul \u{0} byte"}),
            "description",
        ),
        (json!({"title": "t", "due": "9999-12-31"}), "due"),
        (
            json!({"title": "t", "tags": (0..10_000).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
    ];
    for (input, field) in cases {
        assert_eq!(
            invalid_field(h.svc.create(&alice(), &create(input.clone()), None).await),
            field,
            "{input}"
        );
    }
    assert_eq!(
        invalid_field(h.svc.create(&alice(), &titled("t"), Some("bad key")).await),
        "idempotency_key"
    );
    assert_eq!(
        invalid_field(
            h.svc
                .create(&Actor::new("", Source::Api), &titled("t"), None)
                .await
        ),
        "user"
    );
    let task = h.svc.create(&alice(), &titled("ok"), None).await.unwrap();
    let patches = [
        (json!({"title": ""}), "title"),
        (json!({"due": "31/12/2026"}), "due"),
        (json!({"timezone": "Nowhere"}), "timezone"),
        (json!({"recurrence": "FREQ=DAILY"}), "recurrence"),
        (json!({"tags": ["a,b"]}), "tags[0]"),
    ];
    for (patch, field) in patches {
        let patch: UpdateTask = serde_json::from_value(patch).unwrap();
        assert_eq!(
            invalid_field(h.svc.update(&alice(), task.id, &patch, None).await),
            field
        );
    }
    let lists = [
        (
            ListQuery {
                sort: Some("random".into()),
                ..Default::default()
            },
            "sort",
        ),
        (
            ListQuery {
                limit: Some(0),
                ..Default::default()
            },
            "limit",
        ),
        (
            ListQuery {
                limit: Some(201),
                ..Default::default()
            },
            "limit",
        ),
        (
            ListQuery {
                cursor: Some("not-a-cursor".into()),
                ..Default::default()
            },
            "cursor",
        ),
        (
            ListQuery {
                due_before: Some("soon".into()),
                ..Default::default()
            },
            "due_before",
        ),
        (
            ListQuery {
                q: Some("q".repeat(201)),
                ..Default::default()
            },
            "q",
        ),
        (
            ListQuery {
                q: Some("a\u{0}".into()),
                ..Default::default()
            },
            "q",
        ),
    ];
    for (query, field) in lists {
        assert_eq!(invalid_field(h.svc.list("alice", &query).await), field);
    }
    assert_eq!(
        invalid_field(h.svc.history("alice", task.id, None, Some(0)).await),
        "limit"
    );
    let snooze = SnoozeTask {
        minutes: Some(0),
        until: None,
    };
    assert_eq!(
        invalid_field(h.svc.snooze(&alice(), task.id, &snooze).await),
        "minutes"
    );
    assert_eq!(h.svc.get("alice", task.id).await.unwrap(), task);
}

async fn tags_are_counted_per_user(h: &Harness) {
    for tags in [vec!["work", "urgent"], vec!["work"], vec!["home"]] {
        let input = CreateTask {
            tags: tags.into_iter().map(String::from).collect(),
            ..titled("t")
        };
        h.svc.create(&alice(), &input, None).await.unwrap();
    }
    h.svc
        .create(
            &bob(),
            &CreateTask {
                tags: vec!["work".into()],
                ..titled("t")
            },
            None,
        )
        .await
        .unwrap();
    let tags: Vec<(String, i64)> = h
        .svc
        .tags("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.tag, t.count))
        .collect();
    assert_eq!(
        tags,
        [("home".into(), 1), ("urgent".into(), 1), ("work".into(), 2)]
    );
}

async fn recurring_tasks_start_a_series(h: &Harness) {
    let input: CreateTask = serde_json::from_value(json!({
        "title": "rent", "due": "2026-01-31", "recurrence": "FREQ=MONTHLY"
    }))
    .unwrap();
    let task = h.svc.create(&alice(), &input, None).await.unwrap();
    assert_eq!(task.series_id, Some(task.id));
    let plain = h.svc.create(&alice(), &titled("once"), None).await.unwrap();
    assert_eq!(plain.series_id, None);
    let made_recurring: UpdateTask =
        serde_json::from_value(json!({"due": "2026-05-01", "recurrence": "FREQ=DAILY"})).unwrap();
    let updated = h
        .svc
        .update(&alice(), plain.id, &made_recurring, None)
        .await
        .unwrap();
    assert_eq!(updated.series_id, Some(plain.id));
    let ids: HashSet<i64> = [task.id, plain.id].into();
    assert_eq!(ids.len(), 2);
}

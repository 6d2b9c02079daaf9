//! Lists: the Inbox, creating and nesting, tasks in lists, moves and their
//! manual order, archiving and deleting, each rule with its problem code,
//! and one user's lists never reachable by another.

use super::*;
use taskflow_core::{CreateList, DeleteList, ListRef, ListsQuery, MoveList, MoveTask};

on_both_databases!(
    a_task_without_a_list_goes_to_the_inbox_and_one_with_a_title_to_that_list,
    a_move_is_one_row_and_the_manual_order_follows_intent,
    moving_to_another_list_is_a_moved_event_naming_both_lists,
    an_archived_list_is_read_only_and_out_of_default_listings,
    deleting_a_list_refuses_cascades_or_moves_its_tasks,
    lists_nest_at_most_five_deep_and_never_into_themselves,
    another_users_list_is_not_found_anywhere,
    lists_keep_a_manual_order_with_the_inbox_first,
    first_creates_at_once_on_two_replicas_share_one_inbox_per_user,
);

fn list(title: &str) -> CreateList {
    CreateList {
        title: title.into(),
        ..Default::default()
    }
}

fn in_list(title: &str, list: &str) -> CreateTask {
    CreateTask {
        list: Some(ListRef::Title(list.into())),
        ..titled(title)
    }
}

fn code(err: Error) -> &'static str {
    match err {
        Error::Refused { code, .. } => code,
        Error::NoSuchList { .. } => "no_such_list",
        Error::NotFound => "not_found",
        Error::Invalid(_) => "invalid",
        other => panic!("unexpected {other:?}"),
    }
}

async fn titles(h: &Harness, query: ListQuery) -> Vec<String> {
    let page = h.svc.list("alice", &query).await.unwrap();
    page.tasks.into_iter().map(|t| t.title).collect()
}

fn in_order(list_id: i64) -> ListQuery {
    ListQuery {
        list_id: Some(list_id),
        sort: Some("position".into()),
        ..Default::default()
    }
}

async fn a_task_without_a_list_goes_to_the_inbox_and_one_with_a_title_to_that_list(h: &Harness) {
    let milk = h.svc.create(&alice(), &titled("milk"), None).await.unwrap();
    let lists = h.svc.lists(&alice(), &ListsQuery::default()).await.unwrap();
    assert_eq!(lists.len(), 1);
    assert!(lists[0].list.inbox);
    assert_eq!(lists[0].list.title, "Inbox");
    assert_eq!(milk.list_id, lists[0].list.id);
    let groceries = h
        .svc
        .create_list(&alice(), &list("Groceries"))
        .await
        .unwrap();
    let eggs = h
        .svc
        .create(&alice(), &in_list("eggs", "groceries"), None)
        .await
        .unwrap();
    assert_eq!(eggs.list_id, groceries.id);
    // The recurring path (not group-committed) places the same way.
    let weekly = CreateTask {
        due: Some("2026-03-30".into()),
        recurrence: Some("FREQ=WEEKLY".into()),
        list: Some(ListRef::Id(groceries.id)),
        ..titled("bread")
    };
    let bread = h.svc.create(&alice(), &weekly, None).await.unwrap();
    assert_eq!(bread.list_id, groceries.id);
    assert_eq!(titles(h, in_order(groceries.id)).await, ["eggs", "bread"]);
    let summaries = h.svc.lists(&alice(), &ListsQuery::default()).await.unwrap();
    let counts: Vec<_> = summaries
        .iter()
        .map(|s| (s.list.title.as_str(), s.open_count))
        .collect();
    assert_eq!(counts, [("Inbox", 1), ("Groceries", 2)]);
    // The outbox row names the list.
    let sql = format!(
        "SELECT COUNT(*) FROM task_events WHERE list_id = {}",
        groceries.id
    );
    assert_eq!(h.raw.scalar(&sql).await, 3, "list created + two tasks");
}

async fn a_move_is_one_row_and_the_manual_order_follows_intent(h: &Harness) {
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(
            h.svc
                .create(&alice(), &titled(title), None)
                .await
                .unwrap()
                .id,
        );
    }
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    let to = |spot: &str, other: Option<i64>| {
        let mut m = MoveTask::default();
        match spot {
            "before" => m.before_id = other,
            "after" => m.after_id = other,
            "top" => m.to = Some(taskflow_core::Edge::Top),
            _ => m.to = Some(taskflow_core::Edge::Bottom),
        }
        m
    };
    let rows = "SELECT COUNT(*) FROM tasks WHERE updated_at > created_at";
    h.svc
        .move_task(&alice(), ids[3], &to("top", None), None)
        .await
        .unwrap();
    assert_eq!(titles(h, in_order(inbox)).await, ["d", "a", "b", "c"]);
    assert_eq!(
        h.raw.scalar(rows).await,
        0,
        "the clock stands still: no row is newer"
    );
    h.svc
        .move_task(&alice(), ids[0], &to("after", Some(ids[2])), None)
        .await
        .unwrap();
    assert_eq!(titles(h, in_order(inbox)).await, ["d", "b", "c", "a"]);
    h.svc
        .move_task(&alice(), ids[2], &to("before", Some(ids[3])), None)
        .await
        .unwrap();
    assert_eq!(titles(h, in_order(inbox)).await, ["c", "d", "b", "a"]);
    h.svc
        .move_task(&alice(), ids[2], &to("bottom", None), None)
        .await
        .unwrap();
    assert_eq!(titles(h, in_order(inbox)).await, ["d", "b", "a", "c"]);
    // Each move wrote one row: versions moved by one each, nothing else.
    let versions = "SELECT CAST(SUM(version) AS BIGINT) FROM tasks";
    assert_eq!(h.raw.scalar(versions).await, 4 + 4);
    // A task created now goes below every moved one.
    h.svc.create(&alice(), &titled("e"), None).await.unwrap();
    assert_eq!(titles(h, in_order(inbox)).await, ["d", "b", "a", "c", "e"]);
    // The reverse order and pages.
    let back = ListQuery {
        sort: Some("-position".into()),
        limit: Some(2),
        ..in_order(inbox)
    };
    let page = h.svc.list("alice", &back).await.unwrap();
    let next = ListQuery {
        cursor: page.next_cursor.clone(),
        ..back.clone()
    };
    let rest = h.svc.list("alice", &next).await.unwrap();
    let seen: Vec<_> = page
        .tasks
        .iter()
        .chain(&rest.tasks)
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(seen, ["e", "c", "a", "b"]);
    // Bad intents.
    let both = MoveTask {
        before_id: Some(ids[1]),
        to: Some(taskflow_core::Edge::Top),
        ..Default::default()
    };
    assert_eq!(
        code(
            h.svc
                .move_task(&alice(), ids[0], &both, None)
                .await
                .unwrap_err()
        ),
        "invalid"
    );
    let itself = to("before", Some(ids[0]));
    assert_eq!(
        code(
            h.svc
                .move_task(&alice(), ids[0], &itself, None)
                .await
                .unwrap_err()
        ),
        "invalid"
    );
    let other = h.svc.create_list(&alice(), &list("Other")).await.unwrap();
    let elsewhere = h
        .svc
        .create(&alice(), &in_list("x", "Other"), None)
        .await
        .unwrap();
    let across = to("before", Some(elsewhere.id));
    assert_eq!(
        code(
            h.svc
                .move_task(&alice(), ids[0], &across, None)
                .await
                .unwrap_err()
        ),
        "invalid"
    );
    assert_eq!(other.title, "Other");
}

async fn moving_to_another_list_is_a_moved_event_naming_both_lists(h: &Harness) {
    let task = h
        .svc
        .create(&alice(), &titled("dentist"), None)
        .await
        .unwrap();
    let health = h.svc.create_list(&alice(), &list("Health")).await.unwrap();
    let patch = UpdateTask {
        list: Some(ListRef::Title("Health".into())),
        ..Default::default()
    };
    let moved = h.svc.update(&alice(), task.id, &patch, None).await.unwrap();
    assert_eq!(moved.list_id, health.id);
    assert_eq!(moved.version, 2);
    // Naming its own list again changes nothing.
    let again = h.svc.update(&alice(), task.id, &patch, None).await.unwrap();
    assert_eq!(again.version, 2);
    let history = h.svc.history("alice", task.id, None, None).await.unwrap();
    let latest = &history.entries[0];
    assert_eq!(latest.event_type, TaskEventType::Moved);
    assert_eq!(latest.changes["list_id"].old, json!(task.list_id));
    assert_eq!(latest.changes["list_id"].new, json!(health.id));
    let message = h
        .svc
        .database()
        .events_after("alice", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.task_id == task.id)
        .unwrap()
        .messages()
        .unwrap()
        .remove(0);
    assert_eq!(message.event.event_type, "taskflow.task.moved.v1");
    assert_eq!(message.event.data["from_list_id"], json!(task.list_id));
    assert_eq!(message.event.data["to_list_id"], json!(health.id));
}

async fn an_archived_list_is_read_only_and_out_of_default_listings(h: &Harness) {
    let trip = h.svc.create_list(&alice(), &list("Trip")).await.unwrap();
    let inner = h
        .svc
        .create_list(
            &alice(),
            &CreateList {
                parent_id: Some(trip.id),
                ..list("Packing")
            },
        )
        .await
        .unwrap();
    let passport = h
        .svc
        .create(&alice(), &in_list("passport", "Packing"), None)
        .await
        .unwrap();
    h.svc.create(&alice(), &titled("milk"), None).await.unwrap();
    let archived = h.svc.archive_list(&alice(), trip.id, None).await.unwrap();
    assert!(archived.archived_at.is_some());
    // Writes in it, or in a list inside it, are refused.
    let refused = [
        h.svc
            .complete(&alice(), passport.id, None, false)
            .await
            .unwrap_err(),
        h.svc
            .create(&alice(), &in_list("towel", "Packing"), None)
            .await
            .unwrap_err(),
        h.svc
            .update_list(&alice(), inner.id, &Default::default(), None)
            .await
            .unwrap_err(),
        h.svc.delete(&alice(), passport.id, None).await.unwrap_err(),
    ];
    for err in refused {
        assert_eq!(code(err), "list_archived");
    }
    assert_eq!(titles(h, ListQuery::default()).await, ["milk"]);
    assert_eq!(titles(h, in_order(inner.id)).await, ["passport"]);
    let shown = h.svc.lists(&alice(), &ListsQuery::default()).await.unwrap();
    assert_eq!(shown.len(), 1, "only the Inbox");
    let all = ListsQuery {
        archived: Some(true),
    };
    assert_eq!(h.svc.lists(&alice(), &all).await.unwrap().len(), 3);
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    assert_eq!(
        code(h.svc.archive_list(&alice(), inbox, None).await.unwrap_err()),
        "inbox_protected"
    );
    h.svc.unarchive_list(&alice(), trip.id, None).await.unwrap();
    let mut shown = titles(h, ListQuery::default()).await;
    shown.sort();
    assert_eq!(shown, ["milk", "passport"], "shown again once unarchived");
    h.svc
        .complete(&alice(), passport.id, None, false)
        .await
        .unwrap();
}

async fn deleting_a_list_refuses_cascades_or_moves_its_tasks(h: &Harness) {
    let a = h.svc.create_list(&alice(), &list("A")).await.unwrap();
    let b = h.svc.create_list(&alice(), &list("B")).await.unwrap();
    let one = h
        .svc
        .create(&alice(), &in_list("one", "A"), None)
        .await
        .unwrap();
    let two = h
        .svc
        .create(&alice(), &in_list("two", "B"), None)
        .await
        .unwrap();
    let refuse = DeleteList::default();
    assert_eq!(
        code(
            h.svc
                .delete_list(&alice(), a.id, &refuse, None)
                .await
                .unwrap_err()
        ),
        "list_not_empty"
    );
    let move_to = DeleteList {
        move_to: Some(b.id),
        ..Default::default()
    };
    h.svc
        .delete_list(&alice(), a.id, &move_to, None)
        .await
        .unwrap();
    assert_eq!(h.svc.get("alice", one.id).await.unwrap().list_id, b.id);
    assert_eq!(titles(h, in_order(b.id)).await, ["two", "one"]);
    let cascade = DeleteList {
        cascade: Some(taskflow_core::Cascade::Delete),
        ..Default::default()
    };
    h.svc
        .delete_list(&alice(), b.id, &cascade, None)
        .await
        .unwrap();
    assert!(matches!(
        h.svc.get("alice", two.id).await,
        Err(Error::NotFound)
    ));
    let history = h.svc.history("alice", two.id, None, None).await.unwrap();
    assert_eq!(history.entries[0].event_type, TaskEventType::Deleted);
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    assert_eq!(
        code(
            h.svc
                .delete_list(&alice(), inbox, &cascade, None)
                .await
                .unwrap_err()
        ),
        "inbox_protected"
    );
    let sql = "SELECT COUNT(*) FROM task_events WHERE event_type = 'list_deleted'";
    assert_eq!(h.raw.scalar(sql).await, 2);
}

async fn lists_nest_at_most_five_deep_and_never_into_themselves(h: &Harness) {
    let mut parent = None;
    let mut chain = Vec::new();
    for depth in 1..=5 {
        let input = CreateList {
            parent_id: parent,
            ..list(&format!("level {depth}"))
        };
        let made = h.svc.create_list(&alice(), &input).await.unwrap();
        parent = Some(made.id);
        chain.push(made.id);
    }
    let too_deep = CreateList {
        parent_id: parent,
        ..list("level 6")
    };
    assert_eq!(
        code(h.svc.create_list(&alice(), &too_deep).await.unwrap_err()),
        "invalid"
    );
    let into_itself = MoveList {
        parent_id: Some(Some(chain[4])),
        ..Default::default()
    };
    assert_eq!(
        code(
            h.svc
                .move_list(&alice(), chain[1], &into_itself)
                .await
                .unwrap_err()
        ),
        "invalid"
    );
    // To the top level: the subtree is four deep now.
    let to_top = MoveList {
        parent_id: Some(None),
        ..Default::default()
    };
    let moved = h.svc.move_list(&alice(), chain[1], &to_top).await.unwrap();
    assert_eq!(moved.parent_id, None);
    let under_first = MoveList {
        parent_id: Some(Some(chain[0])),
        ..Default::default()
    };
    h.svc
        .move_list(&alice(), chain[1], &under_first)
        .await
        .unwrap();
}

async fn another_users_list_is_not_found_anywhere(h: &Harness) {
    let secret = h.svc.create_list(&bob(), &list("Bob's")).await.unwrap();
    let bobs_task = h
        .svc
        .create(&bob(), &in_list("b", "Bob's"), None)
        .await
        .unwrap();
    let mine = h.svc.create(&alice(), &titled("mine"), None).await.unwrap();
    let by_id = CreateTask {
        list: Some(ListRef::Id(secret.id)),
        ..titled("x")
    };
    let failures = [
        h.svc.create(&alice(), &by_id, None).await.unwrap_err(),
        h.svc
            .create(&alice(), &in_list("x", "Bob's"), None)
            .await
            .unwrap_err(),
        h.svc.get_list(&alice(), secret.id).await.unwrap_err(),
        h.svc
            .archive_list(&alice(), secret.id, None)
            .await
            .unwrap_err(),
        h.svc
            .delete_list(&alice(), secret.id, &DeleteList::default(), None)
            .await
            .unwrap_err(),
        h.svc
            .move_task(
                &alice(),
                mine.id,
                &MoveTask {
                    list: Some(ListRef::Id(secret.id)),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap_err(),
        h.svc.list("alice", &in_order(secret.id)).await.unwrap_err(),
    ];
    for err in failures {
        assert_eq!(code(err), "no_such_list");
    }
    let beside_bobs = MoveTask {
        before_id: Some(bobs_task.id),
        ..Default::default()
    };
    assert_eq!(
        code(
            h.svc
                .move_task(&alice(), mine.id, &beside_bobs, None)
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    assert_eq!(
        h.svc.get("bob", bobs_task.id).await.unwrap().list_id,
        secret.id
    );
}

async fn lists_keep_a_manual_order_with_the_inbox_first(h: &Harness) {
    let mut ids = Vec::new();
    for title in ["A", "B", "C"] {
        ids.push(h.svc.create_list(&alice(), &list(title)).await.unwrap().id);
    }
    let order = || async {
        let lists = h.svc.lists(&alice(), &ListsQuery::default()).await.unwrap();
        lists.into_iter().map(|s| s.list.title).collect::<Vec<_>>()
    };
    assert_eq!(order().await, ["Inbox", "A", "B", "C"]);
    let before_a = MoveList {
        before_id: Some(ids[0]),
        ..Default::default()
    };
    h.svc.move_list(&alice(), ids[2], &before_a).await.unwrap();
    assert_eq!(order().await, ["Inbox", "C", "A", "B"]);
    let to_top = MoveList {
        to: Some(taskflow_core::Edge::Top),
        ..Default::default()
    };
    h.svc.move_list(&alice(), ids[1], &to_top).await.unwrap();
    assert_eq!(order().await, ["Inbox", "B", "C", "A"]);
    let after_b = MoveList {
        after_id: Some(ids[1]),
        ..Default::default()
    };
    h.svc.move_list(&alice(), ids[0], &after_b).await.unwrap();
    assert_eq!(order().await, ["Inbox", "B", "A", "C"]);
    let history = "SELECT COUNT(*) FROM task_events WHERE event_type = 'list_moved'";
    assert_eq!(h.raw.scalar(history).await, 3);
    // The Inbox stays first and cannot be placed.
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    assert_eq!(
        code(h.svc.move_list(&alice(), inbox, &to_top).await.unwrap_err()),
        "inbox_protected"
    );
    let beside_inbox = MoveList {
        before_id: Some(inbox),
        ..Default::default()
    };
    assert_eq!(
        code(
            h.svc
                .move_list(&alice(), ids[0], &beside_inbox)
                .await
                .unwrap_err()
        ),
        "invalid"
    );
}

/// A new user's first creates are group-committed with their Inbox made in
/// the batch's transaction. Many at once, on two services that know no
/// Inbox yet (two replicas), still make exactly one Inbox per user.
async fn first_creates_at_once_on_two_replicas_share_one_inbox_per_user(h: &Harness) {
    let other = taskflow_store::Database::connect(&h.url).await.unwrap();
    let replicas = [h.svc.clone(), taskflow_store::TaskService::new(other)];
    let users = ["ann", "ben", "cat"];
    let creates = (0..30).map(|k| {
        let svc = &replicas[k % 2];
        let user = users[k % 3];
        async move {
            let task = svc
                .create(
                    &Actor::new(user, Source::Api),
                    &titled(&format!("t{k}")),
                    None,
                )
                .await
                .unwrap();
            (user, task.list_id)
        }
    });
    let made = futures::future::join_all(creates).await;
    for user in users {
        let inboxes: HashSet<i64> = made
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, list)| *list)
            .collect();
        assert_eq!(inboxes.len(), 1, "{user}'s creates went to {inboxes:?}");
        let listed = h
            .svc
            .lists(&Actor::new(user, Source::Api), &ListsQuery::default())
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].list.inbox);
        assert_eq!(listed[0].open_count, 10);
        assert!(inboxes.contains(&listed[0].list.id));
    }
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM lists WHERE user_id IN ('ann', 'ben', 'cat')")
            .await,
        3
    );
}

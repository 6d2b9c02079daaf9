//! Subtasks and links: nesting rules, completing a parent, deleting and
//! moving one with its subtasks, a recurring checklist coming back, the
//! derived fields every surface shows, and links with their cycle rule.

use super::*;
use taskflow_core::{CreateList, LinkKind, ListRef, MoveTask, TaskInclude, WriteComment};

on_both_databases!(
    subtasks_stay_in_their_parents_list_three_deep_and_never_under_themselves,
    a_parent_completes_only_with_its_subtasks_and_deletes_and_moves_with_them,
    a_recurring_checklist_comes_back_open_in_order,
    blocks_make_a_task_blocked_until_done_and_never_a_cycle,
    the_hints_follow_every_path_and_the_upgrade_sets_them_for_older_rows,
);

fn under(title: &str, parent: i64) -> CreateTask {
    CreateTask {
        parent: Some(parent),
        ..titled(title)
    }
}

fn code(err: Error) -> String {
    match err {
        Error::Refused { code, .. } => code.into(),
        Error::Invalid(invalid) => format!("invalid {}", invalid.field),
        Error::NotFound => "not_found".into(),
        other => panic!("unexpected {other:?}"),
    }
}

async fn subtasks_stay_in_their_parents_list_three_deep_and_never_under_themselves(h: &Harness) {
    let trip = h
        .svc
        .create_list(
            &alice(),
            &CreateList {
                title: "Trip".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let top = CreateTask {
        list: Some(ListRef::Id(trip.id)),
        ..titled("pack")
    };
    let pack = h.svc.create(&alice(), &top, None).await.unwrap();
    let passport = h
        .svc
        .create(&alice(), &under("passport", pack.id), None)
        .await
        .unwrap();
    assert_eq!(
        passport.list_id, trip.id,
        "a subtask is in its parent's list"
    );
    assert_eq!(
        passport.parent.as_ref().map(|p| p.title.as_str()),
        Some("pack")
    );
    let visa = h
        .svc
        .create(&alice(), &under("visa", passport.id), None)
        .await
        .unwrap();
    let too_deep = h
        .svc
        .create(&alice(), &under("form", visa.id), None)
        .await
        .unwrap_err();
    assert_eq!(code(too_deep), "invalid parent");
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    let elsewhere = CreateTask {
        list: Some(ListRef::Id(inbox)),
        ..under("x", pack.id)
    };
    assert_eq!(
        code(h.svc.create(&alice(), &elsewhere, None).await.unwrap_err()),
        "invalid parent"
    );
    let cycle = MoveTask {
        parent: Some(Some(visa.id)),
        ..Default::default()
    };
    assert_eq!(
        code(
            h.svc
                .move_task(&alice(), pack.id, &cycle, None)
                .await
                .unwrap_err()
        ),
        "invalid parent"
    );
    let bobs = h.svc.create(&bob(), &titled("bob's"), None).await.unwrap();
    assert_eq!(
        code(
            h.svc
                .create(&alice(), &under("x", bobs.id), None)
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    // Derived counts, and the detail view in order.
    let shown = h.svc.get("alice", pack.id).await.unwrap();
    assert_eq!((shown.child_count, shown.open_child_count), (1, 1));
    let include = TaskInclude {
        include: Some("children,links".into()),
    };
    let detail = h
        .svc
        .get_detail("alice", passport.id, &include)
        .await
        .unwrap();
    let children: Vec<_> = detail
        .children
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(children, ["visa"]);
    // Filters: top-level only, one parent's subtasks.
    let top_level = ListQuery {
        has_parent: Some(false),
        ..Default::default()
    };
    let titles: Vec<_> = h
        .svc
        .list("alice", &top_level)
        .await
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles, ["pack"]);
    let of_pack = ListQuery {
        parent_id: Some(pack.id),
        ..Default::default()
    };
    assert_eq!(h.svc.list("alice", &of_pack).await.unwrap().tasks.len(), 1);
    let of_bobs = ListQuery {
        parent_id: Some(bobs.id),
        ..Default::default()
    };
    assert_eq!(
        code(h.svc.list("alice", &of_bobs).await.unwrap_err()),
        "not_found"
    );
}

async fn a_parent_completes_only_with_its_subtasks_and_deletes_and_moves_with_them(h: &Harness) {
    let parent = h
        .svc
        .create(&alice(), &titled("party"), None)
        .await
        .unwrap();
    let cake = h
        .svc
        .create(&alice(), &under("cake", parent.id), None)
        .await
        .unwrap();
    let candles = h
        .svc
        .create(&alice(), &under("candles", cake.id), None)
        .await
        .unwrap();
    let refused = h
        .svc
        .complete(&alice(), parent.id, None, false)
        .await
        .unwrap_err();
    assert_eq!(code(refused), "open_subtasks");
    let done = h
        .svc
        .complete(&alice(), parent.id, None, true)
        .await
        .unwrap();
    assert!(done.completed);
    assert_eq!(done.open_child_count, 0);
    for id in [cake.id, candles.id] {
        let task = h.svc.get("alice", id).await.unwrap();
        assert!(task.completed, "{id}");
        let history = h.svc.history("alice", id, None, None).await.unwrap();
        assert_eq!(history.entries[0].event_type, TaskEventType::Completed);
    }
    // Moving the parent to another list takes its subtasks along.
    h.svc
        .create_list(
            &alice(),
            &CreateList {
                title: "Later".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let to_later = MoveTask {
        list: Some(ListRef::Title("later".into())),
        ..Default::default()
    };
    let moved = h
        .svc
        .move_task(&alice(), parent.id, &to_later, None)
        .await
        .unwrap();
    for id in [cake.id, candles.id] {
        assert_eq!(h.svc.get("alice", id).await.unwrap().list_id, moved.list_id);
    }
    // Deleting it deletes them, each with its event.
    h.svc.delete(&alice(), parent.id, None).await.unwrap();
    for id in [parent.id, cake.id, candles.id] {
        assert!(matches!(h.svc.get("alice", id).await, Err(Error::NotFound)));
        let history = h.svc.history("alice", id, None, None).await.unwrap();
        assert_eq!(history.entries[0].event_type, TaskEventType::Deleted);
    }
}

async fn a_recurring_checklist_comes_back_open_in_order(h: &Harness) {
    let weekly = CreateTask {
        due: Some("2026-03-30".into()),
        recurrence: Some("FREQ=WEEKLY".into()),
        ..titled("weekly review")
    };
    let review = h.svc.create(&alice(), &weekly, None).await.unwrap();
    for title in ["inbox zero", "plan week", "water plants"] {
        h.svc
            .create(&alice(), &under(title, review.id), None)
            .await
            .unwrap();
    }
    h.svc
        .complete(&alice(), review.id, None, true)
        .await
        .unwrap();
    let event_id = uuid::Uuid::now_v7();
    let next = h
        .svc
        .next_occurrence("recurrence", event_id, "alice", review.id)
        .await
        .unwrap()
        .unwrap();
    let include = TaskInclude {
        include: Some("children".into()),
    };
    let detail = h.svc.get_detail("alice", next.id, &include).await.unwrap();
    let copies = detail.children.unwrap();
    let titles: Vec<_> = copies.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["inbox zero", "plan week", "water plants"]);
    assert!(
        copies
            .iter()
            .all(|t| !t.completed && t.list_id == next.list_id)
    );
    assert_eq!(detail.task.child_count, 3);
}

async fn blocks_make_a_task_blocked_until_done_and_never_a_cycle(h: &Harness) {
    let a = h
        .svc
        .create(&alice(), &titled("book flights"), None)
        .await
        .unwrap();
    let b = h
        .svc
        .create(&alice(), &titled("book hotel"), None)
        .await
        .unwrap();
    let c = h.svc.create(&alice(), &titled("pack"), None).await.unwrap();
    let b_after = h
        .svc
        .link(&alice(), b.id, LinkKind::BlockedBy, a.id)
        .await
        .unwrap();
    assert!(b_after.blocked);
    h.svc
        .link(&alice(), b.id, LinkKind::Blocks, c.id)
        .await
        .unwrap();
    let cycle = h
        .svc
        .link(&alice(), c.id, LinkKind::Blocks, a.id)
        .await
        .unwrap_err();
    assert_eq!(code(cycle), "invalid other_id");
    let itself = h
        .svc
        .link(&alice(), a.id, LinkKind::Relates, a.id)
        .await
        .unwrap_err();
    assert_eq!(code(itself), "invalid other_id");
    let bobs = h.svc.create(&bob(), &titled("bob's"), None).await.unwrap();
    assert_eq!(
        code(
            h.svc
                .link(&alice(), a.id, LinkKind::Relates, bobs.id)
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    let ready = ListQuery {
        ready: Some(true),
        ..Default::default()
    };
    let titles =
        |page: taskflow_core::TaskPage| page.tasks.into_iter().map(|t| t.title).collect::<Vec<_>>();
    assert_eq!(
        titles(h.svc.list("alice", &ready).await.unwrap()),
        ["book flights"]
    );
    // Completing a blocked task is allowed; it still shows `blocked`.
    let forced = h.svc.complete(&alice(), c.id, None, false).await.unwrap();
    assert!(forced.completed && forced.blocked);
    h.svc.complete(&alice(), a.id, None, false).await.unwrap();
    assert!(!h.svc.get("alice", b.id).await.unwrap().blocked);
    assert_eq!(
        titles(h.svc.list("alice", &ready).await.unwrap()),
        ["book hotel"]
    );
    let include = TaskInclude {
        include: Some("links".into()),
    };
    let links = h
        .svc
        .get_detail("alice", b.id, &include)
        .await
        .unwrap()
        .links
        .unwrap();
    assert_eq!(
        links.blocked_by.iter().map(|t| t.id).collect::<Vec<_>>(),
        [a.id]
    );
    assert_eq!(
        links.blocks.iter().map(|t| t.id).collect::<Vec<_>>(),
        [c.id]
    );
    let history = h.svc.history("alice", b.id, None, None).await.unwrap();
    let kinds: Vec<_> = history.entries.iter().map(|e| e.event_type).collect();
    assert_eq!(kinds[..2], [TaskEventType::Linked, TaskEventType::Linked]);
    h.svc
        .unlink(&alice(), b.id, LinkKind::Blocks, c.id)
        .await
        .unwrap();
    let again = h
        .svc
        .unlink(&alice(), b.id, LinkKind::Blocks, c.id)
        .await
        .unwrap();
    assert_eq!(
        h.svc
            .history("alice", b.id, None, None)
            .await
            .unwrap()
            .entries[0]
            .event_type,
        TaskEventType::Unlinked
    );
    assert!(!again.blocked);
}

/// Reads look for subtasks, blockers and comments only where a row's hint
/// says there may be some (migrations 0007 and 0014). A move under a
/// parent, a link and a comment set the hints too, and the migrations set
/// them for rows written before them.
async fn the_hints_follow_every_path_and_the_upgrade_sets_them_for_older_rows(h: &Harness) {
    let trip = h.svc.create(&alice(), &titled("trip"), None).await.unwrap();
    let pack = h.svc.create(&alice(), &titled("pack"), None).await.unwrap();
    let visa = h.svc.create(&alice(), &titled("visa"), None).await.unwrap();
    let under_trip = MoveTask {
        parent: Some(Some(trip.id)),
        ..Default::default()
    };
    h.svc
        .move_task(&alice(), pack.id, &under_trip, None)
        .await
        .unwrap();
    h.svc
        .link(&alice(), visa.id, LinkKind::Blocks, trip.id)
        .await
        .unwrap();
    let include = TaskInclude {
        include: Some("children,links,comments".into()),
    };
    let shown = |detail: taskflow_core::TaskDetail| {
        let links = detail.links.unwrap_or_default();
        (
            detail.task.child_count,
            detail.task.blocked,
            detail.children.unwrap_or_default().len(),
            links.blocked_by.len(),
            detail.comments.unwrap_or_default().comments.len(),
        )
    };
    let trip_now = || async { shown(h.svc.get_detail("alice", trip.id, &include).await.unwrap()) };
    assert_eq!(trip_now().await, (1, true, 1, 1, 0));
    let say = WriteComment {
        body: "Passports first".into(),
    };
    h.svc.add_comment(&alice(), trip.id, &say).await.unwrap();
    assert_eq!(
        trip_now().await,
        (1, true, 1, 1, 1),
        "a move, a link and a comment set the hints"
    );

    // Rows as an older schema left them: no hints.
    h.raw
        .exec("UPDATE tasks SET had_subtasks = FALSE, had_links = FALSE, had_comments = FALSE")
        .await;
    assert_eq!(
        trip_now().await,
        (0, false, 0, 0, 0),
        "reads trust the hints"
    );
    let migrations = match &h.raw {
        harness::Raw::Sqlite(_) => [
            include_str!("../../migrations/sqlite/0007_relation_hints.sql"),
            include_str!("../../migrations/sqlite/0014_comment_hint.sql"),
        ],
        harness::Raw::Postgres(_) => [
            include_str!("../../migrations/postgres/0007_relation_hints.sql"),
            include_str!("../../migrations/postgres/0014_comment_hint.sql"),
        ],
    };
    for migration in migrations {
        let (_, backfill) = migration
            .split_once("-- Rows written before this migration:")
            .expect("the migration marks its backfill");
        h.raw.exec(backfill).await;
    }
    assert_eq!(
        trip_now().await,
        (1, true, 1, 1, 1),
        "the upgrades set them"
    );
}

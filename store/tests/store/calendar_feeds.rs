//! Calendar feeds in the store: only the token's hash is kept; a feed's
//! ETag moves with every change its lists show (a move out of a list
//! included) and with nothing else, survives pruning, and a removed
//! member's feed loses the shared list at once.

use taskflow_core::calendar::{CreateCalendarFeed, FeedComponent, FeedLists};
use taskflow_core::{
    CreateInvitation, CreateList, Grant, ListRef, MoveTask, Subject, UpdateList, UpdateTask,
};
use taskflow_store::retention::Retention;
use taskflow_store::{Clock, OpenedFeed, TaskService};

use super::*;

on_both_databases!(
    a_feeds_etag_moves_with_each_change_of_its_lists_and_with_nothing_else,
    a_removed_member_loses_the_shared_list_at_the_next_fetch,
);

const URL: &str = "https://tasks.example.com";

/// A feed of `lists`; returns its token.
async fn feed(svc: &TaskService, user: &str, lists: FeedLists) -> String {
    let made = svc
        .create_calendar_feed(
            user,
            &CreateCalendarFeed {
                name: None,
                lists,
                component: FeedComponent::Todos,
                include_completed: true,
            },
            URL,
        )
        .await
        .unwrap();
    let file = made.url.rsplit('/').next().unwrap();
    file.strip_suffix(".ics").unwrap().to_owned()
}

async fn open(svc: &TaskService, token: &str) -> OpenedFeed {
    svc.open_calendar_feed(token, URL).await.unwrap().unwrap()
}

/// Checks that the feed counts every change of `list` and that its ETag
/// left `before`; returns it.
async fn changed(h: &Harness, token: &str, list: i64, before: &str, what: &str) -> String {
    let sql = format!(
        "SELECT COALESCE(MAX(sequence), 0) FROM task_events \
         WHERE list_id = {list} OR from_list_id = {list}"
    );
    let newest = h.raw.scalar(&sql).await;
    let opened = open(&h.svc, token).await;
    assert_eq!(opened.newest, newest, "{what}");
    let etag = opened.etag;
    assert_ne!(etag, before, "{what}");
    etag
}

async fn a_feeds_etag_moves_with_each_change_of_its_lists_and_with_nothing_else(h: &Harness) {
    let svc = &h.svc;
    let list = |title: &str| CreateList {
        title: title.into(),
        ..CreateList::default()
    };
    let home = svc.create_list(&alice(), &list("Home")).await.unwrap().id;
    let work = svc.create_list(&alice(), &list("Work")).await.unwrap().id;
    let token = feed(svc, "alice", FeedLists::Ids(vec![home])).await;
    let watcher = feed(svc, "alice", FeedLists::Ids(vec![work])).await;

    // Only the hash of the token is kept.
    let stored = h
        .raw
        .scalar(&format!(
            "SELECT COUNT(*) FROM calendar_feeds WHERE token_hash = '{token}' \
             OR token_hash LIKE '%{}%'",
            &token[4..20]
        ))
        .await;
    assert_eq!(stored, 0);
    let opened = open(svc, &token).await;
    assert_eq!(
        (opened.name.as_str(), opened.lists.clone()),
        ("Home", vec![home])
    );
    assert!(
        svc.open_calendar_feed("cal_nope", URL)
            .await
            .unwrap()
            .is_none()
    );

    let in_home = CreateTask {
        list: Some(ListRef::Id(home)),
        ..titled("milk")
    };
    let mut etag = opened.etag;
    let task = svc.create(&alice(), &in_home, None).await.unwrap().id;
    etag = changed(h, &token, home, &etag, "a create").await;
    let retitle = UpdateTask {
        title: Some("oat milk".into()),
        ..UpdateTask::default()
    };
    svc.update(&alice(), task, &retitle, None).await.unwrap();
    etag = changed(h, &token, home, &etag, "an edit").await;
    svc.complete(&alice(), task, None, false).await.unwrap();
    etag = changed(h, &token, home, &etag, "a completion").await;

    // A change in another list: once it shows in that list's feed, this
    // one's ETag is still the same.
    let elsewhere = CreateTask {
        list: Some(ListRef::Id(work)),
        ..titled("report")
    };
    let seen = open(svc, &watcher).await.etag;
    let report = svc.create(&alice(), &elsewhere, None).await.unwrap().id;
    let seen = changed(h, &watcher, work, &seen, "the other list's create").await;
    assert_eq!(open(svc, &token).await.etag, etag, "another list's change");

    // A move out of the list changes both lists' feeds; a move in too.
    let to_work = MoveTask {
        list: Some(ListRef::Id(work)),
        ..MoveTask::default()
    };
    svc.move_task(&alice(), task, &to_work, None).await.unwrap();
    etag = changed(h, &token, home, &etag, "a move out").await;
    changed(h, &watcher, work, &seen, "a move in").await;
    let to_home = MoveTask {
        list: Some(ListRef::Id(home)),
        ..MoveTask::default()
    };
    svc.move_task(&alice(), report, &to_home, None)
        .await
        .unwrap();
    etag = changed(h, &token, home, &etag, "a move in").await;
    svc.delete(&alice(), report, None).await.unwrap();
    etag = changed(h, &token, home, &etag, "a deletion").await;
    let rename = UpdateList {
        title: Some("House".into()),
        ..UpdateList::default()
    };
    svc.update_list(&alice(), home, &rename, None)
        .await
        .unwrap();
    etag = changed(h, &token, home, &etag, "a rename of the list").await;

    // Pruning every event leaves the newest change of each list.
    let work_newest = open(svc, &watcher).await.newest;
    assert!(work_newest > 0);
    let db = svc.database();
    let events = db.events_after("alice", 0, 1000).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    db.mark_published(&sequences, h.clock.now()).await.unwrap();
    h.clock.set(h.clock.now() + Duration::days(31));
    let keep = Retention {
        batch: 1000,
        ..Retention::default()
    };
    db.prune(h.clock.now(), &keep).await.unwrap();
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 0);
    assert_eq!(open(svc, &token).await.etag, etag, "after pruning");
    assert_eq!(open(svc, &watcher).await.newest, work_newest);
}

async fn a_removed_member_loses_the_shared_list_at_the_next_fetch(h: &Harness) {
    let svc = &h.svc;
    for user in ["alice", "bob"] {
        svc.saw(&Subject::new(user)).await.unwrap();
    }
    let shared = CreateList {
        title: "Shared".into(),
        ..CreateList::default()
    };
    let shared = svc.create_list(&alice(), &shared).await.unwrap().id;
    let invite = CreateInvitation {
        username: "bob".into(),
        role: Grant::Viewer,
    };
    let invitation = svc.invite(&alice(), shared, &invite).await.unwrap();
    svc.accept_invitation(&bob(), invitation.id).await.unwrap();
    let all = feed(
        svc,
        "bob",
        FeedLists::All(taskflow_core::calendar::AllLists::All),
    )
    .await;
    let named = feed(svc, "bob", FeedLists::Ids(vec![shared])).await;
    assert!(open(svc, &all).await.lists.contains(&shared));
    let before = open(svc, &named).await;
    assert_eq!(before.lists, vec![shared]);

    svc.remove_member(&alice(), shared, "bob").await.unwrap();
    assert!(!open(svc, &all).await.lists.contains(&shared));
    let after = open(svc, &named).await;
    assert!(after.lists.is_empty());
    assert_ne!(after.etag, before.etag);
    assert!(svc.calendar_feed_items(&after).await.unwrap().is_empty());
}

//! CalDAV's reads in the store: a calendar's sync report since a token
//! names exactly what changed in its list (edits, creates, deletions, moves
//! out and in), truncates with a token to resume from, reads a client's
//! names for its resources (kept after a deletion), and refuses a token
//! older than what retention holds of the list.

use taskflow_core::{CreateList, ListRef, MoveTask, UpdateTask};
use taskflow_store::{Clock, DavChanges, Error, TaskService, default_href};

use super::*;

on_both_databases!(
    a_sync_report_names_each_change_of_its_list_and_nothing_else,
    a_deleted_tasks_name_is_kept_until_retention_prunes_its_events,
);

/// The list's sync token, which counts every change of it at once.
async fn current_token(h: &Harness, list: i64) -> i64 {
    let sql = format!(
        "SELECT COALESCE(MAX(sequence), 0) FROM task_events \
         WHERE list_id = {list} OR from_list_id = {list}"
    );
    let newest = h.raw.scalar(&sql).await;
    let tokens = h.svc.dav_tokens(&[list]).await.unwrap();
    assert_eq!(tokens[&list], newest);
    newest
}

async fn since(svc: &TaskService, list: i64, token: i64, limit: usize) -> DavChanges {
    svc.dav_changes(list, Some(token), limit).await.unwrap()
}

fn hrefs(changes: &DavChanges) -> Vec<String> {
    changes.changed.iter().map(|o| o.href.clone()).collect()
}

async fn a_sync_report_names_each_change_of_its_list_and_nothing_else(h: &Harness) {
    let svc = &h.svc;
    let list = |title: &str| CreateList {
        title: title.into(),
        ..CreateList::default()
    };
    let home = svc.create_list(&alice(), &list("Home")).await.unwrap().id;
    let work = svc.create_list(&alice(), &list("Work")).await.unwrap().id;
    let in_list = |list: i64, title: &str| CreateTask {
        list: Some(ListRef::Id(list)),
        ..titled(title)
    };
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(
            svc.create(&alice(), &in_list(home, title), None)
                .await
                .unwrap()
                .id,
        );
    }
    let [a, b, c, d] = ids[..] else {
        unreachable!()
    };
    // A client named `d`.
    h.raw
        .exec(&format!(
            "INSERT INTO task_ical (task_id, user_id, uid, href, extra) \
             VALUES ({d}, 'alice', 'client-uid-d', 'phone-d.ics', '{{}}')"
        ))
        .await;

    // Everything, with a token.
    let token = current_token(h, home).await;
    let all = svc.dav_changes(home, None, 1_000).await.unwrap();
    assert_eq!(all.token, token);
    assert_eq!(
        hrefs(&all),
        [
            default_href(a),
            default_href(b),
            default_href(c),
            "phone-d.ics".into()
        ]
    );
    assert_eq!(all.changed[0].etag, format!("\"{a}-1\""));
    assert!(all.gone.is_empty() && !all.truncated);
    // Nothing since: an empty report with the same token.
    let none = since(svc, home, token, 1_000).await;
    assert!(none.changed.is_empty() && none.gone.is_empty());
    assert_eq!(none.token, token);

    // An edit, a deletion, a move out, a new task; another list's change.
    let work_token = current_token(h, work).await;
    let retitle = UpdateTask {
        title: Some("a2".into()),
        ..UpdateTask::default()
    };
    svc.update(&alice(), a, &retitle, None).await.unwrap();
    svc.delete(&alice(), d, None).await.unwrap();
    let to_work = MoveTask {
        list: Some(ListRef::Id(work)),
        ..MoveTask::default()
    };
    svc.move_task(&alice(), c, &to_work, None).await.unwrap();
    let e = svc
        .create(&alice(), &in_list(home, "e"), None)
        .await
        .unwrap()
        .id;
    svc.create(&alice(), &in_list(work, "w"), None)
        .await
        .unwrap();
    let next = current_token(h, home).await;
    let delta = since(svc, home, token, 1_000).await;
    assert_eq!(hrefs(&delta), [default_href(a), default_href(e)]);
    assert_eq!(delta.changed[0].etag, format!("\"{a}-2\""));
    let mut gone = delta.gone.clone();
    gone.sort();
    let mut expected = vec![default_href(c), "phone-d.ics".to_owned()];
    expected.sort();
    assert_eq!(gone, expected, "the deleted one by its client's name");
    assert_eq!(delta.token, next);
    assert!(!delta.truncated);
    // The list it moved to reports it, with the other new task.
    current_token(h, work).await;
    let moved_in = since(svc, work, work_token, 1_000).await;
    assert_eq!(moved_in.changed.len(), 2);
    assert_eq!(moved_in.changed[0].href, default_href(c));
    assert!(moved_in.gone.is_empty());
    // The client's name is free again: no resource answers it.
    assert!(
        svc.dav_named(home, &["phone-d.ics"], false)
            .await
            .unwrap()
            .is_empty()
    );
    let named = svc
        .dav_named(
            home,
            &[&default_href(a), "nope.ics", &default_href(c)],
            true,
        )
        .await
        .unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].body.as_ref().unwrap().item.title, "a2");

    // One at a time: each page's token resumes where it stopped.
    let mut at = token;
    let mut pages = Vec::new();
    loop {
        let page = since(svc, home, at, 1).await;
        pages.push(page.changed.len() + page.gone.len());
        at = page.token;
        if !page.truncated {
            break;
        }
    }
    assert_eq!(pages, [1, 1, 1, 1]);
    assert_eq!(at, next);

    // Retention's mark past the token: refused; a token at the mark is not.
    h.raw
        .exec(&format!(
            "INSERT INTO list_pruned_marks (list_id, sequence) VALUES ({home}, {})",
            token + 1
        ))
        .await;
    let expired = svc.dav_changes(home, Some(token), 1_000).await;
    assert!(
        matches!(expired, Err(Error::CursorExpired { .. })),
        "{expired:?}"
    );
    assert!(svc.dav_changes(home, Some(token + 1), 1_000).await.is_ok());
    assert!(
        svc.dav_changes(home, Some(next + 1), 1_000).await.is_err(),
        "a token never issued"
    );
}

async fn a_deleted_tasks_name_is_kept_until_retention_prunes_its_events(h: &Harness) {
    use taskflow_store::retention::Retention;
    let svc = &h.svc;
    let db = svc.database();
    let id = svc
        .create(&alice(), &titled("gone soon"), None)
        .await
        .unwrap()
        .id;
    h.raw
        .exec(&format!(
            "INSERT INTO task_ical (task_id, user_id, uid, href, extra) \
             VALUES ({id}, 'alice', 'u-gone', 'gone.ics', '{{}}')"
        ))
        .await;
    svc.delete(&alice(), id, None).await.unwrap();
    let tombstones = "SELECT COUNT(*) FROM task_ical WHERE deleted_at IS NOT NULL";
    assert_eq!(h.raw.scalar(tombstones).await, 1, "kept, marked deleted");
    let events = db.events_after("alice", 0, 100).await.unwrap();
    let (deletion, before) = events.split_last().unwrap();
    let sequences: Vec<i64> = before.iter().map(|e| e.sequence).collect();
    db.mark_published(&sequences, h.clock.now()).await.unwrap();
    let keep = Retention::default();
    // Within the horizon: its events and its name stay.
    let early = db.prune(h.clock.now(), &keep).await.unwrap().unwrap();
    assert_eq!((early.task_events, early.task_ical), (0, 0));
    // Past it, while its deletion is not yet published (so still held): the
    // name stays for a sync report to name.
    h.clock.set(h.clock.now() + chrono::Duration::days(31));
    for _ in 0..3 {
        db.prune(h.clock.now(), &keep).await.unwrap().unwrap();
    }
    assert_eq!(h.raw.scalar(tombstones).await, 1, "an event of it is held");
    // Once every event of it is pruned, the name goes too.
    db.mark_published(
        &[deletion.sequence],
        h.clock.now() - chrono::Duration::days(31),
    )
    .await
    .unwrap();
    let mut rounds = 0;
    while h.raw.scalar(tombstones).await > 0 {
        db.prune(h.clock.now(), &keep).await.unwrap().unwrap();
        rounds += 1;
        assert!(rounds < 5, "the tombstone is never pruned");
    }
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM task_events").await, 0);
}

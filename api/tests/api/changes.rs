//! The changes feed over HTTP: following it from the start rebuilds every
//! task the caller sees, deletions included; members of a shared list see
//! its changes and nobody else's; bad cursors and page sizes are refused.

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    following_the_feed_rebuilds_every_task_and_list,
    members_follow_a_shared_lists_changes_and_only_theirs,
    bad_cursors_and_page_sizes_are_refused,
    a_cursor_behind_the_retention_horizon_is_told_to_start_again,
);

/// Every change `user` may see after `since`, `limit` at a time, and the
/// cursor to follow from next.
async fn follow(api: &TestApp, user: &str, since: i64, limit: u32) -> (Vec<Value>, i64) {
    let (mut changes, mut since) = (Vec::new(), since);
    loop {
        let page = api
            .call(
                Method::GET,
                &format!("/api/changes?since={since}&limit={limit}"),
                user,
                None,
            )
            .await
            .ok();
        let got = page["changes"].as_array().unwrap();
        assert!(got.len() <= limit as usize, "{page}");
        let next = page["next"].as_i64().unwrap();
        assert!(next >= since, "{page}");
        changes.extend(got.iter().cloned());
        since = next;
        if page["has_more"] == false {
            return (changes, since);
        }
    }
}

/// Follows the feed from `since`, which holds at least `count` changes:
/// a change is in it once its request is answered.
async fn follow_until(api: &TestApp, user: &str, since: i64, count: usize) -> (Vec<Value>, i64) {
    let followed = follow(api, user, since, 2).await;
    assert!(
        followed.0.len() >= count,
        "{count} changes for {user}: {:?}",
        followed.0
    );
    followed
}

/// The tasks and lists the changes say exist, by id, after applying each
/// in order (a tombstone removes).
fn replay(changes: &[Value]) -> (BTreeMap<i64, Value>, BTreeMap<i64, Value>) {
    let (mut tasks, mut lists) = (BTreeMap::new(), BTreeMap::new());
    for change in changes {
        if let Some(task) = change["task_id"].as_i64() {
            match &change["task"] {
                Value::Null => tasks.remove(&task),
                snapshot => tasks.insert(task, snapshot.clone()),
            };
        } else {
            let list = change["list_id"].as_i64().unwrap();
            match &change["list"] {
                Value::Null => lists.remove(&list),
                snapshot => lists.insert(list, snapshot.clone()),
            };
        }
    }
    (tasks, lists)
}

/// The tasks `user` sees now, by id.
async fn tasks_now(api: &TestApp, user: &str) -> BTreeMap<i64, Value> {
    let page = api.list_tasks(user, "limit=200&status=all").await.ok();
    assert!(page["next_cursor"].is_null());
    page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_i64().unwrap(), t.clone()))
        .collect()
}

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    assert!(reply.status.is_success(), "{path}: {}", reply.body);
    reply.body
}

async fn following_the_feed_rebuilds_every_task_and_list(h: &Harness) {
    let api = serve(h).await;
    let list = call(
        &api,
        Method::POST,
        "/api/lists",
        "alice",
        json!({"title": "Home"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let id = |reply: taskflow_testkit::app::Reply| reply.ok()["id"].as_i64().unwrap();
    let milk = id(api.create_task("alice", json!({"title": "milk"})).await);
    let bread = id(api
        .create_task("alice", json!({"title": "bread", "list_id": list}))
        .await);
    let gone = id(api.create_task("alice", json!({"title": "gone"})).await);
    api.update_task("alice", milk, json!({"priority": "high"}))
        .await
        .ok();
    api.complete_task("alice", bread).await.ok();
    api.delete_task("alice", gone).await;
    call(
        &api,
        Method::POST,
        &format!("/api/tasks/{milk}/comments"),
        "alice",
        json!({"body": "semi-skimmed"}),
    )
    .await;
    call(
        &api,
        Method::PATCH,
        &format!("/api/lists/{list}"),
        "alice",
        json!({"title": "House"}),
    )
    .await;
    // Someone else's work never shows.
    api.create_task("bob", json!({"title": "bob's"})).await.ok();

    // list created, 3 created, updated, completed, deleted, comment, list updated
    let (changes, next) = follow_until(&api, "alice", 0, 9).await;
    let types: Vec<_> = changes
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "taskflow.list.created.v1",
            "taskflow.task.created.v1",
            "taskflow.task.created.v1",
            "taskflow.task.created.v1",
            "taskflow.task.updated.v1",
            "taskflow.task.completed.v1",
            "taskflow.task.deleted.v1",
            "taskflow.comment.created.v1",
            "taskflow.list.updated.v1",
        ]
    );
    let sequences: Vec<_> = changes
        .iter()
        .map(|c| c["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.is_sorted() && sequences.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(next, *sequences.last().unwrap());
    let deleted = &changes[6];
    assert_eq!(
        (deleted["task_id"].as_i64(), &deleted["task"]),
        (Some(gone), &Value::Null)
    );
    assert_eq!(changes[0]["list_id"].as_i64(), Some(list));
    assert!(changes[0]["task_id"].is_null() && changes[0]["task"].is_null());

    let (tasks, lists) = replay(&changes);
    let now = tasks_now(&api, "alice").await;
    assert_eq!(
        tasks.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>()
    );
    for (id, task) in &now {
        assert_eq!(&tasks[id], task, "task {id} as the feed last saw it");
    }
    let house = call(
        &api,
        Method::GET,
        &format!("/api/lists/{list}"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(lists[&list]["title"], "House");
    assert_eq!(lists[&list]["version"], house["version"]);

    // Nothing new: an empty page that keeps the cursor.
    let (none, same) = follow(&api, "alice", next, 50).await;
    assert_eq!((none.len(), same), (0, next));
    // What follows comes after it, alone.
    api.reopen_task("alice", bread).await.ok();
    let (more, _) = follow_until(&api, "alice", next, 1).await;
    assert_eq!(more.len(), 1);
    assert_eq!(more[0]["type"], "taskflow.task.reopened.v1");
    assert_eq!(more[0]["task"]["completed"], false);
}

async fn members_follow_a_shared_lists_changes_and_only_theirs(h: &Harness) {
    let api = serve(h).await;
    for who in ["alice", "bob", "erin", "dave"] {
        call(&api, Method::GET, "/api/users/me", who, Value::Null).await;
    }
    let list = call(
        &api,
        Method::POST,
        "/api/lists",
        "alice",
        json!({"title": "Groceries"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for who in ["bob", "erin"] {
        let invitation = call(
            &api,
            Method::POST,
            &format!("/api/lists/{list}/invitations"),
            "alice",
            json!({"username": who, "role": "viewer"}),
        )
        .await;
        let path = format!("/api/invitations/{}/accept", invitation["id"]);
        call(&api, Method::POST, &path, who, Value::Null).await;
    }
    call(
        &api,
        Method::DELETE,
        &format!("/api/lists/{list}/members/erin"),
        "alice",
        Value::Null,
    )
    .await;
    let shared = api
        .create_task("alice", json!({"title": "eggs", "list_id": list}))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    api.create_task("alice", json!({"title": "private"}))
        .await
        .ok();
    api.create_task("bob", json!({"title": "bob's own"}))
        .await
        .ok();

    // Bob: the list's changes (created, two joined, one left, the task)
    // and his own task; never alice's private one.
    let (changes, _) = follow_until(&api, "bob", 0, 6).await;
    let titles: Vec<_> = changes
        .iter()
        .filter_map(|c| c["task"]["title"].as_str())
        .collect();
    assert_eq!(titles, ["eggs", "bob's own"]);
    assert!(
        changes
            .iter()
            .filter(|c| c["task"]["title"] != "bob's own")
            .all(|c| c["list_id"].as_i64() == Some(list)),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["task_id"].as_i64() == Some(shared))
    );
    // A removed member and a stranger see none of it.
    for outsider in ["erin", "dave"] {
        let (seen, _) = follow(&api, outsider, 0, 100).await;
        assert!(seen.is_empty(), "{outsider}: {seen:?}");
    }
}

async fn bad_cursors_and_page_sizes_are_refused(h: &Harness) {
    let api = serve(h).await;
    api.create_task("alice", json!({"title": "one"})).await.ok();
    let (_, latest) = follow_until(&api, "alice", 0, 1).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=-1", "since"),
    ] {
        let reply = api
            .call(Method::GET, &format!("/api/changes?{query}"), "alice", None)
            .await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.body);
        assert_eq!(reply.body["field"], field, "{query}");
    }
    let reply = api
        .call(Method::GET, "/api/changes?since=abc", "alice", None)
        .await;
    assert_eq!(reply.status.as_u16() / 100, 4, "{}", reply.body);
    // A cursor this server never issued: read everything again.
    let reply = api
        .call(
            Method::GET,
            &format!("/api/changes?since={}", latest + 1000),
            "alice",
            None,
        )
        .await;
    assert_eq!(reply.status, 410, "{}", reply.body);
    assert_eq!(reply.body["code"], "cursor_expired");
    assert!(reply.body["oldest_sequence"].as_i64().unwrap() >= 1);
    assert!(reply.body["latest_sequence"].as_i64().unwrap() >= latest);
}

async fn a_cursor_behind_the_retention_horizon_is_told_to_start_again(h: &Harness) {
    use taskflow_store::Clock;
    let api = serve(h).await;
    let db = h.svc.database();
    for n in 0..3 {
        api.create_task("alice", json!({"title": format!("old {n}")}))
            .await
            .ok();
    }
    let (old, first_cursor) = follow_until(&api, "alice", 0, 3).await;
    let sequences: Vec<i64> = old
        .iter()
        .map(|c| c["sequence"].as_i64().unwrap())
        .collect();
    db.mark_published(&sequences, h.clock.now()).await.unwrap();
    h.clock.set(h.clock.now() + chrono::Duration::days(31));
    api.create_task("alice", json!({"title": "recent"}))
        .await
        .ok();
    let keep = taskflow_store::retention::Retention::default();
    let pruned = db.prune(h.clock.now(), &keep).await.unwrap().unwrap();
    assert_eq!(pruned.task_events, 3);
    // Behind what was pruned: 410, with where to start again.
    let reply = api
        .call(
            Method::GET,
            &format!("/api/changes?since={}", sequences[0]),
            "alice",
            None,
        )
        .await;
    assert_eq!(reply.status, 410, "{}", reply.body);
    assert_eq!(reply.body["code"], "cursor_expired");
    let (recent, latest) = follow_until(&api, "alice", 0, 1).await;
    assert_eq!(recent[0]["task"]["title"], "recent");
    assert_eq!(reply.body["oldest_sequence"], recent[0]["sequence"]);
    assert!(reply.body["latest_sequence"].as_i64().unwrap() >= latest);
    // At the mark, nothing was lost: it follows on.
    let (after, _) = follow(&api, "alice", first_cursor, 10).await;
    assert_eq!(after.len(), 1);
    // A live view that missed what was pruned is told to refetch.
    let base = &api.base;
    let token = crate::common::token("alice");
    let mut stream = taskflow_testkit::sse::Stream::open(base, &token, Some(sequences[0])).await;
    assert_eq!(stream.expect().await.name, "resync");
    let mut current = taskflow_testkit::sse::Stream::open(base, &token, Some(first_cursor)).await;
    assert_eq!(current.expect().await.name, "task.created");
}

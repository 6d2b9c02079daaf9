//! Lists, subtasks, moves and links over HTTP: the whole flow with its
//! events, and every bad input with its status, stable `code` and field —
//! another user's list or task, in the path, the body or the query, is the
//! same 404 as a missing one.

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

/// Calls as alice with an owned path (null: no body).
trait CallOwned {
    fn call_owned(
        &self,
        method: Method,
        path: String,
        body: Value,
    ) -> impl std::future::Future<Output = taskflow_testkit::app::Reply>;
}

impl CallOwned for taskflow_testkit::app::TestApp {
    async fn call_owned(
        &self,
        method: Method,
        path: String,
        body: Value,
    ) -> taskflow_testkit::app::Reply {
        let body = (!body.is_null()).then_some(body);
        self.call(method, &path, "alice", body).await
    }
}

on_both_databases!(
    lists_subtasks_moves_and_links_work_end_to_end,
    bad_list_and_subtask_input_gets_the_right_status_code_and_field,
);

async fn lists_subtasks_moves_and_links_work_end_to_end(h: &Harness) {
    let api = serve(h).await;
    let post = |path: String, body: Value| api.call_owned(Method::POST, path, body);
    let trip = post(
        "/api/lists".into(),
        json!({"title": "Trip to Rome", "color": "#3B82F6"}),
    )
    .await;
    assert_eq!(trip.status.as_u16(), 201, "{:?}", trip.body);
    assert_eq!(trip.body["color"], "#3b82f6");
    assert_eq!(trip.header("etag"), "\"1\"");
    let trip_id = trip.body["id"].as_i64().unwrap();
    // `list_id` (the REST name) and `parent_id` on create.
    let pack = api
        .create_task("alice", json!({"title": "pack", "list_id": trip_id}))
        .await;
    assert_eq!(pack.body["list_id"], trip_id);
    let pack_id = pack.body["id"].as_i64().unwrap();
    let passport = api
        .create_task("alice", json!({"title": "passport", "parent_id": pack_id}))
        .await;
    assert_eq!(
        passport.body["parent"],
        json!({"id": pack_id, "title": "pack"})
    );
    assert_eq!(passport.body["list_id"], trip_id);
    let fetched = api
        .call(
            Method::GET,
            &format!("/api/tasks/{pack_id}?include=children,links"),
            "alice",
            None,
        )
        .await;
    assert_eq!(fetched.body["child_count"], 1);
    assert_eq!(fetched.body["children"][0]["title"], "passport");
    assert_eq!(
        fetched.body["links"],
        json!({"blocks": [], "blocked_by": [], "relates": []})
    );
    // Completing the parent needs cascade.
    let refused = post(format!("/api/tasks/{pack_id}/complete"), json!({})).await;
    assert_eq!(refused.status.as_u16(), 409);
    assert_eq!(
        (refused.body["code"].clone(), refused.body["field"].clone()),
        (json!("open_subtasks"), json!("cascade"))
    );
    // Links: a blocker, and `ready`.
    let tickets = api
        .create_task("alice", json!({"title": "tickets", "list_id": trip_id}))
        .await;
    let tickets_id = tickets.body["id"].as_i64().unwrap();
    let linked = api
        .call(
            Method::PUT,
            &format!("/api/tasks/{pack_id}/links/blocked_by/{tickets_id}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(linked.status.as_u16(), 200, "{:?}", linked.body);
    assert_eq!(linked.body["blocked"], true);
    let ready = api
        .list_tasks(
            "alice",
            &format!("list_id={trip_id}&ready=true&has_parent=false"),
        )
        .await;
    let titles: Vec<_> = ready.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, [json!("tickets")]);
    // Done anyway while blocked: the answer says by what.
    let forced = post(
        format!("/api/tasks/{pack_id}/complete?cascade=true"),
        json!({}),
    )
    .await;
    assert_eq!(forced.status.as_u16(), 200, "{:?}", forced.body);
    assert_eq!(forced.body["blocked"], true);
    assert_eq!(forced.body["links"]["blocked_by"][0]["title"], "tickets");
    // Moves: to the top by intent, then to the Inbox with its subtask.
    let moved = post(
        format!("/api/tasks/{tickets_id}/move"),
        json!({"to": "top"}),
    )
    .await;
    assert_eq!(moved.status.as_u16(), 200, "{:?}", moved.body);
    let order = api
        .list_tasks(
            "alice",
            &format!("list_id={trip_id}&sort=position&has_parent=false"),
        )
        .await;
    let titles: Vec<_> = order.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, [json!("tickets"), json!("pack")]);
    let lists = api.call(Method::GET, "/api/lists", "alice", None).await;
    let inbox = lists
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["inbox"] == true)
        .unwrap()["id"]
        .clone();
    let to_inbox = post(
        format!("/api/tasks/{pack_id}/move"),
        json!({"list_id": inbox}),
    )
    .await;
    assert_eq!(to_inbox.body["list_id"], inbox);
    let passport_now = api
        .get_task("alice", passport.body["id"].as_i64().unwrap())
        .await;
    assert_eq!(passport_now.body["list_id"], inbox);
    let history = api
        .call(
            Method::GET,
            &format!("/api/tasks/{pack_id}/history"),
            "alice",
            None,
        )
        .await;
    let kinds: Vec<_> = history.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("moved"),
            json!("completed"),
            json!("linked"),
            json!("created")
        ]
    );
    // Archive, then a write there is refused; delete with move_to.
    let archived = post(format!("/api/lists/{trip_id}/archive"), json!({})).await;
    assert!(archived.body["archived_at"].is_string());
    let write = api
        .create_task("alice", json!({"title": "x", "list_id": trip_id}))
        .await;
    assert_eq!(
        (write.status.as_u16(), write.body["code"].clone()),
        (409, json!("list_archived"))
    );
    let default_lists = api.call(Method::GET, "/api/lists", "alice", None).await;
    assert_eq!(default_lists.body.as_array().unwrap().len(), 1);
    let not_empty = api
        .call(
            Method::DELETE,
            &format!("/api/lists/{trip_id}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        (not_empty.status.as_u16(), not_empty.body["code"].clone()),
        (409, json!("list_not_empty"))
    );
    let deleted = api
        .call(
            Method::DELETE,
            &format!("/api/lists/{trip_id}?move_to={inbox}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(deleted.status.as_u16(), 204, "{:?}", deleted.body);
    assert_eq!(
        api.get_task("alice", tickets_id).await.body["list_id"],
        inbox
    );
}

/// A request and the problem it must get: method, path, body, status,
/// code and field.
type Case = (
    Method,
    String,
    Option<Value>,
    u16,
    &'static str,
    Option<&'static str>,
);

async fn bad_list_and_subtask_input_gets_the_right_status_code_and_field(h: &Harness) {
    let api = serve(h).await;
    let mine = api
        .call(
            Method::POST,
            "/api/lists",
            "alice",
            Some(json!({"title": "Mine"})),
        )
        .await;
    let theirs = api
        .call(
            Method::POST,
            "/api/lists",
            "bob",
            Some(json!({"title": "Theirs"})),
        )
        .await;
    let (mine, theirs) = (
        mine.body["id"].as_i64().unwrap(),
        theirs.body["id"].as_i64().unwrap(),
    );
    let task = api.create_task("alice", json!({"title": "t"})).await.body["id"]
        .as_i64()
        .unwrap();
    let other = api
        .create_task("alice", json!({"title": "o", "list_id": mine}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let bobs = api.create_task("bob", json!({"title": "b"})).await.body["id"]
        .as_i64()
        .unwrap();
    let lists = api.call(Method::GET, "/api/lists", "alice", None).await;
    let inbox = lists.body[0]["id"].as_i64().unwrap();
    let sub = api
        .create_task("alice", json!({"title": "s", "parent_id": task}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let subsub = api
        .create_task("alice", json!({"title": "ss", "parent_id": sub}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let (p, g, d, u) = (Method::POST, Method::GET, Method::DELETE, Method::PUT);
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        // Another user's list or task: the path, the body, the query.
        (g.clone(), format!("/api/lists/{theirs}"), None, 404, "not_found", Some("id")),
        (p.clone(), format!("/api/lists/{theirs}/archive"), None, 404, "not_found", Some("id")),
        (p.clone(), "/api/tasks".into(), Some(json!({"title": "x", "list_id": theirs})), 404, "not_found", Some("list")),
        (p.clone(), "/api/tasks".into(), Some(json!({"title": "x", "list": "Theirs"})), 404, "not_found", Some("list")),
        (p.clone(), "/api/tasks".into(), Some(json!({"title": "x", "parent_id": bobs})), 404, "not_found", None),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"list_id": theirs})), 404, "not_found", Some("list")),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"before_id": bobs})), 404, "not_found", None),
        (p.clone(), "/api/lists".into(), Some(json!({"title": "x", "parent_id": theirs})), 404, "not_found", Some("parent_id")),
        (d.clone(), format!("/api/lists/{mine}?move_to={theirs}"), None, 404, "not_found", Some("move_to")),
        (g.clone(), format!("/api/tasks?list_id={theirs}"), None, 404, "not_found", Some("list_id")),
        (g.clone(), format!("/api/tasks?parent_id={bobs}"), None, 404, "not_found", None),
        (u.clone(), format!("/api/tasks/{task}/links/blocks/{bobs}"), None, 404, "not_found", None),
        (u.clone(), format!("/api/tasks/{bobs}/links/blocks/{task}"), None, 404, "not_found", None),
        // Rules.
        (p.clone(), "/api/tasks".into(), Some(json!({"title": "x", "parent_id": task, "list_id": mine})), 422, "validation_failed", Some("parent")),
        (p.clone(), "/api/tasks".into(), Some(json!({"title": "x", "parent_id": subsub})), 422, "validation_failed", Some("parent")),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"parent_id": subsub})), 422, "validation_failed", Some("parent")),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"before_id": other})), 422, "validation_failed", Some("before_id")),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"to": "top", "after_id": other})), 422, "validation_failed", Some("before_id")),
        (p.clone(), format!("/api/tasks/{task}/move"), Some(json!({"to": "middle"})), 422, "invalid_body", None),
        (u.clone(), format!("/api/tasks/{task}/links/relates/{task}"), None, 422, "validation_failed", Some("other_id")),
        (u.clone(), format!("/api/tasks/{task}/links/follows/{other}"), None, 422, "validation_failed", Some("kind")),
        (p.clone(), format!("/api/tasks/{task}/complete"), None, 409, "open_subtasks", Some("cascade")),
        (d.clone(), format!("/api/lists/{inbox}?cascade=delete"), None, 409, "inbox_protected", Some("id")),
        (p.clone(), format!("/api/lists/{inbox}/archive"), None, 409, "inbox_protected", Some("id")),
        (d.clone(), format!("/api/lists/{mine}"), None, 409, "list_not_empty", Some("cascade")),
        (d.clone(), format!("/api/lists/{mine}?cascade=delete&move_to={inbox}"), None, 422, "validation_failed", Some("move_to")),
        (d.clone(), format!("/api/lists/{mine}?cascade=all"), None, 400, "invalid_query", None),
        (p.clone(), "/api/lists".into(), Some(json!({"title": ""})), 422, "validation_failed", Some("title")),
        (p.clone(), "/api/lists".into(), Some(json!({"title": "x", "color": "blue"})), 422, "validation_failed", Some("color")),
        (p.clone(), format!("/api/lists/{mine}/move"), Some(json!({"parent_id": mine})), 422, "validation_failed", Some("parent_id")),
        (g.clone(), format!("/api/tasks/{task}?include=everything"), None, 422, "validation_failed", Some("include")),
    ];
    for (method, path, body, status, code, field) in cases {
        let reply = api.call(method.clone(), &path, "alice", body.clone()).await;
        let what = format!("{method} {path} {body:?}");
        assert_eq!(reply.status.as_u16(), status, "{what}: {:?}", reply.body);
        assert_eq!(reply.body["code"], code, "{what}: {:?}", reply.body);
        if let Some(field) = field {
            assert_eq!(reply.body["field"], field, "{what}: {:?}", reply.body);
        }
    }
    // The cycle of blocks.
    let link = |a: i64, b: i64| {
        api.call_owned(
            Method::PUT,
            format!("/api/tasks/{a}/links/blocks/{b}"),
            Value::Null,
        )
    };
    assert_eq!(link(task, other).await.status.as_u16(), 200);
    let cycle = link(other, task).await;
    assert_eq!(
        (cycle.status.as_u16(), cycle.body["field"].clone()),
        (422, json!("other_id"))
    );
    // Nothing of bob's changed.
    let bob = api.get_task("bob", bobs).await;
    assert_eq!(bob.body["version"], 1);
}

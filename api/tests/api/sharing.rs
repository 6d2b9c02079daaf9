//! Sharing over HTTP: inviting, accepting and managing members, and every
//! route with the ids of a shared list, its tasks and its members in the
//! path, the query and the body, called by a non-member, a removed member,
//! a viewer and an editor: the first two get exactly the 404 of a missing
//! id, a viewer's write is 403 `forbidden` naming the role it needs.

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    a_list_is_shared_by_invitation_and_its_members_are_managed,
    every_route_gives_each_role_exactly_what_it_may,
    assignees_are_members_over_http,
    comments_are_written_by_editors_and_kept_by_their_authors,
    a_list_changes_owner_and_its_people_are_notified,
);

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> (u16, Value) {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    (reply.status.as_u16(), reply.body)
}

/// Alice's Groceries, shared with `members` (each with a role), and a task
/// in it; returns (list, task).
async fn shared(api: &TestApp, members: &[(&str, &str)]) -> (i64, i64) {
    for who in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        call(api, Method::GET, "/api/users/me", who, Value::Null).await;
    }
    let (status, list) = call(
        api,
        Method::POST,
        "/api/lists",
        "alice",
        json!({"title": "Groceries"}),
    )
    .await;
    assert_eq!(status, 201);
    let list = list["id"].as_i64().unwrap();
    let task = api
        .create_task("alice", json!({"title": "bread", "list_id": list}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    for (who, role) in members {
        let (status, invitation) = call(
            api,
            Method::POST,
            &format!("/api/lists/{list}/invitations"),
            "alice",
            json!({"username": who, "role": role}),
        )
        .await;
        assert_eq!(status, 201, "{invitation}");
        let id = invitation["id"].as_i64().unwrap();
        let (status, _) = call(
            api,
            Method::POST,
            &format!("/api/invitations/{id}/accept"),
            who,
            Value::Null,
        )
        .await;
        assert_eq!(status, 200);
    }
    (list, task)
}

async fn a_list_is_shared_by_invitation_and_its_members_are_managed(h: &Harness) {
    let api = serve(h).await;
    let (list, task) = shared(&api, &[]).await;
    let (status, invitation) = call(
        &api,
        Method::POST,
        &format!("/api/lists/{list}/invitations"),
        "alice",
        json!({"username": "bob", "role": "editor"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(invitation["invitee"]["username"], "bob");
    assert_eq!(invitation["role"], "editor");
    let (_, waiting) = call(&api, Method::GET, "/api/invitations", "bob", Value::Null).await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    let (_, none) = call(&api, Method::GET, "/api/invitations", "carol", Value::Null).await;
    assert_eq!(none, json!([]));
    let id = invitation["id"].as_i64().unwrap();
    // Only Bob can answer it.
    let (status, problem) = call(
        &api,
        Method::POST,
        &format!("/api/invitations/{id}/accept"),
        "carol",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (404, Some("no such invitation"))
    );
    let (status, accepted) = call(
        &api,
        Method::POST,
        &format!("/api/invitations/{id}/accept"),
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (accepted["title"].as_str(), accepted["role"].as_str()),
        (Some("Groceries"), Some("editor"))
    );
    // Bob works in it; Alice sees his task.
    let made = api
        .create_task("bob", json!({"title": "eggs", "list_id": list}))
        .await;
    assert_eq!(made.status.as_u16(), 201);
    let (_, page) = call(
        &api,
        Method::GET,
        &format!("/api/tasks?list_id={list}&sort=position"),
        "alice",
        Value::Null,
    )
    .await;
    let titles: Vec<_> = page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, [json!("bread"), json!("eggs")]);
    let (_, history) = call(
        &api,
        Method::GET,
        &format!("/api/tasks/{}/history", made.body["id"]),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(history["entries"][0]["actor"]["id"], "bob");
    // Members: the owner first.
    let (_, members) = call(
        &api,
        Method::GET,
        &format!("/api/lists/{list}/members"),
        "bob",
        Value::Null,
    )
    .await;
    let who: Vec<_> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["id"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        who,
        [
            (json!("alice"), json!("owner")),
            (json!("bob"), json!("editor"))
        ]
    );
    let (status, bob) = call(
        &api,
        Method::PATCH,
        &format!("/api/lists/{list}/members/bob"),
        "alice",
        json!({"role": "viewer"}),
    )
    .await;
    assert_eq!((status, &bob["role"]), (200, &json!("viewer")));
    let (status, problem) = call(
        &api,
        Method::PATCH,
        &format!("/api/tasks/{task}"),
        "bob",
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        (problem["code"].as_str(), problem["role_needed"].as_str()),
        (Some("forbidden"), Some("editor"))
    );
    // The owner stays; Bob leaves and his access ends at once.
    let (status, problem) = call(
        &api,
        Method::DELETE,
        &format!("/api/lists/{list}/members/alice"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("owner_cannot_leave"))
    );
    let (status, _) = call(
        &api,
        Method::POST,
        &format!("/api/lists/{list}/leave"),
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &api,
        Method::GET,
        &format!("/api/tasks/{task}"),
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    // Bad input names its field.
    for (body, status, code) in [
        (json!({"username": "nobody"}), 404, "no_such_user"),
        (
            json!({"username": "bob", "role": "owner"}),
            422,
            "invalid_body",
        ),
        (json!({"username": "alice"}), 409, "already_member"),
    ] {
        let (got, problem) = call(
            &api,
            Method::POST,
            &format!("/api/lists/{list}/invitations"),
            "alice",
            body.clone(),
        )
        .await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let inbox = api
        .create_task("alice", json!({"title": "mine"}))
        .await
        .body["list_id"]
        .as_i64()
        .unwrap();
    let (got, problem) = call(
        &api,
        Method::POST,
        &format!("/api/lists/{inbox}/invitations"),
        "alice",
        json!({"username": "bob"}),
    )
    .await;
    assert_eq!(
        (got, problem["code"].as_str()),
        (409, Some("inbox_protected"))
    );
}

/// What a route needs of the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Needs {
    Read,
    Edit,
    Admin,
    Owner,
}

/// Every route, with `{l}` the list, `{t}` a task of it and `{m}` a member.
fn routes() -> Vec<(Method, &'static str, Value, Needs)> {
    use Needs::*;
    vec![
        (Method::GET, "/api/tasks/{t}", Value::Null, Read),
        (
            Method::GET,
            "/api/tasks/{t}?include=children,links",
            Value::Null,
            Read,
        ),
        (Method::GET, "/api/tasks/{t}/history", Value::Null, Read),
        (Method::GET, "/api/tasks/{t}/comments", Value::Null, Read),
        (
            Method::GET,
            "/api/tasks/{t}?include=comments",
            Value::Null,
            Read,
        ),
        (
            Method::POST,
            "/api/tasks/{t}/comments",
            json!({"body": "hi"}),
            Edit,
        ),
        // {c} is the editor's own comment, {c2} the owner's.
        (
            Method::PATCH,
            "/api/tasks/{t}/comments/{c}",
            json!({"body": "edited"}),
            Edit,
        ),
        (
            Method::DELETE,
            "/api/tasks/{t}/comments/{c2}",
            Value::Null,
            Admin,
        ),
        (
            Method::POST,
            "/api/tasks",
            json!({"title": "x", "list_id": "{l}", "assignees": ["frank"]}),
            Edit,
        ),
        (
            Method::PATCH,
            "/api/tasks/{t}",
            json!({"assignees": ["frank"]}),
            Edit,
        ),
        (Method::GET, "/api/tasks?list_id={l}", Value::Null, Read),
        (
            Method::GET,
            "/api/tasks?list_id={l}&include_sublists=true",
            Value::Null,
            Read,
        ),
        (Method::GET, "/api/tasks?parent_id={t}", Value::Null, Read),
        (Method::GET, "/api/lists/{l}", Value::Null, Read),
        (Method::GET, "/api/lists/{l}/members", Value::Null, Read),
        (Method::GET, "/api/lists/{l}/members/{m}", Value::Null, Read),
        (
            Method::POST,
            "/api/tasks",
            json!({"title": "x", "list_id": "{l}"}),
            Edit,
        ),
        (
            Method::POST,
            "/api/tasks",
            json!({"title": "x", "parent_id": "{t}"}),
            Edit,
        ),
        (Method::PATCH, "/api/tasks/{t}", json!({"title": "y"}), Edit),
        (
            Method::POST,
            "/api/tasks/{t}/complete?cascade=true",
            Value::Null,
            Edit,
        ),
        (Method::POST, "/api/tasks/{t}/reopen", Value::Null, Edit),
        (
            Method::POST,
            "/api/tasks/{t}/snooze",
            json!({"minutes": 5}),
            Edit,
        ),
        (
            Method::POST,
            "/api/tasks/{t}/move",
            json!({"to": "top"}),
            Edit,
        ),
        (
            Method::PUT,
            "/api/tasks/{t}/links/relates/{t2}",
            Value::Null,
            Edit,
        ),
        (
            Method::DELETE,
            "/api/tasks/{t}/links/relates/{t2}",
            Value::Null,
            Edit,
        ),
        (
            Method::PATCH,
            "/api/lists/{l}",
            json!({"title": "Renamed"}),
            Admin,
        ),
        (Method::POST, "/api/lists/{l}/archive", Value::Null, Admin),
        (Method::POST, "/api/lists/{l}/unarchive", Value::Null, Admin),
        (
            Method::POST,
            "/api/lists/{l}/move",
            json!({"to": "top"}),
            Admin,
        ),
        (
            Method::POST,
            "/api/lists",
            json!({"title": "Nested", "parent_id": "{l}"}),
            Admin,
        ),
        (
            Method::POST,
            "/api/lists/{l}/invitations",
            json!({"username": "dave"}),
            Admin,
        ),
        (
            Method::GET,
            "/api/lists/{l}/invitations",
            Value::Null,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/lists/{l}/members/{m}",
            json!({"role": "editor"}),
            Admin,
        ),
        (
            Method::DELETE,
            "/api/lists/{l}/members/{m}",
            Value::Null,
            Admin,
        ),
        (
            Method::POST,
            "/api/lists/{l}/transfer",
            json!({"user": "frank"}),
            Owner,
        ),
        (
            Method::POST,
            "/api/webhooks",
            json!({"url": "https://hooks.invalid/x", "list_id": "{l}"}),
            Admin,
        ),
        (Method::DELETE, "/api/tasks/{t}", Value::Null, Edit),
        (
            Method::DELETE,
            "/api/lists/{l}?cascade=delete",
            Value::Null,
            Admin,
        ),
    ]
}

/// `text` with the ids put in (in a body, as numbers).
fn fill(text: &str, ids: &[(&str, String)]) -> String {
    let mut out = text.to_owned();
    for (name, id) in ids {
        out = out
            .replace(&format!("\"{{{name}}}\""), id)
            .replace(&format!("{{{name}}}"), id);
    }
    out
}

async fn every_route_gives_each_role_exactly_what_it_may(h: &Harness) {
    let api = serve(h).await;
    let (list, task) = shared(
        &api,
        &[
            ("carol", "viewer"),
            ("bob", "editor"),
            ("erin", "editor"),
            ("frank", "viewer"),
        ],
    )
    .await;
    let other = api
        .create_task("alice", json!({"title": "milk", "list_id": list}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let (status, _) = call(
        &api,
        Method::DELETE,
        &format!("/api/lists/{list}/members/erin"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let comment = |who: &'static str| {
        let api = &api;
        async move {
            let path = format!("/api/tasks/{task}/comments");
            let (status, comment) = call(api, Method::POST, &path, who, json!({"body": "c"})).await;
            assert_eq!(status, 201, "{comment}");
            comment["id"].as_i64().unwrap().to_string()
        }
    };
    let (bobs, alices) = (comment("bob").await, comment("alice").await);
    let real = [
        ("l", list.to_string()),
        ("t2", other.to_string()),
        ("t", task.to_string()),
        ("m", "frank".to_string()),
        ("c2", alices),
        ("c", bobs),
    ];
    let missing = [
        ("l", "9000001".to_string()),
        ("t2", "9000003".to_string()),
        ("t", "9000002".to_string()),
        ("m", "frank".to_string()),
        ("c2", "9000005".to_string()),
        ("c", "9000004".to_string()),
    ];
    let send = |who: &'static str, ids: &[(&str, String)], route: &(Method, &str, Value, Needs)| {
        let path = fill(route.1, ids);
        let body = (!route.2.is_null()).then(|| fill(&route.2.to_string(), ids));
        let method = route.0.clone();
        let api = &api;
        async move {
            let reply = api
                .send(method, &path, Some(who), body.as_deref(), &[])
                .await;
            (reply.status.as_u16(), reply.body)
        }
    };
    let mut cases = 0;
    // Outsiders first (they change nothing), then the viewer (nothing
    // either), then the editor, whose own writes succeed.
    for outsider in ["dave", "erin"] {
        for route in routes() {
            let (got, body) = send(outsider, &real, &route).await;
            let (absent, absent_body) = send(outsider, &missing, &route).await;
            let what = format!("{outsider} {} {}", route.0, route.1);
            assert_eq!(got, 404, "{what}: {body}");
            assert_eq!(
                (got, &body["code"], &body["detail"]),
                (absent, &absent_body["code"], &absent_body["detail"]),
                "{what}"
            );
            cases += 1;
        }
    }
    for route in routes() {
        let (got, body) = send("carol", &real, &route).await;
        let what = format!("carol {} {}", route.0, route.1);
        match route.3 {
            Needs::Read => assert_eq!(got, 200, "{what}: {body}"),
            Needs::Edit | Needs::Admin | Needs::Owner => {
                assert_eq!(
                    (got, body["code"].as_str()),
                    (403, Some("forbidden")),
                    "{what}: {body}"
                );
                let needed = match route.3 {
                    Needs::Edit => "editor",
                    Needs::Admin => "admin",
                    _ => "owner",
                };
                assert_eq!(body["role_needed"], needed, "{what}");
            }
        }
        cases += 1;
    }
    for route in routes() {
        let (got, body) = send("bob", &real, &route).await;
        let what = format!("bob {} {}", route.0, route.1);
        match route.3 {
            Needs::Read | Needs::Edit => assert!((200..300).contains(&got), "{what}: {got} {body}"),
            Needs::Admin | Needs::Owner => assert_eq!(
                (got, body["role_needed"].as_str()),
                (
                    403,
                    Some(if route.3 == Needs::Admin {
                        "admin"
                    } else {
                        "owner"
                    })
                ),
                "{what}: {body}"
            ),
        }
        cases += 1;
    }
    assert!(cases >= 100, "{cases} cases");
    // Nothing the outsiders or the viewer sent changed the list.
    let (_, bread) = call(
        &api,
        Method::GET,
        &format!("/api/tasks/{other}"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(bread["title"], "milk");
    let (_, members) = call(
        &api,
        Method::GET,
        &format!("/api/lists/{list}/members"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(members.as_array().unwrap().len(), 4);
}

async fn assignees_are_members_over_http(h: &Harness) {
    let api = serve(h).await;
    let (list, task) = shared(&api, &[("bob", "editor"), ("carol", "viewer")]).await;
    // dave is a user, but no member; "ghost" is nobody: the same refusal.
    for who in ["dave", "ghost"] {
        let (status, problem) = call(
            &api,
            Method::POST,
            "/api/tasks",
            "alice",
            json!({"title": "x", "list_id": list, "assignees": [who]}),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "assignee_not_member");
        assert_eq!(problem["field"], "assignees");
    }
    let (status, assigned) = call(
        &api,
        Method::PATCH,
        &format!("/api/tasks/{task}"),
        "bob",
        json!({"assignees": ["carol"]}),
    )
    .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["assignees"], json!(["carol"]));
    assert_eq!(assigned["created_by"], "alice");
    assert_eq!(assigned["updated_by"], "bob");
    let mine = api.list_tasks("carol", "assignee=me").await.body;
    assert_eq!(mine["tasks"][0]["id"], task, "{mine}");
    assert_eq!(mine["tasks"].as_array().unwrap().len(), 1);
    let none = api.list_tasks("bob", "assignee=me").await.body;
    assert_eq!(none["tasks"], json!([]));
    let (status, problem) = call(
        &api,
        Method::GET,
        "/api/tasks?assignee=%07",
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("assignee")));
}

async fn comments_are_written_by_editors_and_kept_by_their_authors(h: &Harness) {
    let api = serve(h).await;
    let (_, task) = shared(&api, &[("bob", "editor"), ("carol", "viewer")]).await;
    let comments = format!("/api/tasks/{task}/comments");
    let say = |who: &'static str, body: Value| {
        let (api, comments) = (&api, comments.clone());
        async move { call(api, Method::POST, &comments, who, body).await }
    };
    let (status, comment) = say("bob", json!({"body": "  draft is in the drive\n"})).await;
    assert_eq!(status, 201, "{comment}");
    assert_eq!(comment["body"], "draft is in the drive");
    assert_eq!(comment["author"]["id"], "bob");
    let id = comment["id"].as_i64().unwrap();
    let one = format!("{comments}/{id}");
    // A viewer reads but does not write; a stranger gets the 404 of a
    // missing task, reading or writing.
    let (status, problem) = say("carol", json!({"body": "me too"})).await;
    assert_eq!(
        (status, problem["role_needed"].as_str()),
        (403, Some("editor"))
    );
    assert_eq!(say("dave", json!({"body": "hi"})).await.0, 404);
    assert_eq!(
        call(&api, Method::GET, &comments, "dave", Value::Null)
            .await
            .0,
        404
    );
    let (status, page) = call(&api, Method::GET, &comments, "carol", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(page["comments"][0]["id"], id);
    // Bad text.
    let (status, problem) = say("bob", json!({"body": " "})).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("body")));
    let long = "x".repeat(10_001);
    assert_eq!(say("bob", json!({"body": long})).await.0, 422);
    assert_eq!(say("bob", json!({"text": "x"})).await.0, 422);
    // Only the author edits; the author or an admin deletes.
    let (status, problem) = call(
        &api,
        Method::PATCH,
        &one,
        "alice",
        json!({"body": "edited"}),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("not_the_author"))
    );
    let (status, edited) = call(&api, Method::PATCH, &one, "bob", json!({"body": "edited"})).await;
    assert_eq!((status, edited["body"].as_str()), (200, Some("edited")));
    assert_eq!(
        call(&api, Method::DELETE, &one, "carol", Value::Null)
            .await
            .0,
        403
    );
    assert_eq!(
        call(&api, Method::DELETE, &one, "dave", Value::Null)
            .await
            .0,
        404
    );
    // The id of another task's comment in the path: not found.
    let other = api
        .create_task("alice", json!({"title": "other"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let elsewhere = format!("/api/tasks/{other}/comments/{id}");
    assert_eq!(
        call(&api, Method::DELETE, &elsewhere, "alice", Value::Null)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&api, Method::DELETE, &one, "alice", Value::Null)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&api, Method::DELETE, &one, "bob", Value::Null).await.0,
        404
    );
    // Each is an event on the task's timeline, credited to its actor.
    let history = api.task_history("carol", task).await.body;
    let kinds: Vec<(&str, &str)> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_type"].as_str().unwrap(),
                e["actor"]["id"].as_str().unwrap(),
            )
        })
        .take(3)
        .collect();
    assert_eq!(
        kinds,
        [
            ("comment_deleted", "alice"),
            ("comment_updated", "bob"),
            ("comment_created", "bob")
        ]
    );
    assert_eq!(
        history["entries"][1]["changes"]["comment"]["new"]["body"],
        "edited"
    );
    // The detail view shows the newest ten, and where the rest continue.
    for n in 0..11 {
        assert_eq!(
            say("bob", json!({"body": format!("note {n}")})).await.0,
            201
        );
    }
    let path = format!("/api/tasks/{task}?include=comments");
    let (status, detail) = call(&api, Method::GET, &path, "carol", Value::Null).await;
    assert_eq!(status, 200);
    let shown = detail["comments"]["comments"].as_array().unwrap();
    assert_eq!(shown.len(), 10);
    assert_eq!(shown[0]["body"], "note 10");
    let before = detail["comments"]["next_before"].as_i64().unwrap();
    let rest = format!("{comments}?before={before}");
    let (_, older) = call(&api, Method::GET, &rest, "carol", Value::Null).await;
    assert_eq!(older["comments"][0]["body"], "note 0");
    assert_eq!(older["next_before"], Value::Null);
}

async fn a_list_changes_owner_and_its_people_are_notified(h: &Harness) {
    let api = serve(h).await;
    let (list, task) = shared(&api, &[("bob", "editor"), ("carol", "viewer")]).await;
    let transfer = |who: &'static str, body: Value| {
        let api = &api;
        async move {
            call(
                api,
                Method::POST,
                &format!("/api/lists/{list}/transfer"),
                who,
                body,
            )
            .await
        }
    };
    for (who, body, status, code) in [
        ("alice", json!({"user": "dave"}), 409, "not_a_member"),
        ("alice", json!({"user": "alice"}), 409, "already_owner"),
        ("alice", json!({}), 422, "invalid_body"),
        (
            "alice",
            json!({"user": "bob", "role": "x"}),
            422,
            "invalid_body",
        ),
        ("bob", json!({"user": "bob"}), 403, "forbidden"),
        ("dave", json!({"user": "dave"}), 404, "not_found"),
    ] {
        let (got, problem) = transfer(who, body.clone()).await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{who} {body}: {problem}"
        );
    }
    let (status, given) = transfer("alice", json!({"user": "bob"})).await;
    assert_eq!(
        (status, given["role"].as_str()),
        (200, Some("admin")),
        "{given}"
    );
    let (_, mine) = call(
        &api,
        Method::GET,
        &format!("/api/lists/{list}"),
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!(mine["role"], "owner");
    let (_, bread) = call(
        &api,
        Method::GET,
        &format!("/api/tasks/{task}"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(
        bread["title"], "bread",
        "alice, an admin now, still reads it"
    );

    // People hear of what others do to them: bob assigns carol and alice,
    // comments, and alice completes the task bob assigned.
    let (status, _) = call(
        &api,
        Method::PATCH,
        &format!("/api/tasks/{task}"),
        "bob",
        json!({"assignees": ["alice", "carol"]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &api,
        Method::POST,
        &format!("/api/tasks/{task}/comments"),
        "bob",
        json!({"body": "wholegrain, please"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &api,
        Method::POST,
        &format!("/api/tasks/{task}/complete"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let texts = |who: &'static str| {
        let api = &api;
        async move {
            let (_, page) = call(api, Method::GET, "/api/notifications", who, Value::Null).await;
            let mut told: Vec<(String, String)> = page["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    (
                        n["kind"].as_str().unwrap().to_owned(),
                        n["text"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            told.reverse();
            told
        }
    };
    let told = |kind: &str, text: &str| (kind.to_owned(), text.to_owned());
    assert_eq!(
        texts("carol").await,
        [
            told("invited", "alice invited you to Groceries as a viewer"),
            told("assigned", "bob assigned you bread"),
            told("commented", "bob commented on bread: wholegrain, please"),
        ]
    );
    assert_eq!(
        texts("bob").await,
        [
            told("invited", "alice invited you to Groceries as an editor"),
            told("completed", "alice completed bread, a task you assigned"),
        ]
    );
    assert_eq!(
        texts("alice").await,
        [
            told("assigned", "bob assigned you bread"),
            told("commented", "bob commented on bread: wholegrain, please"),
        ]
    );
    let (_, unread) = call(
        &api,
        Method::GET,
        "/api/notifications/unread-count",
        "carol",
        Value::Null,
    )
    .await;
    assert_eq!(unread["unread"], 3);
}

//! The REST API over a real socket, on SQLite and PostgreSQL: every route,
//! conditional requests, idempotent creates, user isolation, and a table of
//! bad requests with the status and problem `code` each must get.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::{serve, token};

on_both_databases!(
    every_task_route_works_end_to_end,
    conditional_requests_use_the_version_as_etag,
    an_idempotency_key_replays_the_first_response,
    another_user_never_sees_changes_or_learns_of_a_task,
    bad_requests_get_the_right_status_and_code,
    notifications_are_listed_read_and_counted_per_user,
    each_change_is_committed_in_the_trace_of_its_request,
);

/// Records one notification as the notifications worker would.
async fn record(
    h: &Harness,
    event_id: uuid::Uuid,
    user: &str,
    task_id: i64,
    kind: taskflow_core::NotificationKind,
    text: &str,
) -> Option<taskflow_core::Notification> {
    let one = taskflow_store::NewNotification {
        event_id,
        task_id,
        kind,
        text: text.into(),
        traceparent: None,
    };
    h.svc
        .record_notifications("test", user, &[one])
        .await
        .unwrap()
        .pop()
        .unwrap()
}

async fn notifications_are_listed_read_and_counted_per_user(h: &Harness) {
    use taskflow_core::NotificationKind;
    let api = serve(h).await;
    for i in 0..5 {
        let event = uuid::Uuid::new_v4();
        let kind = if i % 2 == 0 {
            NotificationKind::Reminder
        } else {
            NotificationKind::Overdue
        };
        let made = record(h, event, "alice", i, kind, &format!("note {i}")).await;
        assert!(made.is_some());
        // The same delivery again records nothing.
        assert!(record(h, event, "alice", i, kind, "again").await.is_none());
    }
    record(
        h,
        uuid::Uuid::new_v4(),
        "bob",
        1,
        NotificationKind::Reminder,
        "bob's",
    )
    .await;

    let count = api.unread_count("alice").await;
    assert_eq!(count.body, json!({"unread": 5}));
    let page = api.notifications("alice", "limit=3").await;
    let texts: Vec<&str> = page.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["note 4", "note 3", "note 2"]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = api
        .notifications("alice", &format!("cursor={}", cursor))
        .await;
    assert_eq!(rest.body["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let newest = page.body["notifications"][0]["id"].as_i64().unwrap();
    // Bob can neither read Alice's notification nor tell it exists.
    let theirs = api.read_notification("bob", newest).await;
    let nobodys = api
        .call(
            Method::POST,
            "/api/notifications/99999999/read",
            "bob",
            None,
        )
        .await;
    assert_eq!(
        (theirs.status, &theirs.body),
        (StatusCode::NOT_FOUND, &nobodys.body)
    );
    let read = api.read_notification("alice", newest).await;
    assert_eq!(read.status, StatusCode::NO_CONTENT);
    let unread = api.notifications("alice", "unread=true").await;
    assert_eq!(unread.body["notifications"].as_array().unwrap().len(), 4);
    let all = api.read_all_notifications("alice").await;
    assert_eq!(all.body, json!({"marked": 4}));
    assert_eq!(api.unread_count("alice").await.body, json!({"unread": 0}));
    assert_eq!(api.unread_count("bob").await.body, json!({"unread": 1}));
    let bobs = api.notifications("bob", "").await;
    assert_eq!(bobs.body["notifications"].as_array().unwrap().len(), 1);
    let bad = api.notifications("alice", "cursor=x").await;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
}

async fn every_task_route_works_end_to_end(h: &Harness) {
    let api = serve(h).await;
    let created = api
        .create_task("alice", json!({"title": "Team meeting", "priority": "high", "tags": ["work"], "due": "2026-03-30T10:00",
                        "timezone": "Europe/Berlin", "recurrence": "FREQ=WEEKLY;BYDAY=MO", "reminder": {"minutes_before": 15}}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), format!("/api/tasks/{id}"));
    assert_eq!(created.header("etag"), "\"1\"");
    assert_eq!(created.body["recurrence"], "FREQ=WEEKLY;BYDAY=MO");
    assert_eq!(created.body["series_id"], id);

    let fetched = api.get_task("alice", id).await;
    assert_eq!(
        (fetched.status, &fetched.body),
        (StatusCode::OK, &created.body)
    );

    let listed = api
        .list_tasks(
            "alice",
            "priority=high&tag=work&status=open&sort=due&limit=5",
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["tasks"][0]["id"], id);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let searched = api.list_tasks("alice", "q=meeting").await;
    assert_eq!(searched.body["tasks"].as_array().unwrap().len(), 1);

    let patched = api
        .update_task(
            "alice",
            id,
            json!({"title": "Weekly sync", "reminder": null}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(
        (
            patched.body["title"].as_str(),
            patched.body["reminder"].is_null()
        ),
        (Some("Weekly sync"), true)
    );

    let snoozed = api.snooze_task("alice", id, json!({"minutes": 30})).await;
    assert_eq!(snoozed.status, StatusCode::OK);
    assert!(snoozed.body["snoozed_until"].is_string());

    let done = api.complete_task("alice", id).await;
    assert_eq!(
        (done.status, done.body["completed"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let open = api.reopen_task("alice", id).await;
    assert_eq!(
        (open.status, open.body["completed"].as_bool()),
        (StatusCode::OK, Some(false))
    );

    let history = api
        .call(
            Method::GET,
            &format!("/api/tasks/{id}/history?limit=2"),
            "alice",
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let entries = history.body["entries"].as_array().unwrap();
    assert_eq!(
        (
            entries[0]["event_type"].as_str(),
            entries[1]["event_type"].as_str()
        ),
        (Some("reopened"), Some("completed"))
    );
    assert_eq!(
        entries[0]["actor"],
        serde_json::json!({"kind": "user", "id": "alice", "name": "alice"})
    );
    let before = history.body["next_before"].as_i64().unwrap();
    let older = api
        .call(
            Method::GET,
            &format!("/api/tasks/{id}/history?before={before}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        older.body["entries"].as_array().unwrap().last().unwrap()["event_type"],
        "created"
    );

    let tags = api.tags("alice").await;
    assert_eq!(tags.body, json!([{"tag": "work", "count": 1}]));

    let deleted = api.delete_task("alice", id).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = api.get_task("alice", id).await;
    assert_eq!(
        (gone.status, gone.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

async fn conditional_requests_use_the_version_as_etag(h: &Harness) {
    let api = serve(h).await;
    let created = api.create_task("alice", json!({"title": "v1"})).await;
    let path = format!("/api/tasks/{}", created.body["id"]);
    let body = json!({"title": "v2"}).to_string();
    let ok = api
        .send(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(&body),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!((ok.status, ok.header("etag")), (StatusCode::OK, "\"2\""));
    let stale = api
        .send(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(&body),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        (
            stale.body["code"].as_str(),
            stale.body["current_version"].as_i64()
        ),
        (Some("version_conflict"), Some(2))
    );
    let weak = api
        .send(
            Method::POST,
            &format!("{path}/complete"),
            Some("alice"),
            None,
            &[("if-match", "W/\"2\"")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::OK);
    let stale_delete = api
        .send(
            Method::DELETE,
            &path,
            Some("alice"),
            None,
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let any = api
        .send(
            Method::DELETE,
            &path,
            Some("alice"),
            None,
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.status, StatusCode::NO_CONTENT);
}

async fn an_idempotency_key_replays_the_first_response(h: &Harness) {
    let api = serve(h).await;
    let body = json!({"title": "pay rent"}).to_string();
    let key = [("idempotency-key", "rent-2026-03")];
    let first = api
        .send(Method::POST, "/api/tasks", Some("alice"), Some(&body), &key)
        .await;
    let again = api
        .send(Method::POST, "/api/tasks", Some("alice"), Some(&body), &key)
        .await;
    assert_eq!(
        (first.status, again.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(first.body, again.body);
    let other = json!({"title": "pay rent twice"}).to_string();
    let reused = api
        .send(
            Method::POST,
            "/api/tasks",
            Some("alice"),
            Some(&other),
            &key,
        )
        .await;
    assert_eq!(
        (reused.status, reused.body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );
    let listed = api.list_tasks("alice", "").await;
    assert_eq!(listed.body["tasks"].as_array().unwrap().len(), 1);
}

async fn another_user_never_sees_changes_or_learns_of_a_task(h: &Harness) {
    let api = serve(h).await;
    let mine = api
        .create_task(
            "alice",
            json!({"title": "secret plan", "tags": ["private"]}),
        )
        .await;
    let id = mine.body["id"].as_i64().unwrap();
    let missing_id = id + 1000;
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"title": "hijacked"}))),
        (Method::DELETE, "", None),
        (Method::POST, "/complete", None),
        (Method::POST, "/reopen", None),
        (Method::POST, "/snooze", Some(json!({"minutes": 5}))),
        (Method::GET, "/history", None),
    ] {
        let theirs = api
            .call(
                method.clone(),
                &format!("/api/tasks/{id}{suffix}"),
                "mallory",
                body.clone(),
            )
            .await;
        let nobodys = api
            .call(
                method.clone(),
                &format!("/api/tasks/{missing_id}{suffix}"),
                "mallory",
                body,
            )
            .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{method} {suffix}");
        // Exactly like a task that does not exist: nothing to learn.
        assert_eq!(theirs.body, nobodys.body, "{method} {suffix}");
    }
    let list = api.list_tasks("mallory", "q=secret").await;
    assert_eq!(list.body["tasks"], json!([]));
    assert_eq!(api.tags("mallory").await.body, json!([]));
    let still = api.get_task("alice", id).await;
    assert_eq!(still.body, mine.body);
}

/// method, path, user, body, headers, expected status, expected code.
type BadRequest<'a> = (
    Method,
    String,
    Option<&'a str>,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

async fn bad_requests_get_the_right_status_and_code(h: &Harness) {
    let api = serve(h).await;
    let task = api.create_task("alice", json!({"title": "target"})).await;
    let t = format!("/api/tasks/{}", task.body["id"]);
    let big = format!(
        r#"{{"title": "x", "description": "{}"}}"#,
        "d".repeat(70_000)
    );
    let many_tags =
        json!({"title": "x", "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()})
            .to_string();
    let long_title = format!(r#"{{"title": "{}"}}"#, "x".repeat(201));
    let bearer = format!("Bearer {}", token("alice"));
    let (c, u) = (Some("alice"), None::<&str>);
    let post = Method::POST;
    let get = Method::GET;
    let patch = Method::PATCH;
    #[rustfmt::skip]
    let cases: Vec<BadRequest> = vec![
        (get.clone(), "/api/tasks".into(), u, None, vec![], 401, "unauthorized"),
        (get.clone(), "/api/tasks".into(), None, None, vec![("authorization", "Bearer nope")], 401, "unauthorized"),
        (get.clone(), "/api/tasks".into(), None, None, vec![("authorization", "Basic YWxpY2U6cHc=")], 401, "unauthorized"),
        (post.clone(), "/api/tasks".into(), c, Some("{"), vec![], 400, "malformed_json"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x",}"#), vec![], 400, "malformed_json"),
        (post.clone(), "/api/tasks".into(), c, Some("[]"), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some("{}"), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": 5}"#), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "colour": "red"}"#), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "priority": "urgent"}"#), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "tags": "work"}"#), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "reminder": {"minutes_before": -1}}"#), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "   "}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(&long_title), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "due": "tomorrow"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "due": "2026-02-30"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "due": "2026-03-01", "timezone": "Mars/Base"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "due": "2026-03-01", "recurrence": "FREQ=HOURLY"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "due": "2026-03-01", "recurrence": "FREQ=DAILY;COUNT=0"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "recurrence": "FREQ=DAILY"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "reminder": {"minutes_before": 10}}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(&many_tags), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x", "description": "nul\u0000"}"#), vec![], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(r#"{"title": "x"}"#), vec![("idempotency-key", "has space")], 422, "validation_failed"),
        (post.clone(), "/api/tasks".into(), c, Some(&big), vec![], 413, "payload_too_large"),
        (post.clone(), "/api/tasks".into(), None, None, vec![("authorization", &bearer), ("content-type", "text/plain")], 415, "unsupported_media_type"),
        (get.clone(), "/api/tasks?sort=random".into(), c, None, vec![], 422, "validation_failed"),
        (get.clone(), "/api/tasks?limit=0".into(), c, None, vec![], 422, "validation_failed"),
        (get.clone(), "/api/tasks?limit=many".into(), c, None, vec![], 400, "invalid_query"),
        (get.clone(), "/api/tasks?status=maybe".into(), c, None, vec![], 400, "invalid_query"),
        (get.clone(), "/api/tasks?overdue=perhaps".into(), c, None, vec![], 400, "invalid_query"),
        (get.clone(), "/api/tasks?colour=red".into(), c, None, vec![], 400, "invalid_query"),
        (get.clone(), "/api/tasks?cursor=garbage".into(), c, None, vec![], 422, "validation_failed"),
        (get.clone(), "/api/tasks?due_before=soon".into(), c, None, vec![], 422, "validation_failed"),
        (get.clone(), "/api/tasks/abc".into(), c, None, vec![], 404, "not_found"),
        (get.clone(), "/api/tasks/-4".into(), c, None, vec![], 404, "not_found"),
        (get.clone(), "/api/tasks/99999999999999999999".into(), c, None, vec![], 404, "not_found"),
        (get.clone(), "/api/tasks/999999".into(), c, None, vec![], 404, "not_found"),
        (get.clone(), "/api/nothing-here".into(), c, None, vec![], 404, "not_found"),
        (Method::PUT, t.clone(), c, Some("{}"), vec![], 405, "method_not_allowed"),
        (patch.clone(), t.clone(), c, Some(r#"{"due": "31/12/2026"}"#), vec![], 422, "validation_failed"),
        (patch.clone(), t.clone(), c, Some(r#"{"id": 7}"#), vec![], 422, "invalid_body"),
        (patch.clone(), t.clone(), c, Some("[null, null]"), vec![], 422, "invalid_body"),
        (patch.clone(), t.clone(), c, Some("null"), vec![], 422, "invalid_body"),
        (post.clone(), "/api/tasks".into(), c, Some(r#""a title""#), vec![], 422, "invalid_body"),
        (patch.clone(), t.clone(), c, Some(r#"{"title": "y"}"#), vec![("if-match", "version-one")], 400, "invalid_if_match"),
        (patch.clone(), t.clone(), c, Some(r#"{"title": "y"}"#), vec![("if-match", "\"41\"")], 412, "version_conflict"),
        (post.clone(), format!("{t}/snooze"), c, Some("{}"), vec![], 422, "validation_failed"),
        (post.clone(), format!("{t}/snooze"), c, Some(r#"{"minutes": 0}"#), vec![], 422, "validation_failed"),
        (post.clone(), format!("{t}/snooze"), c, Some(r#"{"until": "yesterday"}"#), vec![], 422, "invalid_body"),
        (get.clone(), format!("{t}/history?limit=0"), c, None, vec![], 422, "validation_failed"),
        (get.clone(), format!("{t}/history?before=x"), c, None, vec![], 400, "invalid_query"),
    ];
    assert!(cases.len() >= 40);
    for (method, path, user, body, headers, status, code) in cases {
        let reply = api.send(method.clone(), &path, user, body, &headers).await;
        let what = format!("{method} {path} {:?}", body.map(|b| &b[..b.len().min(60)]));
        assert_eq!(reply.status.as_u16(), status, "{what}: {:?}", reply.body);
        assert_eq!(reply.body["code"], code, "{what}: {:?}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            "application/problem+json",
            "{what}"
        );
        assert!(reply.body["detail"].is_string(), "{what}");
        if code == "validation_failed" {
            assert!(reply.body["field"].is_string(), "{what}: {:?}", reply.body);
        }
    }
    let unchanged = api.call(Method::GET, &t, "alice", None).await;
    assert_eq!(unchanged.body["version"], 1);
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_each_is_served() {
    let h = taskflow_testkit::harness::sqlite().await;
    let api = serve(&h).await;
    let doc = api
        .send(Method::GET, "/api/openapi.json", None, None, &[])
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let operations = taskflow_api::openapi::operations();
    assert_eq!(operations.len(), 71);
    for (method, path) in operations {
        let path = path
            .replace("{id}", "1")
            .replace("{kind}", "blocks")
            .replace("{other_id}", "2")
            .replace("{comment}", "3")
            .replace("{user}", "bob")
            .replace("{delivery}", "0190a0a0-0000-7000-8000-000000000000")
            .replace("{file}", &format!("cal_{}.ics", "A".repeat(43)));
        let reply = api
            .send(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &path,
                None,
                None,
                &[],
            )
            .await;
        if path.starts_with("/feeds/") {
            // Routed: its token is the credential, and no feed has it.
            assert_eq!(reply.body["detail"], "no such calendar feed", "{path}");
            continue;
        }
        // Routed: authentication is asked for, not "no such route".
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // Every `$ref` resolves inside the document.
    let text = doc.body.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference
            .split('"')
            .next()
            .unwrap()
            .trim_start_matches("#/components/schemas/");
        assert!(
            doc.body["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_relay_lag() {
    let h = taskflow_testkit::harness::sqlite().await;
    let api = serve(&h).await;
    let created = api.create_task("alice", json!({"title": "measured"})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    // A request id is generated, or the client's is echoed.
    assert_eq!(created.header("x-request-id").len(), 36);
    let echoed = api
        .send(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), "abc-123");
    let text = reqwest::get(format!("{}/metrics", api.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/api/tasks",status="201"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_request_duration_seconds_bucket{method="POST",route="/api/tasks",le="#
        ),
        "{text}"
    );
    // Nothing relays in this test, so the created event waits in the outbox.
    assert!(
        text.contains("taskflow_relay_unpublished_events 1"),
        "{text}"
    );
    // Retention: nothing pruned yet, and how old the oldest event is.
    assert!(
        text.contains("taskflow_retention_pruned_through_sequence 0"),
        "{text}"
    );
    assert!(
        text.contains("taskflow_outbox_oldest_event_age_seconds "),
        "{text}"
    );
    h.finish().await;
}

async fn each_change_is_committed_in_the_trace_of_its_request(h: &Harness) {
    let api = serve(h).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let parent = format!("00-{trace}-b7ad6b7169203331-01");
    let traced = [("traceparent", parent.as_str())];
    // A plain create (batched on SQLite), a recurring one, and an update.
    let bodies = [
        json!({"title": "plain"}),
        json!({"title": "weekly", "due": "2030-01-07", "recurrence": "FREQ=WEEKLY"}),
    ];
    let mut answered = Vec::new();
    for body in &bodies {
        let created = api
            .send(
                Method::POST,
                "/api/tasks",
                Some("alice"),
                Some(&body.to_string()),
                &traced,
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        answered.push(created.header("traceresponse").to_owned());
    }
    let updated = api
        .send(
            Method::PATCH,
            "/api/tasks/1",
            Some("alice"),
            Some(r#"{"title": "plain 2"}"#),
            &traced,
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    answered.push(updated.header("traceresponse").to_owned());
    // Each request is its own span in the caller's trace, and its event
    // row carries exactly that span.
    let rows = h
        .raw
        .pairs("SELECT sequence, traceparent FROM task_events ORDER BY sequence")
        .await;
    let stored: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(stored, answered);
    for value in &answered {
        assert!(value.starts_with(&format!("00-{trace}-")), "{value}");
        assert!(!value.contains("b7ad6b7169203331"), "{value}");
    }
    // Without a parent, or with a broken one, a request starts a new trace.
    for headers in [&[][..], &[("traceparent", "00-junk-01")][..]] {
        let fresh = api
            .send(
                Method::POST,
                "/api/tasks",
                Some("alice"),
                Some(r#"{"title": "x"}"#),
                headers,
            )
            .await;
        let context = taskflow_events::trace::TraceContext::parse(fresh.header("traceresponse"));
        assert!(
            context.is_some_and(|c| c.trace_id_hex() != trace),
            "{:?}",
            fresh.headers
        );
    }
}

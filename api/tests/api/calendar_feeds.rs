//! Calendar feeds over HTTP: a feed is its owner's, its URL shown once;
//! bad input is refused with the usual problems; the feed answers 304 to
//! its own ETag, the same bytes while nothing changed, and a new ETag when
//! something did; an unknown, deleted or malformed token is one 404; a
//! removed member's feed stops showing the shared list at once.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::{on_both_databases, wait_for};

use crate::common::serve;

on_both_databases!(
    a_feed_is_its_owners_and_its_url_is_shown_once,
    bad_feeds_are_refused_with_the_usual_problems,
    an_unchanged_feed_is_answered_304_and_the_same_bytes,
    unknown_deleted_and_malformed_tokens_are_one_404,
    a_feed_shows_what_it_was_made_for,
    a_removed_member_no_longer_sees_the_shared_list,
);

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> (u16, Value) {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    (reply.status.as_u16(), reply.body)
}

async fn new_list(api: &TestApp, user: &str, title: &str) -> i64 {
    let (status, list) = call(
        api,
        Method::POST,
        "/api/lists",
        user,
        json!({"title": title}),
    )
    .await;
    assert_eq!(status, 201, "{list}");
    list["id"].as_i64().unwrap()
}

/// Makes a feed; returns its answer.
async fn make(api: &TestApp, user: &str, body: Value) -> Value {
    let (status, feed) = call(api, Method::POST, "/api/calendar-feeds", user, body).await;
    assert_eq!(status, 201, "{feed}");
    feed
}

/// The path of a feed's URL.
fn path(feed: &Value) -> String {
    let url = feed["url"].as_str().unwrap();
    format!("/feeds/{}", url.rsplit_once("/feeds/").unwrap().1)
}

/// Fetches a feed: status, ETag and body.
async fn fetch(api: &TestApp, path: &str, etag: Option<&str>) -> (StatusCode, String, String) {
    let mut request = api.client.get(format!("{}{path}", api.base));
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, etag, response.text().await.unwrap())
}

async fn a_feed_is_its_owners_and_its_url_is_shown_once(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    let feed = make(&api, "alice", json!({"lists": [home], "as": "events"})).await;
    let url = feed["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/feeds/cal_", api.base)),
        "{url}"
    );
    assert!(url.ends_with(".ics"));
    assert_eq!(
        feed["webcal_url"],
        url.replacen("http://", "webcal://", 1).as_str()
    );
    assert_eq!(feed["name"], "Home");
    assert_eq!(feed["lists"], json!([home]));
    assert_eq!(feed["as"], "events");
    assert_eq!(feed["include_completed"], false);
    let token = url.trim_end_matches(".ics");
    assert_eq!(feed["url_hint"], &token[token.len() - 4..]);
    let id = feed["id"].as_i64().unwrap();

    let (status, listed) = call(
        &api,
        Method::GET,
        "/api/calendar-feeds",
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("url").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&token[token.len() - 12..]));
    let (_, bobs) = call(&api, Method::GET, "/api/calendar-feeds", "bob", Value::Null).await;
    assert_eq!(bobs, json!([]));
    let (status, problem) = call(
        &api,
        Method::DELETE,
        &format!("/api/calendar-feeds/{id}"),
        "bob",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (404, Some("no such calendar feed"))
    );
    assert!(listed[0]["last_fetched_at"].is_null());
    assert_eq!(fetch(&api, &path(&feed), None).await.0, StatusCode::OK);
    // The fetch is recorded (off the request's path, at most hourly).
    wait_for(
        "the fetch to be recorded",
        std::time::Duration::from_secs(30),
        || async {
            let (_, listed) = call(
                &api,
                Method::GET,
                "/api/calendar-feeds",
                "alice",
                Value::Null,
            )
            .await;
            listed[0]["last_fetched_at"].is_string()
        },
    )
    .await;
    let (status, _) = call(
        &api,
        Method::DELETE,
        &format!("/api/calendar-feeds/{id}"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        fetch(&api, &path(&feed), None).await.0,
        StatusCode::NOT_FOUND
    );
    let all = make(&api, "alice", json!({"lists": "all"})).await;
    assert_eq!(
        (&all["name"], &all["lists"], &all["as"]),
        (&json!("Taskflow"), &json!("all"), &json!("todos"))
    );
}

async fn bad_feeds_are_refused_with_the_usual_problems(h: &Harness) {
    let api = serve(h).await;
    let mine = new_list(&api, "alice", "Mine").await;
    let theirs = new_list(&api, "bob", "Theirs").await;
    let cases = [
        (
            json!({"lists": []}),
            422,
            "validation_failed",
            Some("lists"),
        ),
        (
            json!({"lists": (1..=51).collect::<Vec<i64>>()}),
            422,
            "validation_failed",
            Some("lists"),
        ),
        (json!({"lists": [theirs]}), 404, "not_found", Some("lists")),
        (
            json!({"lists": [theirs], "name": ""}),
            404,
            "not_found",
            Some("lists"),
        ),
        (
            json!({"lists": [mine], "name": " "}),
            422,
            "validation_failed",
            Some("name"),
        ),
        (json!({"lists": "some"}), 422, "invalid_body", None),
        (
            json!({"lists": [mine], "as": "journal"}),
            422,
            "invalid_body",
            None,
        ),
        (
            json!({"lists": [mine], "colour": "red"}),
            422,
            "invalid_body",
            None,
        ),
        (json!({}), 422, "invalid_body", None),
    ];
    for (body, status, code, field) in cases {
        let (got, problem) = call(
            &api,
            Method::POST,
            "/api/calendar-feeds",
            "alice",
            body.clone(),
        )
        .await;
        assert_eq!(got, status, "{body}: {problem}");
        assert_eq!(problem["code"], code, "{body}: {problem}");
        assert_eq!(problem["field"].as_str(), field, "{body}: {problem}");
    }
    for _ in 0..25 {
        make(&api, "alice", json!({"lists": [mine]})).await;
    }
    let (status, problem) = call(
        &api,
        Method::POST,
        "/api/calendar-feeds",
        "alice",
        json!({"lists": [mine]}),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("too_many_feeds"))
    );
    let (status, _) = call(&api, Method::GET, "/api/calendar-feeds", "", Value::Null).await;
    assert_eq!(status, 401);
}

async fn an_unchanged_feed_is_answered_304_and_the_same_bytes(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    api.create_task("alice", json!({"title": "milk", "list_id": home, "due": "2026-12-24T10:00", "timezone": "Europe/Berlin"}))
        .await
        .ok();
    let feed = make(&api, "alice", json!({"lists": [home]})).await;
    let path = path(&feed);
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    let first = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(first.starts_with('"') && first.len() == 34, "{first}");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"), "{body}");
    assert!(body.contains("SUMMARY:milk\r\n"));
    assert!(body.contains("DUE;TZID=Europe/Berlin:20261224T100000\r\n"));
    assert!(body.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));

    let (_, etag, settled) = fetch(&api, &path, None).await;
    assert_eq!(settled, body);
    let (status, again, text) = fetch(&api, &path, Some(&etag)).await;
    assert_eq!(
        (status, again.as_str(), text.as_str()),
        (StatusCode::NOT_MODIFIED, etag.as_str(), "")
    );
    let (status, _, _) = fetch(&api, &path, Some(&format!("\"other\", W/{etag}"))).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, same, text) = fetch(&api, &path, Some("\"other\"")).await;
    assert_eq!((status, same.as_str()), (StatusCode::OK, etag.as_str()));
    assert_eq!(text, body, "the same bytes while nothing changed");
    let head = api
        .client
        .head(format!("{}{path}", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);

    api.create_task("alice", json!({"title": "bread", "list_id": home}))
        .await
        .ok();
    wait_for(
        "the feed to change",
        std::time::Duration::from_secs(30),
        || async { fetch(&api, &path, Some(&etag)).await.0 == StatusCode::OK },
    )
    .await;
    let fresh = fetch(&api, &path, Some(&etag)).await;
    assert_ne!(fresh.1, etag);
    assert!(fresh.2.contains("SUMMARY:bread\r\n"));
}

async fn unknown_deleted_and_malformed_tokens_are_one_404(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    let deleted = make(&api, "alice", json!({"lists": [home]})).await;
    let id = deleted["id"].as_i64().unwrap();
    call(
        &api,
        Method::DELETE,
        &format!("/api/calendar-feeds/{id}"),
        "alice",
        Value::Null,
    )
    .await;
    let well_formed = format!("/feeds/cal_{}.ics", "A".repeat(43));
    let mut answers = Vec::new();
    for path in [
        path(&deleted),
        well_formed.clone(),
        well_formed.trim_end_matches(".ics").to_owned(),
        "/feeds/nope.ics".to_owned(),
        format!("/feeds/cal_{}.ics", "A".repeat(44)),
    ] {
        let reply = api.send(Method::GET, &path, None, None, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            reply.header("content-type"),
            "application/problem+json",
            "{path}"
        );
        answers.push(reply.body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0]["detail"], "no such calendar feed");
}

async fn a_feed_shows_what_it_was_made_for(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    let other = new_list(&api, "alice", "Other").await;
    let task = |title: &str, extra: Value| {
        let mut body = json!({"title": title, "list_id": home});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    api.create_task("alice", task("dated", json!({"due": "2026-12-24"})))
        .await
        .ok();
    api.create_task("alice", task("undated", json!({})))
        .await
        .ok();
    let done = api
        .create_task("alice", task("done", json!({"due": "2026-12-01"})))
        .await
        .ok();
    call(
        &api,
        Method::POST,
        &format!("/api/tasks/{}/complete", done["id"]),
        "alice",
        Value::Null,
    )
    .await;
    api.create_task("alice", json!({"title": "elsewhere", "list_id": other}))
        .await
        .ok();

    let summaries = |body: &str| -> Vec<String> {
        body.lines()
            .filter_map(|l| l.strip_prefix("SUMMARY:"))
            .map(|s| s.trim_end().to_owned())
            .collect()
    };
    let todos = make(&api, "alice", json!({"lists": [home]})).await;
    let (_, _, body) = fetch(&api, &path(&todos), None).await;
    assert_eq!(summaries(&body), ["dated", "undated"]);
    let with_done = make(
        &api,
        "alice",
        json!({"lists": [home], "include_completed": true}),
    )
    .await;
    let (_, _, body) = fetch(&api, &path(&with_done), None).await;
    assert_eq!(summaries(&body), ["dated", "undated", "done"]);
    assert!(body.contains("STATUS:COMPLETED\r\n"));
    let events = make(
        &api,
        "alice",
        json!({"lists": [home], "as": "events", "include_completed": true}),
    )
    .await;
    let (_, _, body) = fetch(&api, &path(&events), None).await;
    assert_eq!(summaries(&body), ["dated", "✓ done"]);
    assert!(body.contains("BEGIN:VEVENT\r\n") && !body.contains("VTODO"));
    assert!(body.contains("DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261225\r\n"));
    let all = make(&api, "alice", json!({"lists": "all"})).await;
    let (_, _, body) = fetch(&api, &path(&all), None).await;
    assert_eq!(summaries(&body), ["dated", "undated", "elsewhere"]);
}

async fn a_removed_member_no_longer_sees_the_shared_list(h: &Harness) {
    let api = serve(h).await;
    for who in ["alice", "bob"] {
        call(&api, Method::GET, "/api/users/me", who, Value::Null).await;
    }
    let shared = new_list(&api, "alice", "Shared").await;
    api.create_task("alice", json!({"title": "secret plans", "list_id": shared}))
        .await
        .ok();
    let (_, invitation) = call(
        &api,
        Method::POST,
        &format!("/api/lists/{shared}/invitations"),
        "alice",
        json!({"username": "bob", "role": "viewer"}),
    )
    .await;
    let accept = format!("/api/invitations/{}/accept", invitation["id"]);
    assert_eq!(
        call(&api, Method::POST, &accept, "bob", Value::Null)
            .await
            .0,
        200
    );
    let feed = make(&api, "bob", json!({"lists": "all"})).await;
    let (_, etag, body) = fetch(&api, &path(&feed), None).await;
    assert!(body.contains("SUMMARY:secret plans\r\n"), "{body}");

    let remove = format!("/api/lists/{shared}/members/bob");
    assert_eq!(
        call(&api, Method::DELETE, &remove, "alice", Value::Null)
            .await
            .0,
        204
    );
    let (status, _, body) = fetch(&api, &path(&feed), Some(&etag)).await;
    assert_eq!(status, StatusCode::OK, "never a 304 after losing a list");
    assert!(!body.contains("secret plans"), "{body}");
}

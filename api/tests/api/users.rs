//! People over HTTP: the first request of a token makes its user (from its
//! `preferred_username` and `name` claims), the profile is read and
//! changed, and a username is looked up exactly; bad input gets its status,
//! `code` and field.

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_auth::Subject;
use taskflow_testkit::app::{Reply, TestApp};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    the_first_request_makes_the_user_and_the_profile_can_change,
    a_username_is_found_exactly_and_bad_profile_input_is_refused,
    a_stream_opened_with_a_token_makes_its_user_too,
);

/// Sends `body` (raw text, if any) with a token for `subject`.
async fn as_subject(
    api: &TestApp,
    subject: &Subject,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let mut request = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(api.token_for(subject));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

fn alice() -> Subject {
    Subject {
        id: "idp|7".into(),
        username: Some("alice".into()),
        name: Some("Alice Liddell".into()),
    }
}

async fn the_first_request_makes_the_user_and_the_profile_can_change(h: &Harness) {
    let api = serve(h).await;
    // Any first request makes the user, not only a profile read.
    let listed = as_subject(&api, &alice(), Method::GET, "/api/tasks", None).await;
    assert_eq!(listed.status.as_u16(), 200);
    let me = as_subject(&api, &alice(), Method::GET, "/api/users/me", None).await;
    assert_eq!(me.status.as_u16(), 200, "{:?}", me.body);
    assert_eq!(me.body["id"], "idp|7");
    assert_eq!(me.body["username"], "alice");
    assert_eq!(me.body["display_name"], "Alice Liddell");
    assert_eq!(me.body["time_zone"], Value::Null);

    let patch = json!({"display_name": "Alice", "time_zone": "Europe/Berlin"}).to_string();
    let changed = as_subject(&api, &alice(), Method::PATCH, "/api/users/me", Some(&patch)).await;
    assert_eq!(changed.status.as_u16(), 200, "{:?}", changed.body);
    assert_eq!(changed.body["display_name"], "Alice");
    assert_eq!(changed.body["time_zone"], "Europe/Berlin");
    let again = as_subject(&api, &alice(), Method::GET, "/api/users/me", None).await;
    assert_eq!(again.body, changed.body);

    // A token without claims: the id is the username and the name.
    let bob = api.call(Method::GET, "/api/users/me", "bob", None).await;
    assert_eq!(
        (&bob.body["username"], &bob.body["display_name"]),
        (&json!("bob"), &json!("bob"))
    );
    let anonymous = api
        .send(Method::GET, "/api/users/me", None, None, &[])
        .await;
    assert_eq!(anonymous.status.as_u16(), 401);
}

/// A stream is a request like any other: its user is made (in the
/// background, the stream only reads), so others can find them.
async fn a_stream_opened_with_a_token_makes_its_user_too(h: &Harness) {
    let api = serve(h).await;
    let stream = api
        .client
        .get(format!("{}/api/stream/tasks", api.base))
        .bearer_auth(api.token_for(&alice()))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    taskflow_testkit::wait_for(
        "the stream's user to be made",
        std::time::Duration::from_secs(10),
        || async {
            let found = api
                .call(Method::GET, "/api/users?username=alice", "bob", None)
                .await;
            found.status.as_u16() == 200
        },
    )
    .await;
    drop(stream);
}

async fn a_username_is_found_exactly_and_bad_profile_input_is_refused(h: &Harness) {
    let api = serve(h).await;
    as_subject(&api, &alice(), Method::GET, "/api/users/me", None).await;
    let found = api
        .call(Method::GET, "/api/users?username=alice", "bob", None)
        .await;
    assert_eq!(found.status.as_u16(), 200, "{:?}", found.body);
    assert_eq!(
        found.body,
        json!({"id": "idp|7", "username": "alice", "display_name": "Alice Liddell"}),
        "others see no time zone or dates"
    );

    for (path, status, code, field) in [
        ("/api/users?username=Alice", 404, "no_such_user", "username"),
        (
            "/api/users?username=idp%7C7",
            404,
            "no_such_user",
            "username",
        ),
        (
            "/api/users?username=a%20b",
            422,
            "validation_failed",
            "username",
        ),
        ("/api/users", 400, "invalid_query", ""),
    ] {
        let reply = api.call(Method::GET, path, "bob", None).await;
        assert_eq!(reply.status.as_u16(), status, "{path}: {:?}", reply.body);
        assert_eq!(reply.body["code"], code, "{path}");
        if !field.is_empty() {
            assert_eq!(reply.body["field"], field, "{path}");
        }
    }

    for (body, status, code, field) in [
        ("{}", 422, "validation_failed", "body"),
        (
            r#"{"display_name": ""}"#,
            422,
            "validation_failed",
            "display_name",
        ),
        (
            r#"{"time_zone": "Mars/Olympus"}"#,
            422,
            "validation_failed",
            "time_zone",
        ),
        (r#"{"username": "root"}"#, 422, "invalid_body", ""),
        ("{", 400, "malformed_json", ""),
    ] {
        let reply = as_subject(&api, &alice(), Method::PATCH, "/api/users/me", Some(body)).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["code"], code, "{body}");
        if !field.is_empty() {
            assert_eq!(reply.body["field"], field, "{body}");
        }
    }
    let unchanged = as_subject(&api, &alice(), Method::GET, "/api/users/me", None).await;
    assert_eq!(unchanged.body["display_name"], "Alice Liddell");
}

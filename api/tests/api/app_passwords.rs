//! App passwords over HTTP: the password is shown once, with the username
//! and the CalDAV address to give the app; listing never shows it; bad
//! input is refused with the usual problems; only the owner revokes one.

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    an_app_password_is_shown_once_and_revoked_by_its_owner,
    bad_app_passwords_are_refused_with_the_usual_problems,
);

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> (u16, Value) {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    (reply.status.as_u16(), reply.body)
}

async fn an_app_password_is_shown_once_and_revoked_by_its_owner(h: &Harness) {
    let api = serve(h).await;
    let (status, made) = call(
        &api,
        Method::POST,
        "/api/app-passwords",
        "alice",
        json!({"name": "iPhone", "scopes": ["caldav"], "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let password = made["password"].as_str().unwrap();
    assert!(password.starts_with("tfap_"), "{made}");
    assert_eq!(made["username"], "alice");
    assert_eq!(made["dav_url"], format!("{}/dav/", api.base));
    assert_eq!(made["scopes"], json!(["caldav"]));
    assert_eq!(made["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(made["hint"], &password[password.len() - 4..]);
    assert!(made["last_used_at"].is_null());

    let (status, listed) = call(
        &api,
        Method::GET,
        "/api/app-passwords",
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], made["id"]);
    assert!(listed[0].get("password").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&password[5..20]), "{listed}");
    let (_, bobs) = call(&api, Method::GET, "/api/app-passwords", "bob", Value::Null).await;
    assert_eq!(bobs, json!([]));

    let path = format!("/api/app-passwords/{}", made["id"]);
    let (status, problem) = call(&api, Method::DELETE, &path, "bob", Value::Null).await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (404, Some("no such app password"))
    );
    assert_eq!(
        call(&api, Method::DELETE, &path, "alice", Value::Null)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&api, Method::DELETE, &path, "alice", Value::Null)
            .await
            .0,
        404
    );
    let (_, listed) = call(
        &api,
        Method::GET,
        "/api/app-passwords",
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(listed, json!([]));
}

async fn bad_app_passwords_are_refused_with_the_usual_problems(h: &Harness) {
    let api = serve(h).await;
    let cases = [
        (
            json!({"name": "", "scopes": ["caldav"]}),
            422,
            "validation_failed",
            Some("name"),
        ),
        (
            json!({"name": "x", "scopes": []}),
            422,
            "validation_failed",
            Some("scopes"),
        ),
        (
            json!({"name": "x", "scopes": ["caldav"], "expires_at": "2001-01-01T00:00:00Z"}),
            422,
            "validation_failed",
            Some("expires_at"),
        ),
        (
            json!({"name": "x", "scopes": ["carddav"]}),
            422,
            "invalid_body",
            None,
        ),
        (json!({"name": "x"}), 422, "invalid_body", None),
        (
            json!({"name": "x", "scopes": ["caldav"], "colour": "red"}),
            422,
            "invalid_body",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let (got, problem) = call(
            &api,
            Method::POST,
            "/api/app-passwords",
            "alice",
            body.clone(),
        )
        .await;
        assert_eq!(got, status, "{body}: {problem}");
        assert_eq!(problem["code"], code, "{body}: {problem}");
        assert_eq!(problem["field"].as_str(), field, "{body}: {problem}");
    }
    for n in 0..25 {
        let body = json!({"name": format!("app {n}"), "scopes": ["caldav"]});
        assert_eq!(
            call(&api, Method::POST, "/api/app-passwords", "alice", body)
                .await
                .0,
            201
        );
    }
    let body = json!({"name": "one more", "scopes": ["caldav"]});
    let (status, problem) = call(&api, Method::POST, "/api/app-passwords", "alice", body).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("too_many_app_passwords"))
    );
    let (status, _) = call(&api, Method::GET, "/api/app-passwords", "", Value::Null).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &api,
        Method::DELETE,
        "/api/app-passwords/abc",
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}

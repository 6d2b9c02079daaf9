//! Webhooks over HTTP: endpoints are made, read, changed and deleted by
//! their owner only (the secret shown at creation and rotation, never
//! after); addresses that are not public are refused with 422 naming
//! `url`; tests, deliveries, redeliveries and replays answer as documented.

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_api::AppState;
use taskflow_api::auth::Verifier;
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::{SECRET, serve, serve_state};

on_both_databases!(
    an_endpoint_is_its_owners_and_its_secret_is_shown_twice,
    addresses_that_are_not_public_are_refused,
    tests_deliveries_redeliveries_and_replays_answer,
);

/// The API over `h` letting webhooks go to loopback (development).
async fn insecure(h: &Harness) -> TestApp {
    let svc = h.svc.clone().with_insecure_webhooks(true);
    serve_state(AppState::new(svc, Verifier::hs256(SECRET))).await
}

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> (u16, Value) {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    (reply.status.as_u16(), reply.body)
}

const URL: &str = "http://127.0.0.1:9/hooks";

async fn an_endpoint_is_its_owners_and_its_secret_is_shown_twice(h: &Harness) {
    let api = insecure(h).await;
    let (status, created) = call(
        &api,
        Method::POST,
        "/api/webhooks",
        "alice",
        json!({"url": URL, "description": "CI", "event_types": ["taskflow.task.completed.v1"]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["url"], URL);
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["event_types"],
        json!(["taskflow.task.completed.v1"])
    );
    let path = format!("/api/webhooks/{id}");
    let (status, read) = call(&api, Method::GET, &path, "alice", Value::Null).await;
    assert_eq!(status, 200);
    assert!(read.get("secret").is_none(), "{read}");
    let (_, all) = call(&api, Method::GET, "/api/webhooks", "alice", Value::Null).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert!(!all.to_string().contains(secret));
    // Bob: nothing, and exactly what a missing one answers.
    let (_, none) = call(&api, Method::GET, "/api/webhooks", "bob", Value::Null).await;
    assert_eq!(none, json!([]));
    for (method, suffix, body) in [
        (Method::GET, "", Value::Null),
        (Method::PATCH, "", json!({"enabled": false})),
        (Method::DELETE, "", Value::Null),
        (Method::POST, "/rotate-secret", Value::Null),
        (Method::POST, "/test", Value::Null),
        (Method::GET, "/deliveries", Value::Null),
        (Method::POST, "/replay", json!({"since_sequence": 0})),
    ] {
        let theirs = call(
            &api,
            method.clone(),
            &format!("{path}{suffix}"),
            "bob",
            body.clone(),
        )
        .await;
        let missing = format!("/api/webhooks/999999{suffix}");
        let absent = call(&api, method.clone(), &missing, "bob", body).await;
        assert_eq!(theirs.0, 404, "{method} {suffix}: {}", theirs.1);
        assert_eq!(theirs, absent, "{method} {suffix}");
    }
    // Changes: bad ones name their field.
    for (patch, field) in [
        (json!({"event_types": ["task.done"]}), "event_types"),
        (json!({"event_types": []}), "event_types"),
        (json!({"url": "ftp://example.com"}), "url"),
        (json!({"description": "x".repeat(201)}), "description"),
    ] {
        let (status, problem) = call(&api, Method::PATCH, &path, "alice", patch).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (422, Some(field)),
            "{problem}"
        );
    }
    let (status, changed) = call(
        &api,
        Method::PATCH,
        &path,
        "alice",
        json!({"event_types": null, "enabled": false, "description": "all of it"}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            &changed["event_types"],
            &changed["enabled"],
            &changed["description"]
        ),
        (&Value::Null, &json!(false), &json!("all of it"))
    );
    // Rotation shows the new secret once and says until when the old signs.
    let (status, rotated) = call(
        &api,
        Method::POST,
        &format!("{path}/rotate-secret"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(rotated["secret"], secret);
    assert!(rotated["previous_secret_until"].is_string());
    let (_, types) = call(
        &api,
        Method::GET,
        "/api/webhooks/event-types",
        "alice",
        Value::Null,
    )
    .await;
    let types = types["event_types"].as_array().unwrap();
    assert!(types.contains(&json!("taskflow.list.member_added.v1")));
    assert!(types.contains(&json!("taskflow.comment.created.v1")));
    let (status, _) = call(&api, Method::DELETE, &path, "alice", Value::Null).await;
    assert_eq!(status, 204);
    let (status, _) = call(&api, Method::GET, &path, "alice", Value::Null).await;
    assert_eq!(status, 404);
}

async fn addresses_that_are_not_public_are_refused(h: &Harness) {
    let strict = serve(h).await;
    let lax = insecure(h).await;
    for (api, url) in [
        (&strict, "https://127.0.0.1/hook"),
        (&strict, "http://127.0.0.1:8080/hook"),
        (&strict, "https://10.0.0.1/hook"),
        (&strict, "https://169.254.169.254/latest/meta-data/"),
        (&strict, "https://localhost/hook"),
        (&strict, "https://[::1]/hook"),
        (&strict, "https://0x7f.1/hook"),
        (&strict, "http://example.com/hook"),
        (&strict, "https://user:pw@example.com/hook"),
        (&lax, "https://10.0.0.1/hook"),
        (&lax, "https://169.254.169.254/"),
        (&lax, "http://192.168.1.10/hook"),
        (&lax, "https://[fd00:ec2::254]/"),
    ] {
        let (status, problem) = call(
            api,
            Method::POST,
            "/api/webhooks",
            "alice",
            json!({"url": url}),
        )
        .await;
        assert_eq!(status, 422, "{url}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["field"], "url", "{url}");
    }
    let (_, none) = call(&strict, Method::GET, "/api/webhooks", "alice", Value::Null).await;
    assert_eq!(none, json!([]), "nothing was made");
    for url in ["http://127.0.0.1:9/hook", "http://localhost:9/hook"] {
        let (status, made) = call(
            &lax,
            Method::POST,
            "/api/webhooks",
            "alice",
            json!({"url": url}),
        )
        .await;
        assert_eq!(status, 201, "{url}: {made}");
    }
}

async fn tests_deliveries_redeliveries_and_replays_answer(h: &Harness) {
    let api = insecure(h).await;
    let (_, created) = call(
        &api,
        Method::POST,
        "/api/webhooks",
        "alice",
        json!({"url": URL}),
    )
    .await;
    let path = format!("/api/webhooks/{}", created["id"]);
    let (status, ping) = call(
        &api,
        Method::POST,
        &format!("{path}/test"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(status, 202, "{ping}");
    assert_eq!(
        (&ping["event_type"], &ping["status"], &ping["attempts"]),
        (&json!("taskflow.ping.v1"), &json!("pending"), &json!(0))
    );
    api.create_task("alice", json!({"title": "one"})).await.ok();
    // A replay sends what has committed: replaying nothing changes nothing.
    let replay = || async {
        let body = json!({"since_sequence": 0});
        call(&api, Method::POST, &format!("{path}/replay"), "alice", body).await
    };
    let (status, replayed) = replay().await;
    assert_eq!(status, 202, "{replayed}");
    assert_eq!(
        (&replayed["has_more"], &replayed["queued"]),
        (&json!(false), &json!(1))
    );
    let (_, page) = call(
        &api,
        Method::GET,
        &format!("{path}/deliveries?limit=1"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, older) = call(
        &api,
        Method::GET,
        &format!("{path}/deliveries?limit=1&cursor={cursor}"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(older["deliveries"][0]["id"], ping["id"]);
    assert!(older["next_cursor"].is_null());
    let (_, pending) = call(
        &api,
        Method::GET,
        &format!("{path}/deliveries?status=pending"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(pending["deliveries"].as_array().unwrap().len(), 2);
    let (status, problem) = call(
        &api,
        Method::GET,
        &format!("{path}/deliveries?status=lost"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("status")));
    let redeliver = format!(
        "{path}/deliveries/{}/redeliver",
        ping["id"].as_str().unwrap()
    );
    let (status, again) = call(&api, Method::POST, &redeliver, "alice", Value::Null).await;
    assert_eq!((status, &again["id"]), (202, &ping["id"]));
    for missing in ["not-a-uuid", "0190a0a0-0000-7000-8000-000000000000"] {
        let path = format!("{path}/deliveries/{missing}/redeliver");
        let (status, problem) = call(&api, Method::POST, &path, "alice", Value::Null).await;
        assert_eq!(
            (status, problem["detail"].as_str()),
            (404, Some("no such delivery"))
        );
    }
    let (status, problem) = call(
        &api,
        Method::POST,
        &format!("{path}/replay"),
        "alice",
        json!({"since_sequence": -1}),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (422, Some("since_sequence"))
    );
    // A disabled endpoint takes no test.
    call(
        &api,
        Method::PATCH,
        &path,
        "alice",
        json!({"enabled": false}),
    )
    .await;
    let (status, problem) = call(
        &api,
        Method::POST,
        &format!("{path}/test"),
        "alice",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("webhook_disabled"))
    );
}

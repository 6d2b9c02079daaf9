//! The dashboard's assets and the local sign-in over a real socket: every
//! asset embedded with its type and a strict content security policy; the
//! one-click sign-in only where `serve` turns it on, and only for requests
//! addressed to a loopback host. (The page itself is driven in Chromium by
//! `api/dashboard/tests/run`.)

use std::sync::Arc;

use crate::common::{SECRET, serve, serve_state};
use reqwest::{Method, StatusCode};
use taskflow_api::AppState;
use taskflow_api::auth::Verifier;
use taskflow_api::dashboard::LocalSignIn;

#[tokio::test]
async fn every_asset_is_served_with_its_type_and_a_strict_policy() {
    let h = taskflow_testkit::harness::sqlite().await;
    let api = serve(&h).await;
    for (path, kind, marker) in [
        ("/", "text/html; charset=utf-8", "<title>Taskflow</title>"),
        ("/app.js", "text/javascript; charset=utf-8", "EventSource"),
        ("/app.css", "text/css; charset=utf-8", "@media"),
    ] {
        let response = api
            .client
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], kind, "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(response.text().await.unwrap().contains(marker), "{path}");
    }
}

#[tokio::test]
async fn local_sign_in_is_off_unless_serve_turns_it_on() {
    let h = taskflow_testkit::harness::sqlite().await;
    let api = serve(&h).await;
    for method in [Method::GET, Method::POST] {
        let reply = api
            .send(method, "/api/local-sign-in", None, None, &[])
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.body["code"], "not_found");
    }
}

#[tokio::test]
async fn local_sign_in_gives_a_working_token_to_loopback_hosts_only() {
    let h = taskflow_testkit::harness::sqlite().await;
    let state = AppState {
        local_sign_in: Some(LocalSignIn {
            user: "local".into(),
            secret: Arc::new(SECRET.to_vec()),
        }),
        ..AppState::new(h.svc.clone(), Verifier::hs256(SECRET))
    };
    let api = serve_state(state).await;
    let who = api
        .send(Method::GET, "/api/local-sign-in", None, None, &[])
        .await;
    assert_eq!(
        (who.status, &who.body["user"]),
        (StatusCode::OK, &"local".into())
    );
    assert!(who.body.get("token").is_none(), "GET only says who");
    let signed = api
        .send(Method::POST, "/api/local-sign-in", None, None, &[])
        .await;
    let token = signed.body["token"].as_str().unwrap();
    let me = api
        .client
        .get(format!("{}/api/users/me", api.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<serde_json::Value>().await.unwrap()["id"], "local");
    // A page on another name (DNS rebinding) gets nothing.
    for host in [
        "evil.example",
        "evil.example:80",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
    ] {
        let reply = api
            .send(
                Method::POST,
                "/api/local-sign-in",
                None,
                None,
                &[("host", host)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{host}");
    }
    for host in ["localhost", "localhost:8080", "[::1]:8080"] {
        let reply = api
            .send(
                Method::GET,
                "/api/local-sign-in",
                None,
                None,
                &[("host", host)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{host}");
    }
}

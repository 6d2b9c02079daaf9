//! Token verification: what is accepted and every way a token is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use taskflow_api::auth::{Verifier, load_or_create_secret, mint};

const SECRET: &[u8] = b"a test secret of enough length!!";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn signed(alg: Algorithm, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn refused(token: &str) -> String {
    let problem = Verifier::hs256(SECRET).verify(token).unwrap_err();
    assert_eq!(problem.status(), StatusCode::UNAUTHORIZED);
    format!("{problem:?}")
}

#[test]
fn a_minted_token_names_its_user() {
    let token = mint(SECRET, "alice", Duration::from_secs(60)).unwrap();
    assert_eq!(Verifier::hs256(SECRET).verify(&token).unwrap(), "alice");
}

#[test]
fn expired_tokens_are_refused() {
    let token = signed(
        Algorithm::HS256,
        json!({"sub": "alice", "exp": now() - 3600}),
    );
    assert!(refused(&token).contains("expired"));
}

#[test]
fn tokens_without_exp_or_sub_are_refused() {
    refused(&signed(Algorithm::HS256, json!({"sub": "alice"})));
    refused(&signed(Algorithm::HS256, json!({"exp": now() + 60})));
    refused(&signed(
        Algorithm::HS256,
        json!({"sub": "", "exp": now() + 60}),
    ));
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "alice", "exp": now() + 60}).to_string());
    refused(&format!("{header}.{claims}."));
    refused(&signed(
        Algorithm::HS512,
        json!({"sub": "alice", "exp": now() + 60}),
    ));
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let token = mint(b"some other secret", "alice", Duration::from_secs(60)).unwrap();
    assert!(refused(&token).contains("signature"));
}

#[test]
fn the_generated_secret_is_kept_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = load_or_create_secret(None, dir.path()).unwrap();
    let second = load_or_create_secret(None, dir.path()).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 64);
    assert_eq!(
        load_or_create_secret(Some("configured"), dir.path()).unwrap(),
        b"configured"
    );
}

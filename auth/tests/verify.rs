//! Token verification: what is accepted and every way a token is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use taskflow_auth::{
    AgentGrant, AgentToken, Rejected, Subject, Verifier, load_or_create_secret, mint, mint_agent,
};

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

async fn refused(token: &str) -> String {
    let problem = Verifier::hs256(SECRET).verify(token).await.unwrap_err();
    assert!(matches!(problem, Rejected::Unauthorized(_)), "{problem:?}");
    format!("{problem:?}")
}

#[tokio::test]
async fn a_minted_token_names_its_user() {
    let token = mint(SECRET, "alice", Duration::from_secs(60)).unwrap();
    assert_eq!(
        Verifier::hs256(SECRET).verify(&token).await.unwrap(),
        Subject::new("alice")
    );
}

#[tokio::test]
async fn a_token_names_its_subject_username_and_name_when_it_has_them() {
    let token = signed(
        Algorithm::HS256,
        json!({"sub": "auth0|42", "exp": now() + 60, "preferred_username": "alice", "name": "Alice Liddell"}),
    );
    assert_eq!(
        Verifier::hs256(SECRET).verify(&token).await.unwrap(),
        Subject {
            id: "auth0|42".into(),
            username: Some("alice".into()),
            name: Some("Alice Liddell".into()),
        }
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let token = signed(
        Algorithm::HS256,
        json!({"sub": "alice", "exp": now() - 3600}),
    );
    assert!(refused(&token).await.contains("expired"));
}

#[tokio::test]
async fn tokens_without_exp_or_sub_are_refused() {
    refused(&signed(Algorithm::HS256, json!({"sub": "alice"}))).await;
    refused(&signed(Algorithm::HS256, json!({"exp": now() + 60}))).await;
    refused(&signed(
        Algorithm::HS256,
        json!({"sub": "", "exp": now() + 60}),
    ))
    .await;
}

#[tokio::test]
async fn alg_none_and_other_algorithms_are_refused() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "alice", "exp": now() + 60}).to_string());
    refused(&format!("{header}.{claims}.")).await;
    refused(&signed(
        Algorithm::HS512,
        json!({"sub": "alice", "exp": now() + 60}),
    ))
    .await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let token = mint(b"some other secret", "alice", Duration::from_secs(60)).unwrap();
    assert!(refused(&token).await.contains("signature"));
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

const ED_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAdLFLPHI8cexBSRu8pTruygGXjSFRz2AK25DpLI+WOj\n-----END PRIVATE KEY-----";
const EC_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkXMMMe7V0RUj5Fhg\nwVSJnBKV6at2C0+xAuJtqeT7ua+hRANCAAT/CO3jl88lWfackqG9lFdrBg3TnlnQ\n1w9tVPaishaocvHL9/R2iOYT23VXEAVjjm2FWTEFTrGTADlmuUmuYM9U\n-----END PRIVATE KEY-----";
const RSA_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDWx2DP1dtLUB6k\nkUFZE+9nXsEV/J7jmik/OxHro4SxUPKAkKJPE2cF5N9+bbxKAXvWnRWV192CqsDx\nh/Pmk3hv2CPHmxd8PMSPsMIvhUfhbJU/iEyrIbhVSebrLDMKvimNwJKae5DEHSVg\njm63clLCRuG+RUSK//xZwI8w75Enyq4LtHF+5v4K4JKhpq5aTlXGlkBwYYfgPsE4\n1KLL+3P6uU63iB97YzyeNKfvrRXSUUk7GOiUUQfbBu682ZIRIvCWVa6X0bIZqoeu\noOlMsgLW6G0iKP5BVtJIpkiID5C4FxGWbH5zMOvNBof6DkdIoRqBayYhXKXSMqhU\nGcHUjjRBAgMBAAECggEAJasWGZ1iNpU4qpgnI95RMIn3x0lk/Hn/He3YOMGW9hpC\nTbYQIVo/yVLYt627Rid4dq1aKcuQN+iGqlWzuw7GIqd/rvRObCWkO6c+h2MStkB6\n9IeNGr5xO9QYQcqgsROk6g2KKLnfK+YItiSE2nucdCJGWT6AxPgcZAlXk7eQd6/M\nAVgMT+P7PFEBq0YqRwN05xIFd9S7ifI4D1zphtR166vJ8PU/Uwlc2j8RT66GO4ug\nvo6Nwfs2bCUygne5MM79RzooPjD/CvFM+4/nH05Es9//LwidyR5vDM/uGsOn0hMR\n6e1xTSAto7UhdrBlIh7pPXkmGvoJEr6A3AhAQrLEeQKBgQD0J0LRDUq4S6c7MhBK\nkqrmCTDoFRblv3Rs5H7cjEtHrKI4R6flexqGR35AVssneCs539gJmn3bbqxKEnr/\nDiT6xvYWib6Kj++sgPkJtKaEy8u8tk74ydzVyOtlXhHL2tgRYa8Ek3iR52pIsEOc\n6FgbF7cmuloAIYaQn/JPlu7KywKBgQDhMz4j8SLcv3D6gkFobkmAhYQRtiio1tng\nHvLR+EhpPVkF2YKWM/DfPV5CkEn9c4rb27ycJYB9MpZz2gcBpko4Ifjt+XeqO/3D\nrxVwVpPMwE4zF+OJJcawY2wRHnWgY06AsjFxntRlv5ioVE6zaEH5TTrvDTRbumR5\nHJZbUs2fowKBgC3AgbPdEshwXNkp64Wd8GqFBGYpNY4+D1osg11e6Oh4gDmdq+fD\n5teM5Cq4WP9/dFI3ESvTiIwrNBv5VJUhGGrqB8l3bH5YtKgVzxUzhhTSf85QN4JF\niZ2CNiJbu2gBDYZMUNjBrdFhlTgj17e6jnAdRJP8TctCfQ3y+xxRA1R7AoGAPFOR\nzecGw8O07CaAhw0kO32Ix4XYloIXk2Y2/fBY1XhNpLeDt+DqIaM64PHuICsXg5X1\njI6vQNqQWzCIt/Rn5WmUWYt+dufjLsx0HcfTiAHr8NvxZAfulcnMZTmXoQN5QBh8\nDkfR9f/BUTZkbsL7CWGa6/bJk9j2mUsDLCueUakCgYAol/9sgwBhXYvhOrNtErdj\n0W9At6LP1Z6dVZdfrehpArslLjTU3V9k8w5PZjY8ndcyX7y8VmsbsZtbA1Gpz0BC\njgywoZgX/e1rNDVgderqXk8KPkEpM6i3ok6ycBECEJ1lLADqlia3J9mpVeTVkpOM\n4U0jECGYiwogoy4bV4tlAw==\n-----END PRIVATE KEY-----";

/// The public halves of the three test keys, as a JWK set.
fn jwk_set() -> serde_json::Value {
    json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "nmPcqQCJElXYN4uNLmk4KpK-wXI9N8PUGcaiLR63UIM"},
        {"kty": "EC", "crv": "P-256", "kid": "ec", "alg": "ES256",
         "x": "_wjt45fPJVn2nJKhvZRXawYN055Z0NcPbVT2orIWqHI", "y": "8cv39HaI5hPbdVcQBWOObYVZMQVOsZMAOWa5Sa5gz1Q"},
        {"kty": "RSA", "kid": "rsa", "e": "AQAB",
         "n": "1sdgz9XbS1AepJFBWRPvZ17BFfye45opPzsR66OEsVDygJCiTxNnBeTffm28SgF71p0VldfdgqrA8Yfz5pN4b9gjx5sXfDzEj7DCL4VH4WyVP4hMqyG4VUnm6ywzCr4pjcCSmnuQxB0lYI5ut3JSwkbhvkVEiv_8WcCPMO-RJ8quC7Rxfub-CuCSoaauWk5VxpZAcGGH4D7BONSiy_tz-rlOt4gfe2M8njSn760V0lFJOxjolFEH2wbuvNmSESLwllWul9GyGaqHrqDpTLIC1uhtIij-QVbSSKZIiA-QuBcRlmx-czDrzQaH-g5HSKEagWsmIVyl0jKoVBnB1I40QQ"}
    ]})
}

/// Serves `set` at /jwks.json and counts the fetches.
async fn jwks_server(
    set: std::sync::Arc<std::sync::Mutex<serde_json::Value>>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (set, counter) = (set.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::Json(set.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fetches)
}

fn sign(alg: Algorithm, kid: &str, pem: &str, claims: serde_json::Value) -> String {
    let key = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn jwks_keys_verify_eddsa_es256_and_rs256_tokens() {
    let set = std::sync::Arc::new(std::sync::Mutex::new(jwk_set()));
    let (url, fetches) = jwks_server(set).await;
    let verifier = Verifier::jwks_only(&url);
    let claims = json!({"sub": "carol", "exp": now() + 60});
    for (alg, kid, pem) in [
        (Algorithm::EdDSA, "ed", ED_PEM),
        (Algorithm::ES256, "ec", EC_PEM),
        (Algorithm::RS256, "rsa", RSA_PEM),
    ] {
        assert_eq!(
            verifier
                .verify(&sign(alg, kid, pem, claims.clone()))
                .await
                .unwrap()
                .id,
            "carol",
            "{alg:?}"
        );
    }
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the set is cached"
    );
    // A key used with another algorithm than its own is refused.
    let confused = sign(Algorithm::EdDSA, "ec", ED_PEM, claims.clone());
    assert!(verifier.verify(&confused).await.is_err());
    // HS256 is not accepted by a JWKS-only verifier (no HMAC with public keys).
    assert!(
        verifier
            .verify(&mint(SECRET, "carol", Duration::from_secs(60)).unwrap())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_set_again_at_most_every_few_seconds() {
    let set = std::sync::Arc::new(std::sync::Mutex::new(json!({"keys": []})));
    let (url, fetches) = jwks_server(set.clone()).await;
    let verifier = Verifier::jwks_only(&url);
    let token = sign(
        Algorithm::EdDSA,
        "ed",
        ED_PEM,
        json!({"sub": "carol", "exp": now() + 60}),
    );
    assert!(verifier.verify(&token).await.is_err());
    // The key appears (rotation); within the refresh interval nothing is re-fetched.
    *set.lock().unwrap() = jwk_set();
    assert!(verifier.verify(&token).await.is_err());
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
    // A fresh verifier (as after the interval) fetches and accepts it.
    let fresh = Verifier::jwks_only(&url);
    assert_eq!(fresh.verify(&token).await.unwrap().id, "carol");
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let set = std::sync::Arc::new(std::sync::Mutex::new(jwk_set()));
    let (url, _) = jwks_server(set).await;
    let verifier = Verifier::jwks_only(&url)
        .with_issuer(Some("https://id.example".into()))
        .with_audience(Some("taskflow".into()));
    let good =
        json!({"sub": "carol", "exp": now() + 60, "iss": "https://id.example", "aud": "taskflow"});
    assert!(
        verifier
            .verify(&sign(Algorithm::EdDSA, "ed", ED_PEM, good))
            .await
            .is_ok()
    );
    let wrong_iss = json!({"sub": "carol", "exp": now() + 60, "iss": "https://evil.example", "aud": "taskflow"});
    assert!(
        verifier
            .verify(&sign(Algorithm::EdDSA, "ed", ED_PEM, wrong_iss))
            .await
            .is_err()
    );
    let wrong_aud =
        json!({"sub": "carol", "exp": now() + 60, "iss": "https://id.example", "aud": "other"});
    assert!(
        verifier
            .verify(&sign(Algorithm::EdDSA, "ed", ED_PEM, wrong_aud))
            .await
            .is_err()
    );
}

/// An agent's token: accepted only from this server's own authorization
/// server (its issuer, HS256), with its grant, audience and scopes read
/// out; never where a person's token is expected.
#[tokio::test]
async fn an_agents_token_is_its_own_issuers_and_only_for_its_resource() {
    let token = |issuer: &str| {
        mint_agent(
            SECRET,
            &AgentToken {
                user: "alice",
                issuer,
                audience: "https://tf.example/mcp",
                grant: "g1",
                scope: "tasks:read",
                client_id: Some("tfc_x"),
            },
            Duration::from_secs(60),
        )
        .unwrap()
    };
    let verifier = Verifier::hs256(SECRET).with_own_issuer("https://tf.example");
    let verified = verifier
        .verify_any(&token("https://tf.example"))
        .await
        .unwrap();
    assert_eq!(verified.subject.id, "alice");
    assert_eq!(
        verified.agent,
        Some(AgentGrant {
            grant: "g1".into(),
            audience: "https://tf.example/mcp".into(),
            scope: "tasks:read".into(),
        })
    );
    // Where a person's token is expected (REST), refused.
    assert!(verifier.verify(&token("https://tf.example")).await.is_err());
    // Another issuer's, or with no own issuer configured, refused.
    assert!(
        verifier
            .verify_any(&token("https://evil.example"))
            .await
            .is_err()
    );
    assert!(
        Verifier::hs256(SECRET)
            .verify_any(&token("https://tf.example"))
            .await
            .is_err()
    );
    // A person's token has no grant.
    let person = mint(SECRET, "alice", Duration::from_secs(60)).unwrap();
    assert_eq!(verifier.verify_any(&person).await.unwrap().agent, None);
}

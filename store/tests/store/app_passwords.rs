//! App passwords in the store: only the hash is kept; a sign-in needs the
//! owner's username (or id, in any ASCII case), an unexpired password and
//! its scope; a revoked one is refused at once; a use is noted to the
//! minute; expired ones are forgotten a month later.

use chrono::Duration;
use taskflow_core::{AppPasswordScope, CreateAppPassword, Subject};
use taskflow_store::retention::Retention;
use taskflow_store::{Clock, Error, TaskService};

use super::*;

on_both_databases!(
    an_app_password_signs_in_only_its_owner_until_revoked_or_expired,
    app_passwords_are_limited_and_checked,
);

fn input(name: &str, expires_in: Option<Duration>, clock: &impl Clock) -> CreateAppPassword {
    CreateAppPassword {
        name: name.into(),
        scopes: vec![AppPasswordScope::Caldav],
        expires_at: expires_in.map(|d| clock.now() + d),
    }
}

async fn sign_in(svc: &TaskService, username: &str, password: &str) -> Option<String> {
    let signed_in = svc
        .app_password_user(username, password, AppPasswordScope::Caldav)
        .await
        .unwrap();
    if let Some((_, known_as)) = &signed_in {
        assert_eq!(known_as.as_deref(), Some("Alice"), "the username as read");
    }
    signed_in.map(|(id, _)| id)
}

async fn an_app_password_signs_in_only_its_owner_until_revoked_or_expired(h: &Harness) {
    let svc = &h.svc;
    let mut alice = Subject::new("u-alice");
    alice.username = Some("Alice".into());
    svc.saw(&alice).await.unwrap();
    let made = svc
        .create_app_password(
            "u-alice",
            &input(" iPhone ", None, &h.clock),
            "https://t.example/dav/",
        )
        .await
        .unwrap();
    let password = made.password.clone();
    assert!(
        password.starts_with("tfap_") && password.len() == 5 + 43,
        "{password}"
    );
    assert_eq!(made.username, "Alice");
    assert_eq!(made.dav_url, "https://t.example/dav/");
    assert_eq!(made.app_password.name, "iPhone");
    assert_eq!(made.app_password.hint, password[password.len() - 4..]);
    assert_eq!(made.app_password.scopes, [AppPasswordScope::Caldav]);
    // Only its hash is kept.
    let clear = h
        .raw
        .scalar(&format!(
            "SELECT COUNT(*) FROM app_passwords WHERE hash = '{password}' OR name = '{password}'"
        ))
        .await;
    assert_eq!(clear, 0);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM app_passwords").await, 1);

    // The username or the id, in any ASCII case; nobody else's name.
    for name in ["Alice", "alice", "ALICE", "u-alice", "U-Alice"] {
        assert_eq!(
            sign_in(svc, name, &password).await.as_deref(),
            Some("u-alice"),
            "{name}"
        );
    }
    for (name, secret) in [
        ("bob", password.as_str()),
        ("Alice", &password[..password.len() - 1]),
        ("Alice", "tfap_"),
        ("Alice", ""),
    ] {
        assert_eq!(sign_in(svc, name, secret).await, None, "{name} {secret}");
    }
    // A use is noted, to the minute.
    let used = svc.app_passwords("u-alice").await.unwrap()[0].last_used_at;
    assert_eq!(used, Some(h.clock.now()));
    h.clock.set(h.clock.now() + Duration::seconds(30));
    sign_in(svc, "alice", &password).await.unwrap();
    assert_eq!(
        svc.app_passwords("u-alice").await.unwrap()[0].last_used_at,
        used
    );
    h.clock.set(h.clock.now() + Duration::seconds(31));
    sign_in(svc, "alice", &password).await.unwrap();
    assert_eq!(
        svc.app_passwords("u-alice").await.unwrap()[0].last_used_at,
        Some(h.clock.now())
    );

    // Revoked: refused at once; only by its owner.
    let id = made.app_password.id;
    assert!(matches!(
        svc.delete_app_password("bob", id).await,
        Err(Error::NotFound)
    ));
    assert!(sign_in(svc, "alice", &password).await.is_some());
    svc.delete_app_password("u-alice", id).await.unwrap();
    assert_eq!(sign_in(svc, "alice", &password).await, None);
    assert!(matches!(
        svc.delete_app_password("u-alice", id).await,
        Err(Error::NotFound)
    ));

    // Expiring: refused from its expiry on; listed a month more, then pruned.
    let expiring = svc
        .create_app_password(
            "u-alice",
            &input("laptop", Some(Duration::days(1)), &h.clock),
            "x",
        )
        .await
        .unwrap();
    assert!(sign_in(svc, "alice", &expiring.password).await.is_some());
    let expiry = expiring.app_password.expires_at.unwrap();
    h.clock.set(expiry);
    assert_eq!(sign_in(svc, "alice", &expiring.password).await, None);
    let keep = Retention {
        events: None,
        ..Retention::default()
    };
    let db = svc.database();
    h.clock.set(expiry + Duration::days(29));
    assert_eq!(
        db.prune(h.clock.now(), &keep)
            .await
            .unwrap()
            .unwrap()
            .app_passwords,
        0
    );
    assert_eq!(svc.app_passwords("u-alice").await.unwrap().len(), 1);
    h.clock.set(expiry + Duration::days(31));
    assert_eq!(
        db.prune(h.clock.now(), &keep)
            .await
            .unwrap()
            .unwrap()
            .app_passwords,
        1
    );
    assert!(svc.app_passwords("u-alice").await.unwrap().is_empty());
}

async fn app_passwords_are_limited_and_checked(h: &Harness) {
    let svc = &h.svc;
    let refused = |result: Result<_, Error>| match result {
        Err(Error::Invalid(invalid)) => invalid.field,
        other => panic!("expected a refusal, got {other:?}"),
    };
    for (bad, field) in [
        (input("", None, &h.clock), "name"),
        (input(&"x".repeat(101), None, &h.clock), "name"),
        (input("a\nb", None, &h.clock), "name"),
        (
            input("ok", Some(Duration::seconds(0)), &h.clock),
            "expires_at",
        ),
        (
            CreateAppPassword {
                scopes: vec![],
                ..input("ok", None, &h.clock)
            },
            "scopes",
        ),
    ] {
        assert_eq!(
            refused(svc.create_app_password("alice", &bad, "x").await),
            field
        );
    }
    for n in 0..25 {
        svc.create_app_password("alice", &input(&format!("app {n}"), None, &h.clock), "x")
            .await
            .unwrap();
    }
    let over = svc
        .create_app_password("alice", &input("one more", None, &h.clock), "x")
        .await;
    assert!(
        matches!(
            over,
            Err(Error::Refused {
                code: "too_many_app_passwords",
                ..
            })
        ),
        "{over:?}"
    );
    // Another person's count is their own.
    svc.create_app_password("bob", &input("bob's", None, &h.clock), "x")
        .await
        .unwrap();
    let listed = svc.app_passwords("alice").await.unwrap();
    assert_eq!(listed.len(), 25);
    assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
}

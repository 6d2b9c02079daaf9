//! People: a `users` row made on first sight with a free username, the
//! profile read and changed, and look-up by exact username.

use super::*;
use taskflow_core::{Subject, UpdateProfile};

on_both_databases!(
    a_first_sight_takes_the_preferred_username_when_free_and_the_id_otherwise,
    the_profile_changes_its_display_name_and_time_zone_and_checks_them,
    a_username_is_looked_up_exactly,
    two_replicas_seeing_one_new_user_at_once_make_one_row,
    the_upgrade_makes_a_user_of_everyone_with_lists_or_conversations,
);

fn subject(id: &str, username: Option<&str>, name: Option<&str>) -> Subject {
    Subject {
        id: id.into(),
        username: username.map(Into::into),
        name: name.map(Into::into),
    }
}

async fn a_first_sight_takes_the_preferred_username_when_free_and_the_id_otherwise(h: &Harness) {
    h.svc
        .saw(&subject("sub-1", Some("alice"), Some("Alice Liddell")))
        .await
        .unwrap();
    let alice = h.svc.me("sub-1").await.unwrap();
    assert_eq!(
        (alice.username.as_str(), alice.display_name.as_str()),
        ("alice", "Alice Liddell")
    );
    assert_eq!(alice.time_zone, None);

    // Another subject wanting the same username gets its id instead.
    h.svc
        .saw(&subject("sub-2", Some("alice"), None))
        .await
        .unwrap();
    let second = h.svc.me("sub-2").await.unwrap();
    assert_eq!(
        (second.username.as_str(), second.display_name.as_str()),
        ("sub-2", "sub-2")
    );
    // When the id is taken as a username too, a numbered one.
    h.svc
        .saw(&subject("sub-3", Some("sub-2"), None))
        .await
        .unwrap();
    assert_eq!(h.svc.me("sub-3").await.unwrap().username, "sub-3");
    h.svc
        .saw(&subject("sub-4", Some("sub-3"), Some("Four")))
        .await
        .unwrap();
    h.svc
        .saw(&subject("sub-9", Some("sub-4"), None))
        .await
        .unwrap();
    assert_eq!(h.svc.me("sub-9").await.unwrap().username, "sub-9");
    h.raw.exec("INSERT INTO users (id, username, display_name, created_at, updated_at) \
            VALUES ('other', 'sub-5', 'x', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
        .await;
    h.svc
        .saw(&subject("sub-5", Some("sub-4"), None))
        .await
        .unwrap();
    assert_eq!(h.svc.me("sub-5").await.unwrap().username, "sub-5-2");

    // Seeing a known subject again changes nothing, whatever its claims say.
    h.svc
        .saw(&subject("sub-1", Some("alicia"), Some("Someone Else")))
        .await
        .unwrap();
    let again = taskflow_store::TaskService::new(h.svc.database().clone());
    again
        .saw(&subject("sub-1", Some("alicia"), Some("Someone Else")))
        .await
        .unwrap();
    assert_eq!(h.svc.me("sub-1").await.unwrap(), alice);
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM users").await, 7);
}

async fn the_profile_changes_its_display_name_and_time_zone_and_checks_them(h: &Harness) {
    let before = h.svc.me("alice").await.unwrap();
    assert_eq!(before.display_name, "alice", "a subject seen by id alone");
    h.clock.set(before.created_at + Duration::minutes(5));
    let renamed = h
        .svc
        .update_profile(
            "alice",
            &UpdateProfile {
                display_name: Some("  Alice L. ".into()),
                time_zone: Some(Some("Europe/Berlin".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Alice L.");
    assert_eq!(renamed.time_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(renamed.created_at, before.created_at);
    assert_eq!(renamed.updated_at, before.created_at + Duration::minutes(5));
    assert_eq!(h.svc.me("alice").await.unwrap(), renamed);

    // Naming only the zone keeps the name; null clears the zone.
    let cleared: UpdateProfile = serde_json::from_value(json!({"time_zone": null})).unwrap();
    let cleared = h.svc.update_profile("alice", &cleared).await.unwrap();
    assert_eq!(
        (cleared.display_name.as_str(), cleared.time_zone.as_deref()),
        ("Alice L.", None)
    );

    for (patch, field) in [
        (json!({}), "body"),
        (json!({"display_name": " "}), "display_name"),
        (json!({"display_name": "x".repeat(101)}), "display_name"),
        (json!({"display_name": "two\nlines"}), "display_name"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
    ] {
        let patch: UpdateProfile = serde_json::from_value(patch).unwrap();
        assert_eq!(
            invalid_field(h.svc.update_profile("alice", &patch).await),
            field
        );
    }
    assert_eq!(
        h.svc.me("alice").await.unwrap(),
        cleared,
        "nothing half-written"
    );
    // Bob's profile is his own.
    assert_eq!(h.svc.me("bob").await.unwrap().display_name, "bob");
}

async fn a_username_is_looked_up_exactly(h: &Harness) {
    h.svc
        .saw(&subject("sub-1", Some("Alice"), Some("Alice Liddell")))
        .await
        .unwrap();
    let found = h.svc.user_named("Alice").await.unwrap();
    assert_eq!(
        (found.id.as_str(), found.display_name.as_str()),
        ("sub-1", "Alice Liddell")
    );
    for missing in ["alice", "ALICE", "Ali", "sub-1"] {
        assert!(
            matches!(
                h.svc.user_named(missing).await,
                Err(Error::NoSuchUser { field: "username" })
            ),
            "{missing:?}"
        );
    }
    assert_eq!(invalid_field(h.svc.user_named("").await), "username");
    assert_eq!(invalid_field(h.svc.user_named("a b").await), "username");
}

async fn two_replicas_seeing_one_new_user_at_once_make_one_row(h: &Harness) {
    let other = taskflow_store::Database::connect(&h.url).await.unwrap();
    let replicas = [h.svc.clone(), taskflow_store::TaskService::new(other)];
    let sights = (0..20).map(|k| {
        let svc = &replicas[k % 2];
        // Half want the same username, so some lose it to the others.
        let wanted = if k % 4 < 2 { "shared" } else { "own" };
        async move {
            svc.saw(&subject(&format!("u{}", k / 2), Some(wanted), None))
                .await
                .unwrap()
        }
    });
    futures::future::join_all(sights).await;
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM users").await, 10);
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM users WHERE username = 'shared'")
            .await,
        1
    );
}

/// Migration 0008's backfill, on rows an older schema left without users.
async fn the_upgrade_makes_a_user_of_everyone_with_lists_or_conversations(h: &Harness) {
    h.svc.create(&alice(), &titled("milk"), None).await.unwrap();
    h.svc.start_conversation("carol", "hello").await.unwrap();
    h.raw.exec("DELETE FROM users").await;
    let migration = match &h.raw {
        harness::Raw::Sqlite(_) => include_str!("../../migrations/sqlite/0008_users.sql"),
        harness::Raw::Postgres(_) => include_str!("../../migrations/postgres/0008_users.sql"),
    };
    let (_, backfill) = migration
        .split_once("-- Everyone who has lists, notifications or conversations already.")
        .expect("the migration marks its backfill");
    h.raw.exec(backfill).await;
    assert_eq!(
        h.raw
            .scalar(
                "SELECT COUNT(*) FROM users WHERE id IN ('alice', 'carol') \
                 AND username = id AND display_name = id"
            )
            .await,
        2
    );
    assert_eq!(h.raw.scalar("SELECT COUNT(*) FROM users").await, 2);
}

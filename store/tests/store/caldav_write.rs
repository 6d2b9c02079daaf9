//! CalDAV's writes in the store (plan 26 §5–§7): a `PUT` creates, updates
//! or changes nothing (an echo), under its preconditions and the caller's
//! role; a UID is one task of its owner (a `PUT` into another list moves
//! it, history and all); each client's way of completing a recurring task
//! completes it once; a subtask may come before its parent; `DELETE` and
//! `MOVE` are the task service's delete and move.

use chrono::{DateTime, Utc};
use taskflow_core::calendar::{Extra, Uids, render_object};
use taskflow_core::{CreateList, Grant, ListRef, TransferList};
use taskflow_store::{DavRefusal, Preconditions, PutOutcome, TaskService, default_href};

use super::*;

on_both_databases!(
    a_put_creates_updates_and_an_echo_changes_nothing,
    preconditions_refuse_a_stale_tag_and_a_second_create,
    viewers_and_archived_lists_cannot_write_and_unreached_lists_are_not_found,
    a_uid_is_one_task_of_its_owner_and_a_put_elsewhere_moves_it,
    each_recurring_completion_style_completes_the_task_once,
    a_subtask_put_before_or_after_its_parent_ends_under_it,
    a_delete_removes_the_task_and_its_name_is_reported_gone,
    a_move_renames_or_moves_the_resource_and_keeps_its_history,
    a_renamed_resource_is_reported_gone_under_its_old_name,
    a_transfer_takes_the_client_names_to_the_new_owner,
);

const URL: &str = "https://tasks.example.com";

/// One to-do of `uid` in a VCALENDAR; `lines` end with `\n`.
fn vtodo(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VTODO\r\nUID:{uid}\r\n{}\
         END:VTODO\r\nEND:VCALENDAR\r\n",
        lines.replace('\n', "\r\n")
    )
}

fn no_conditions() -> Preconditions {
    Preconditions::default()
}

fn if_match(etag: &str) -> Preconditions {
    Preconditions {
        if_match: Some(vec![etag.to_owned()]),
        if_none_match_any: false,
    }
}

async fn put(
    svc: &TaskService,
    user: &str,
    list: i64,
    href: &str,
    body: &str,
) -> Result<PutOutcome, DavRefusal> {
    svc.dav_put(user, list, href, body, &no_conditions())
        .await
        .unwrap()
}

fn created(outcome: Result<PutOutcome, DavRefusal>) -> i64 {
    match outcome {
        Ok(PutOutcome::Created { task_id }) => task_id,
        other => panic!("expected a create, got {other:?}"),
    }
}

async fn new_list(svc: &TaskService, user: &Actor, title: &str) -> i64 {
    let list = CreateList {
        title: title.into(),
        ..CreateList::default()
    };
    svc.create_list(user, &list).await.unwrap().id
}

async fn etag(svc: &TaskService, list: i64, href: &str) -> String {
    let named = svc.dav_named(list, &[href], false).await.unwrap();
    named[0].etag.clone()
}

async fn saw(svc: &TaskService, id: &str) {
    svc.saw(&taskflow_core::Subject {
        id: id.into(),
        username: Some(format!("{id}-name")),
        name: Some(format!("{id} display")),
    })
    .await
    .unwrap();
}

/// Invites `who` as `role` to `list` of alice, and accepts.
async fn share(svc: &TaskService, list: i64, who: &str, role: Grant) {
    saw(svc, "alice").await;
    saw(svc, who).await;
    let invite = taskflow_core::CreateInvitation {
        username: format!("{who}-name"),
        role,
    };
    let invitation = svc.invite(&alice(), list, &invite).await.unwrap();
    svc.accept_invitation(&Actor::new(who, Source::Api), invitation.id)
        .await
        .unwrap();
}

/// What the task's resource shows, rendered as a client would get it.
async fn rendered(svc: &TaskService, list: i64, href: &str) -> String {
    let named = svc.dav_named(list, &[href], true).await.unwrap();
    let body = named[0].body.clone().unwrap();
    let mut uids = Uids::default_for(&body.item, URL);
    if let Some(uid) = body.uid {
        uids.task = uid;
    }
    if body.parent_uid.is_some() {
        uids.parent = body.parent_uid;
    }
    let extra: Extra = serde_json::from_value(body.extra).unwrap();
    render_object(URL, &body.item, &uids, &extra)
}

async fn a_put_creates_updates_and_an_echo_changes_nothing(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    let token = svc.dav_changes(home, None, 100).await.unwrap().token;
    let body = vtodo(
        "phone-1",
        "SUMMARY:Buy milk\nPRIORITY:1\nCATEGORIES:Errands\nX-PHONE-COLOR:red\n",
    );
    let id = created(put(svc, "alice", home, "phone-1.ics", &body).await);
    let task = svc.get("alice", id).await.unwrap();
    assert_eq!((task.title.as_str(), task.list_id), ("Buy milk", home));
    assert_eq!(task.tags, ["errands"]);
    // The sync report names it by the client's name; its UID and what
    // Taskflow does not model come back.
    let changes = svc.dav_changes(home, Some(token), 100).await.unwrap();
    assert_eq!(changes.changed.len(), 1);
    assert_eq!(changes.changed[0].href, "phone-1.ics");
    assert_eq!(changes.changed[0].task_id, id);
    let named = svc.dav_named(home, &["phone-1.ics"], true).await.unwrap();
    let shown = named[0].body.clone().unwrap();
    assert_eq!(shown.uid.as_deref(), Some("phone-1"));
    assert!(
        shown.extra.to_string().contains("X-PHONE-COLOR:red"),
        "{}",
        shown.extra
    );
    let events: Vec<_> = svc.history("alice", id, None, None).await.unwrap().entries;
    assert_eq!(events.len(), 1);

    // An update replaces the fields (absent ones clear).
    let renamed = vtodo("phone-1", "SUMMARY:Buy oat milk\nX-PHONE-COLOR:red\n");
    assert_eq!(
        put(svc, "alice", home, "phone-1.ics", &renamed).await,
        Ok(PutOutcome::Updated { task_id: id })
    );
    let task = svc.get("alice", id).await.unwrap();
    assert_eq!(task.title, "Buy oat milk");
    assert!(task.tags.is_empty());
    assert_eq!(task.version, 2);

    // The same body again, and what the resource shows: no write.
    assert_eq!(
        put(svc, "alice", home, "phone-1.ics", &renamed).await,
        Ok(PutOutcome::Unchanged { task_id: id })
    );
    let echo = rendered(svc, home, "phone-1.ics").await;
    assert_eq!(
        put(svc, "alice", home, "phone-1.ics", &echo).await,
        Ok(PutOutcome::Unchanged { task_id: id })
    );
    assert_eq!(svc.get("alice", id).await.unwrap().version, 2);

    // A change only Taskflow does not model still moves the tag.
    let recoloured = vtodo("phone-1", "SUMMARY:Buy oat milk\nX-PHONE-COLOR:blue\n");
    assert_eq!(
        put(svc, "alice", home, "phone-1.ics", &recoloured).await,
        Ok(PutOutcome::Updated { task_id: id })
    );
    assert_eq!(svc.get("alice", id).await.unwrap().version, 3);
    assert_eq!(etag(svc, home, "phone-1.ics").await, format!("\"{id}-3\""));

    // A task made elsewhere, by its default name: updated, named as before.
    let rest = svc
        .create(
            &alice(),
            &CreateTask {
                list: Some(ListRef::Id(home)),
                ..titled("from the web")
            },
            None,
        )
        .await
        .unwrap();
    let own = rendered(svc, home, &default_href(rest.id)).await;
    assert_eq!(
        put(svc, "alice", home, &default_href(rest.id), &own).await,
        Ok(PutOutcome::Unchanged { task_id: rest.id })
    );
    let done = own.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED");
    assert_eq!(
        put(svc, "alice", home, &default_href(rest.id), &done).await,
        Ok(PutOutcome::Updated { task_id: rest.id })
    );
    assert!(svc.get("alice", rest.id).await.unwrap().completed);
    let history = svc.history("alice", rest.id, None, None).await.unwrap();
    assert!(history.entries.iter().any(|e| e.source == Source::Caldav));
}

async fn preconditions_refuse_a_stale_tag_and_a_second_create(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    let create_only = Preconditions {
        if_match: None,
        if_none_match_any: true,
    };
    let body = vtodo("p-1", "SUMMARY:one\n");
    let outcome = svc
        .dav_put("alice", home, "p-1.ics", &body, &create_only)
        .await
        .unwrap();
    let id = created(outcome);
    let first = etag(svc, home, "p-1.ics").await;
    // If-None-Match: * on an existing resource.
    let again = svc
        .dav_put("alice", home, "p-1.ics", &body, &create_only)
        .await
        .unwrap();
    assert_eq!(again, Err(DavRefusal::PreconditionFailed));
    // If-Match with the tag read: written; with that tag again: stale.
    let two = vtodo("p-1", "SUMMARY:two\n");
    let outcome = svc
        .dav_put("alice", home, "p-1.ics", &two, &if_match(&first))
        .await
        .unwrap();
    assert_eq!(outcome, Ok(PutOutcome::Updated { task_id: id }));
    let three = vtodo("p-1", "SUMMARY:three\n");
    let stale = svc
        .dav_put("alice", home, "p-1.ics", &three, &if_match(&first))
        .await
        .unwrap();
    assert_eq!(stale, Err(DavRefusal::PreconditionFailed));
    assert_eq!(svc.get("alice", id).await.unwrap().title, "two");
    // If-Match on a resource that is not there.
    let missing = svc
        .dav_put("alice", home, "p-2.ics", &vtodo("p-2", ""), &if_match("*"))
        .await
        .unwrap();
    assert_eq!(missing, Err(DavRefusal::PreconditionFailed));
    // A stale tag on a delete.
    let deleted = svc
        .dav_delete("alice", home, "p-1.ics", &if_match(&first))
        .await
        .unwrap();
    assert_eq!(deleted, Err(DavRefusal::PreconditionFailed));
    // A body that is not a to-do.
    let event = body.replace("VTODO", "VEVENT");
    assert!(matches!(
        put(svc, "alice", home, "e.ics", &event).await,
        Err(DavRefusal::Invalid(_))
    ));
}

async fn viewers_and_archived_lists_cannot_write_and_unreached_lists_are_not_found(h: &Harness) {
    let svc = &h.svc;
    let shared = new_list(svc, &alice(), "Shared").await;
    let private = new_list(svc, &alice(), "Private").await;
    share(svc, shared, "bob", Grant::Viewer).await;
    let body = vtodo("v-1", "SUMMARY:from bob\n");
    assert_eq!(
        put(svc, "bob", shared, "v-1.ics", &body).await,
        Err(DavRefusal::NeedPrivileges)
    );
    assert_eq!(
        put(svc, "bob", private, "v-1.ics", &body).await,
        Err(DavRefusal::NotFound)
    );
    let id = created(put(svc, "alice", shared, "v-1.ics", &body).await);
    assert_eq!(
        svc.dav_delete("bob", shared, "v-1.ics", &no_conditions())
            .await
            .unwrap(),
        Err(DavRefusal::NeedPrivileges)
    );
    svc.archive_list(&alice(), shared, None).await.unwrap();
    assert_eq!(
        put(
            svc,
            "alice",
            shared,
            "v-1.ics",
            &vtodo("v-1", "SUMMARY:x\n")
        )
        .await,
        Err(DavRefusal::NeedPrivileges)
    );
    assert_eq!(svc.get("alice", id).await.unwrap().title, "from bob");
}

async fn a_uid_is_one_task_of_its_owner_and_a_put_elsewhere_moves_it(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    let work = new_list(svc, &alice(), "Work").await;
    let body = vtodo("u-1", "SUMMARY:call the plumber\n");
    let id = created(put(svc, "alice", home, "u-1.ics", &body).await);
    // The same UID under another name of the same list.
    assert_eq!(
        put(svc, "alice", home, "other.ics", &body).await,
        Err(DavRefusal::UidConflict {
            href: Some((home, "u-1.ics".into()))
        })
    );
    let home_token = svc.dav_changes(home, None, 100).await.unwrap().token;
    // In another list: the task moves there, renamed, with its history.
    let moved = vtodo("u-1", "SUMMARY:call the plumber today\n");
    assert_eq!(
        put(svc, "alice", work, "plumber.ics", &moved).await,
        Ok(PutOutcome::Updated { task_id: id })
    );
    let task = svc.get("alice", id).await.unwrap();
    assert_eq!(
        (task.list_id, task.title.as_str()),
        (work, "call the plumber today")
    );
    let history = svc.history("alice", id, None, None).await.unwrap().entries;
    assert_eq!(history.len(), 2, "created, then moved: one task");
    assert_eq!(
        svc.dav_named(work, &["plumber.ics"], false).await.unwrap()[0].task_id,
        id
    );
    let home_changes = svc.dav_changes(home, Some(home_token), 100).await.unwrap();
    assert!(home_changes.changed.is_empty());
    // The client's DELETE of the old name then finds nothing.
    assert_eq!(
        svc.dav_delete("alice", home, "u-1.ics", &no_conditions())
            .await
            .unwrap(),
        Err(DavRefusal::NotFound)
    );
    // A member of one list cannot take the owner's task from another.
    share(svc, home, "bob", Grant::Editor).await;
    assert_eq!(
        put(svc, "bob", home, "bobs.ics", &moved).await,
        Err(DavRefusal::UidConflict { href: None })
    );
    // Nor learn which ids are the owner's tasks elsewhere: Taskflow's own
    // UID of a task bob cannot read is refused as one naming no task, and
    // no other task takes it.
    let private = svc
        .create(
            &alice(),
            &CreateTask {
                list: Some(ListRef::Id(work)),
                ..titled("private")
            },
            None,
        )
        .await
        .unwrap()
        .id;
    let mut answers = Vec::new();
    for (n, id) in [private, private + 1000].into_iter().enumerate() {
        let uid = format!("taskflow-task-{id}@tasks.example.com");
        let body = vtodo(&uid, "SUMMARY:probe\n");
        match put(svc, "bob", home, &format!("probe-{n}.ics"), &body).await {
            Err(DavRefusal::Invalid(refused)) => {
                answers.push(refused.to_string().replace(&uid, "UID"));
            }
            other => panic!("{uid}: {other:?}"),
        }
    }
    assert_eq!(answers[0], answers[1], "the same answer either way");
    // Alice's own task PUT by its UID into a list bob shares with her (an
    // app moving it between owners: PUT there, DELETE here) is a new to-do
    // there, which keeps that UID through its next edits.
    let bobs = new_list(svc, &bob(), "Bob's").await;
    share_from_bob(svc, bobs).await;
    let uid = format!("taskflow-task-{private}@tasks.example.com");
    let copy = created(
        put(
            svc,
            "alice",
            bobs,
            "copy.ics",
            &vtodo(&uid, "SUMMARY:private\n"),
        )
        .await,
    );
    assert_ne!(copy, private);
    assert_eq!(
        put(
            svc,
            "alice",
            bobs,
            "copy.ics",
            &vtodo(&uid, "SUMMARY:private, edited\n")
        )
        .await,
        Ok(PutOutcome::Updated { task_id: copy })
    );
    assert_eq!(
        svc.get("alice", private).await.unwrap().list_id,
        work,
        "left where it is"
    );
    // A name the owner uses in another list is taken.
    assert_eq!(
        put(svc, "alice", home, "plumber.ics", &vtodo("u-2", "")).await,
        Err(DavRefusal::NameTaken)
    );
}

/// Weekly on Tuesdays at 09:00 Berlin from 10 November, four in all,
/// under `uid`, as a client first sends it.
fn weekly(uid: &str) -> String {
    vtodo(
        uid,
        "SUMMARY:Water plants\nDUE;TZID=Europe/Berlin:20261110T090000\n\
         RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4\n",
    )
}

fn fixture(name: &str, uid: &str) -> String {
    let path = format!(
        "{}/../core/tests/fixtures/vtodo/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.replace("taskflow-task-7@tasks.example.com", uid)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn each_recurring_completion_style_completes_the_task_once(h: &Harness) {
    let svc = &h.svc;
    h.clock.set(at("2026-11-10T12:00:00Z"));
    let garden = new_list(svc, &alice(), "Garden").await;
    // (name, completes): python-caldav's `complete()`, Thunderbird's done
    // override, tasks.org's reschedule; python-caldav's `safe` mode is an
    // edit of the due (its completed copy is a task of its own).
    let styles = [
        ("python-caldav-complete.ics", true),
        ("thunderbird-override-done.ics", true),
        ("tasks-org-rescheduled.ics", true),
        ("python-caldav-safe.ics", false),
    ];
    for (n, (name, completes)) in styles.into_iter().enumerate() {
        let uid = format!("water-{n}@phone");
        let href = format!("water-{n}.ics");
        let id = created(put(svc, "alice", garden, &href, &weekly(&uid)).await);
        let outcome = put(svc, "alice", garden, &href, &fixture(name, &uid)).await;
        assert_eq!(outcome, Ok(PutOutcome::Updated { task_id: id }), "{name}");
        let task = svc.get("alice", id).await.unwrap();
        assert_eq!(task.completed, completes, "{name}");
        // A completion is the `completed` event the Recurrence worker hears.
        let history = svc.history("alice", id, None, None).await.unwrap();
        let completed = history
            .entries
            .iter()
            .filter(|e| e.event_type == TaskEventType::Completed && e.source == Source::Caldav)
            .count();
        assert_eq!(completed, usize::from(completes), "{name}");
        let event_id = uuid::Uuid::now_v7();
        let next = svc
            .next_occurrence("recurrence", event_id, "alice", id)
            .await
            .unwrap();
        if !completes {
            assert!(next.is_none(), "{name}");
            assert!(task.due.unwrap().starts_with("2026-11-17T13:00"), "{name}");
            continue;
        }
        // The occurrence keeps its due; the next is a week on.
        assert!(task.due.unwrap().starts_with("2026-11-10T09:00"), "{name}");
        let next = next.unwrap_or_else(|| panic!("{name}: no next occurrence"));
        assert!(
            next.due.clone().unwrap().starts_with("2026-11-17T09:00"),
            "{name}"
        );
        assert!(!next.completed);
        let done = h
            .raw
            .scalar(&format!(
                "SELECT COUNT(*) FROM tasks WHERE list_id = {garden} AND completed \
                 AND (id = {id} OR previous_id = {id})"
            ))
            .await;
        assert_eq!(done, 1, "{name}: exactly one completed occurrence");
    }
    // Completed as it moves to another list (its UID PUT there): still the
    // `completed` event the Recurrence worker hears, once.
    let errands = new_list(svc, &alice(), "Errands").await;
    let uid = "water-moved@phone";
    let id = created(put(svc, "alice", garden, "water-moved.ics", &weekly(uid)).await);
    // With an open subtask, which is completed and moves along.
    let step = CreateTask {
        parent: Some(id),
        list: Some(ListRef::Id(garden)),
        ..titled("fill the can")
    };
    let step = svc.create(&alice(), &step, None).await.unwrap().id;
    let done = fixture("python-caldav-complete.ics", uid);
    assert_eq!(
        put(svc, "alice", errands, "water-moved.ics", &done).await,
        Ok(PutOutcome::Updated { task_id: id })
    );
    let task = svc.get("alice", id).await.unwrap();
    assert!(task.completed && task.list_id == errands);
    let step = svc.get("alice", step).await.unwrap();
    assert!(step.completed && step.list_id == errands, "{step:?}");
    let history = svc.history("alice", id, None, None).await.unwrap().entries;
    let kinds: Vec<_> = history.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == TaskEventType::Completed)
            .count(),
        1,
        "{kinds:?}"
    );
}

async fn a_subtask_put_before_or_after_its_parent_ends_under_it(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    // After: the parent is there.
    let parent = created(put(svc, "alice", home, "p.ics", &vtodo("p", "SUMMARY:move\n")).await);
    let child_body = vtodo("c", "SUMMARY:pack\nRELATED-TO;RELTYPE=PARENT:p\n");
    let child = created(put(svc, "alice", home, "c.ics", &child_body).await);
    let task = svc.get("alice", child).await.unwrap();
    assert_eq!(task.parent.map(|p| p.id), Some(parent));
    assert_eq!(
        put(svc, "alice", home, "c.ics", &child_body).await,
        Ok(PutOutcome::Unchanged { task_id: child })
    );
    // Before: it waits, shown with the parent it named, and goes under the
    // parent when that comes.
    let early_body = vtodo("e", "SUMMARY:label boxes\nRELATED-TO:late\n");
    let early = created(put(svc, "alice", home, "e.ics", &early_body).await);
    assert!(svc.get("alice", early).await.unwrap().parent.is_none());
    let named = svc.dav_named(home, &["e.ics"], true).await.unwrap();
    assert_eq!(
        named[0].body.as_ref().unwrap().parent_uid.as_deref(),
        Some("late")
    );
    assert_eq!(
        put(svc, "alice", home, "e.ics", &early_body).await,
        Ok(PutOutcome::Unchanged { task_id: early })
    );
    let late = created(
        put(
            svc,
            "alice",
            home,
            "late.ics",
            &vtodo("late", "SUMMARY:boxes\n"),
        )
        .await,
    );
    let task = svc.get("alice", early).await.unwrap();
    assert_eq!(task.parent.map(|p| p.id), Some(late));
    assert_eq!(
        put(svc, "alice", home, "e.ics", &early_body).await,
        Ok(PutOutcome::Unchanged { task_id: early })
    );
    // A parent in another list is not applied.
    let work = new_list(svc, &alice(), "Work").await;
    let far = vtodo("far", "SUMMARY:far\nRELATED-TO:p\n");
    let far = created(put(svc, "alice", work, "far.ics", &far).await);
    assert!(svc.get("alice", far).await.unwrap().parent.is_none());
    // Completing the parent by PUT completes its subtask too.
    let done = vtodo("p", "SUMMARY:move\nSTATUS:COMPLETED\n");
    assert_eq!(
        put(svc, "alice", home, "p.ics", &done).await,
        Ok(PutOutcome::Updated { task_id: parent })
    );
    assert!(svc.get("alice", child).await.unwrap().completed);
    // Dropping RELATED-TO makes it a top-level task again.
    let alone = vtodo("c", "SUMMARY:pack\nSTATUS:COMPLETED\n");
    put(svc, "alice", home, "c.ics", &alone).await.unwrap();
    assert!(svc.get("alice", child).await.unwrap().parent.is_none());
}

async fn a_delete_removes_the_task_and_its_name_is_reported_gone(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    let parent = created(put(svc, "alice", home, "d.ics", &vtodo("d", "SUMMARY:d\n")).await);
    let below = vtodo("d2", "SUMMARY:d2\nRELATED-TO:d\n");
    let child = created(put(svc, "alice", home, "d2.ics", &below).await);
    let token = svc.dav_changes(home, None, 100).await.unwrap().token;
    let tag = etag(svc, home, "d.ics").await;
    assert_eq!(
        svc.dav_delete("alice", home, "d.ics", &if_match(&tag))
            .await
            .unwrap(),
        Ok(())
    );
    for id in [parent, child] {
        assert!(matches!(svc.get("alice", id).await, Err(Error::NotFound)));
    }
    let mut gone = svc.dav_changes(home, Some(token), 100).await.unwrap().gone;
    gone.sort();
    assert_eq!(gone, ["d.ics", "d2.ics"]);
    assert_eq!(
        svc.dav_delete("alice", home, "d.ics", &no_conditions())
            .await
            .unwrap(),
        Err(DavRefusal::NotFound)
    );
    // The UID and the name are free again.
    created(put(svc, "alice", home, "d.ics", &vtodo("d", "SUMMARY:again\n")).await);
}

async fn a_move_renames_or_moves_the_resource_and_keeps_its_history(h: &Harness) {
    let svc = &h.svc;
    let home = new_list(svc, &alice(), "Home").await;
    let work = new_list(svc, &alice(), "Work").await;
    let id = created(put(svc, "alice", home, "m.ics", &vtodo("m", "SUMMARY:m\n")).await);
    let other = created(put(svc, "alice", work, "taken.ics", &vtodo("t", "SUMMARY:t\n")).await);
    let keep = no_conditions();
    // Onto an existing resource without Overwrite: refused.
    assert_eq!(
        svc.dav_move("alice", home, "m.ics", work, "taken.ics", false, &keep)
            .await
            .unwrap(),
        Err(DavRefusal::PreconditionFailed)
    );
    // Renamed in its list.
    assert_eq!(
        svc.dav_move("alice", home, "m.ics", home, "renamed.ics", false, &keep)
            .await
            .unwrap(),
        Ok(PutOutcome::Created { task_id: id }),
        "a new resource at the destination: 201"
    );
    assert!(
        svc.dav_named(home, &["m.ics"], false)
            .await
            .unwrap()
            .is_empty()
    );
    // Moved to the other list.
    assert_eq!(
        svc.dav_move(
            "alice",
            home,
            "renamed.ics",
            work,
            "moved.ics",
            false,
            &keep
        )
        .await
        .unwrap(),
        Ok(PutOutcome::Created { task_id: id })
    );
    assert_eq!(svc.get("alice", id).await.unwrap().list_id, work);
    let named = svc.dav_named(work, &["moved.ics"], true).await.unwrap();
    assert_eq!(named[0].task_id, id);
    assert_eq!(named[0].body.as_ref().unwrap().uid.as_deref(), Some("m"));
    // Overwrite: the task there is replaced.
    assert_eq!(
        svc.dav_move("alice", work, "moved.ics", work, "taken.ics", true, &keep)
            .await
            .unwrap(),
        Ok(PutOutcome::Updated { task_id: id }),
        "a resource replaced: 204"
    );
    assert!(matches!(
        svc.get("alice", other).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        svc.dav_named(work, &["taken.ics"], false).await.unwrap()[0].task_id,
        id
    );
    let history = svc.history("alice", id, None, None).await.unwrap().entries;
    assert_eq!(history.len(), 4, "created, renamed, moved, renamed");
    // A task Taskflow named moves too, and keeps its UID.
    let rest = svc
        .create(
            &alice(),
            &CreateTask {
                list: Some(ListRef::Id(home)),
                ..titled("web")
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        svc.dav_move(
            "alice",
            home,
            &default_href(rest.id),
            work,
            "web.ics",
            false,
            &keep
        )
        .await
        .unwrap(),
        Ok(PutOutcome::Created { task_id: rest.id })
    );
    let named = svc.dav_named(work, &["web.ics"], true).await.unwrap();
    assert_eq!(
        named[0].body.as_ref().unwrap().uid,
        None,
        "Taskflow's own UID"
    );
    // Into another owner's list: refused.
    let bobs = new_list(svc, &bob(), "Bob's").await;
    share_from_bob(svc, bobs).await;
    assert_eq!(
        svc.dav_move("alice", work, "web.ics", bobs, "web.ics", false, &keep)
            .await
            .unwrap(),
        Err(DavRefusal::OtherOwner)
    );
}

/// What a sync report of `list` since `token` says: (changed, gone) names.
async fn since(svc: &TaskService, list: i64, token: i64) -> (Vec<String>, Vec<String>) {
    let changes = svc.dav_changes(list, Some(token), 100).await.unwrap();
    let changed = changes.changed.into_iter().map(|o| o.href).collect();
    (changed, changes.gone)
}

async fn token(svc: &TaskService, list: i64) -> i64 {
    svc.dav_changes(list, None, 100).await.unwrap().token
}

async fn a_renamed_resource_is_reported_gone_under_its_old_name(h: &Harness) {
    use taskflow_store::Clock;
    use taskflow_store::retention::Retention;
    let svc = &h.svc;
    let keep = no_conditions();
    let home = new_list(svc, &alice(), "Home").await;
    let work = new_list(svc, &alice(), "Work").await;
    created(put(svc, "alice", home, "r.ics", &vtodo("r", "SUMMARY:r\n")).await);
    // Renamed in its list: the old name is gone, the new one changed.
    let before = token(svc, home).await;
    svc.dav_move("alice", home, "r.ics", home, "renamed.ics", false, &keep)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        since(svc, home, before).await,
        (vec!["renamed.ics".to_owned()], vec!["r.ics".to_owned()])
    );
    // The old name given to a new to-do is that one's, present.
    let before = token(svc, home).await;
    created(put(svc, "alice", home, "r.ics", &vtodo("n", "SUMMARY:n\n")).await);
    svc.dav_move(
        "alice",
        home,
        "renamed.ics",
        home,
        "again.ics",
        false,
        &keep,
    )
    .await
    .unwrap()
    .unwrap();
    let (changed, gone) = since(svc, home, before).await;
    assert_eq!(
        gone,
        ["renamed.ics"],
        "r.ics is the new to-do's: {changed:?}"
    );
    // A later report after only the renamed task changes: r.ics still
    // belongs to the new to-do, so it is not reported gone (a retired name
    // no task holds may be reported again: a client without it ignores it).
    let before = token(svc, home).await;
    put(
        svc,
        "alice",
        home,
        "again.ics",
        &vtodo("r", "SUMMARY:r again\n"),
    )
    .await
    .unwrap();
    let (changed, gone) = since(svc, home, before).await;
    assert_eq!(changed, ["again.ics"]);
    assert!(!gone.contains(&"r.ics".to_owned()), "{gone:?}");
    // Moved and renamed into another list (MOVE, then a phone's PUT of its
    // UID there): its old list reports the name it had there.
    let before = token(svc, home).await;
    svc.dav_move("alice", home, "again.ics", work, "moved.ics", false, &keep)
        .await
        .unwrap()
        .unwrap();
    assert!(
        since(svc, home, before)
            .await
            .1
            .contains(&"again.ics".to_owned())
    );
    let moved = created(put(svc, "alice", home, "m.ics", &vtodo("m", "SUMMARY:m\n")).await);
    let before = token(svc, home).await;
    assert_eq!(
        put(
            svc,
            "alice",
            work,
            "m-at-work.ics",
            &vtodo("m", "SUMMARY:m\n")
        )
        .await,
        Ok(PutOutcome::Updated { task_id: moved })
    );
    assert!(
        since(svc, home, before)
            .await
            .1
            .contains(&"m.ics".to_owned())
    );
    // Renamed back: the name is no longer retired.
    let before = token(svc, work).await;
    svc.dav_move("alice", work, "moved.ics", work, "again.ics", false, &keep)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        since(svc, work, before).await,
        (vec!["again.ics".to_owned()], vec!["moved.ics".to_owned()])
    );
    // Retention forgets retired names once the events up to them are gone.
    let retired = "SELECT COUNT(*) FROM task_ical_retired";
    assert!(h.raw.scalar(retired).await > 0);
    let db = svc.database();
    let events = db.events_after("alice", 0, 1_000).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    h.clock.set(h.clock.now() + chrono::Duration::days(31));
    let prune = Retention::default();
    db.prune(h.clock.now(), &prune).await.unwrap().unwrap();
    assert!(
        h.raw.scalar(retired).await > 0,
        "kept while their events are held"
    );
    db.mark_published(&sequences, h.clock.now() - chrono::Duration::days(31))
        .await
        .unwrap();
    let mut rounds = 0;
    while h.raw.scalar(retired).await > 0 {
        db.prune(h.clock.now(), &prune).await.unwrap().unwrap();
        rounds += 1;
        assert!(rounds < 5, "retired names are never pruned");
    }
}

/// Shares bob's list `list` with alice as an editor.
async fn share_from_bob(svc: &TaskService, list: i64) {
    saw(svc, "alice").await;
    saw(svc, "bob").await;
    let invite = taskflow_core::CreateInvitation {
        username: "alice-name".into(),
        role: Grant::Editor,
    };
    let invitation = svc.invite(&bob(), list, &invite).await.unwrap();
    svc.accept_invitation(&alice(), invitation.id)
        .await
        .unwrap();
}

async fn a_transfer_takes_the_client_names_to_the_new_owner(h: &Harness) {
    let svc = &h.svc;
    let shared = new_list(svc, &alice(), "Shared").await;
    let body = vtodo("gift", "SUMMARY:gift\n");
    let id = created(put(svc, "alice", shared, "gift.ics", &body).await);
    // Bob has that name and UID already, in a list of his own.
    let bobs = new_list(svc, &bob(), "Mine").await;
    let clash = vtodo("clash", "SUMMARY:clash\n");
    created(put(svc, "bob", bobs, "clash.ics", &clash).await);
    let kept = vtodo("clash", "SUMMARY:clash\nX-CLIENT-COLOUR:teal\n");
    let clashing = created(put(svc, "alice", shared, "clash.ics", &kept).await);
    share(svc, shared, "bob", Grant::Editor).await;
    let before = token(svc, shared).await;
    let to_bob = TransferList { user: "bob".into() };
    svc.transfer_list(&alice(), shared, &to_bob).await.unwrap();
    // The UID is bob's now: his PUT of it into his own list moves the
    // same task there.
    let renamed = vtodo("gift", "SUMMARY:gift for carol\n");
    assert_eq!(
        put(svc, "bob", bobs, "gift.ics", &renamed).await,
        Ok(PutOutcome::Updated { task_id: id })
    );
    assert_eq!(svc.get("bob", id).await.unwrap().list_id, bobs);
    // The clashing one took Taskflow's own UID and name, keeping what else
    // the client gave it; a token from before the transfer is refused, so
    // a client syncs the list anew.
    let href = default_href(clashing);
    let named = svc.dav_named(shared, &[&href], true).await.unwrap();
    assert_eq!(named[0].body.as_ref().unwrap().uid, None);
    let text = rendered(svc, shared, &href).await;
    assert!(text.contains("X-CLIENT-COLOUR:teal"), "{text}");
    assert!(
        text.contains(&format!("UID:taskflow-task-{clashing}@")),
        "{text}"
    );
    assert!(matches!(
        svc.dav_changes(shared, Some(before), 100).await,
        Err(Error::CursorExpired { .. })
    ));
    let anew = svc.dav_changes(shared, None, 100).await.unwrap();
    let names: Vec<_> = anew.changed.iter().map(|o| o.href.as_str()).collect();
    assert_eq!(names, [href.as_str()]);
}

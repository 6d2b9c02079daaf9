//! Sharing, isolation first: a table of every store operation, with the ids
//! of a shared list and its tasks in the arguments and in the input, run
//! by the owner, an editor, a viewer, a non-member and a member removed
//! mid-test. The non-member and the removed member get exactly what a
//! missing id gets; a viewer's write is `Forbidden` naming the role needed.
//! Then what members can do: invitations, the nearest grant, archiving
//! above them, the owner staying, and changes credited to who made them.

use super::*;
use futures::FutureExt as _;
use taskflow_core::{
    CreateInvitation, CreateList, DeleteList, Grant, LinkKind, ListRef, ListsQuery, MoveList,
    MoveTask, NotificationKind, NotificationQuery, Role, Subject, TaskInclude, TransferList,
    UpdateList, UpdateMember, WriteComment,
};
use taskflow_store::TaskService;

on_both_databases!(
    every_operation_gives_each_role_exactly_what_it_may,
    an_accepted_invitation_makes_a_member_who_works_in_the_list_as_themselves,
    the_nearest_grant_wins_and_an_archived_list_above_a_member_is_read_only,
    the_owner_stays_the_inbox_is_never_shared_and_tasks_stay_with_their_owner,
    invitations_are_seen_and_answered_only_by_their_invitee,
    live_views_reach_the_members_of_the_moment_and_replay_only_what_each_may_see_now,
    assignees_are_members_of_the_moment_and_each_task_keeps_who_made_and_changed_it,
    a_members_tags_count_the_shared_lists_tasks_and_nothing_else,
    people_are_told_what_others_do_to_them_once_and_never_after_they_leave,
    a_list_given_to_a_member_takes_its_lists_and_tasks_and_the_giver_stays_as_admin,
    creates_racing_a_transfer_are_all_made_and_all_end_up_the_new_owners,
    a_series_given_away_before_its_next_occurrence_comes_back_under_its_new_owner,
);

fn user(id: &str) -> Actor {
    Actor::new(id, Source::Api)
}

/// What an operation came to, as a surface would tell it.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Done,
    /// A 404: `task`, or the field naming a list, or `user`.
    Missing(String),
    Forbidden(Role),
    Refused(&'static str),
    Invalid(String),
}

fn outcome<T>(result: Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(Error::NotFound) => Outcome::Missing("task".into()),
        Err(Error::NoSuchList { field }) => Outcome::Missing(field.into()),
        Err(Error::NoSuchUser { field }) => Outcome::Missing(field.into()),
        Err(Error::Forbidden { needed }) => Outcome::Forbidden(needed),
        Err(Error::Refused { code, .. }) => Outcome::Refused(code),
        Err(Error::Invalid(invalid)) => Outcome::Invalid(invalid.field),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// Alice's shared list Groceries (with Dairy nested in it) and its tasks,
/// her private list, and the others' own tasks.
struct World {
    groceries: i64,
    dairy: i64,
    private: i64,
    bread: i64,
    milk: i64,
    secret: i64,
}

async fn saw(svc: &TaskService, id: &str) {
    svc.saw(&Subject {
        id: id.into(),
        username: Some(format!("{id}-name")),
        name: Some(format!("{id} display")),
    })
    .await
    .unwrap();
}

/// Invites `who` as `role` to `list` and accepts.
async fn share(svc: &TaskService, owner: &str, list: i64, who: &str, role: Grant) {
    let invitation = svc
        .invite(
            &user(owner),
            list,
            &CreateInvitation {
                username: format!("{who}-name"),
                role,
            },
        )
        .await
        .unwrap();
    svc.accept_invitation(&user(who), invitation.id)
        .await
        .unwrap();
}

async fn world(h: &Harness) -> World {
    for id in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        saw(&h.svc, id).await;
    }
    let make = |title: &str, parent: Option<i64>| CreateList {
        title: title.into(),
        parent_id: parent,
        ..Default::default()
    };
    let svc = &h.svc;
    let groceries = svc
        .create_list(&alice(), &make("Groceries", None))
        .await
        .unwrap()
        .id;
    let dairy = svc
        .create_list(&alice(), &make("Dairy", Some(groceries)))
        .await
        .unwrap()
        .id;
    let private = svc
        .create_list(&alice(), &make("Diary", None))
        .await
        .unwrap()
        .id;
    let task = |title: &str, list: i64| CreateTask {
        list: Some(ListRef::Id(list)),
        ..titled(title)
    };
    let bread = svc
        .create(&alice(), &task("bread", groceries), None)
        .await
        .unwrap()
        .id;
    let milk = svc
        .create(&alice(), &task("milk", dairy), None)
        .await
        .unwrap()
        .id;
    let secret = svc
        .create(&alice(), &task("secret", private), None)
        .await
        .unwrap()
        .id;
    share(svc, "alice", groceries, "bob", Grant::Editor).await;
    share(svc, "alice", groceries, "carol", Grant::Viewer).await;
    share(svc, "alice", groceries, "erin", Grant::Editor).await;
    share(svc, "alice", groceries, "frank", Grant::Viewer).await;
    for who in ["bob", "dave", "erin"] {
        svc.create(&user(who), &titled(&format!("{who}'s own")), None)
            .await
            .unwrap();
    }
    // Erin was a member; she is removed before the table runs.
    svc.remove_member(&alice(), groceries, "erin")
        .await
        .unwrap();
    World {
        groceries,
        dairy,
        private,
        bread,
        milk,
        secret,
    }
}

/// Every operation on the shared list's ids, run by `who` on ids `w` (real
/// or missing): its name, whether it only reads, and its outcome. Writes
/// that would succeed are made on a fresh task or list, so one run leaves
/// the others' ids as they were.
async fn table(h: &Harness, who: &str, w: &World) -> Vec<(&'static str, Level, Outcome)> {
    let svc = &h.svc;
    let by = user(who);
    let own = svc
        .create(&by, &titled("own, to move and link"), None)
        .await
        .unwrap()
        .id;
    let in_list = |list: i64| ListQuery {
        list_id: Some(list),
        ..Default::default()
    };
    let all = TaskInclude {
        include: Some("children,links".into()),
    };
    let mut out = vec![
        (
            "get a task",
            Level::Read,
            outcome(svc.get(who, w.bread).await),
        ),
        (
            "get a task with subtasks and links",
            Level::Read,
            outcome(svc.get_detail(who, w.bread, &all).await),
        ),
        (
            "a task's history",
            Level::Read,
            outcome(svc.history(who, w.bread, None, None).await),
        ),
        (
            "list a list's tasks",
            Level::Read,
            outcome(svc.list(who, &in_list(w.groceries)).await),
        ),
        (
            "list a list and its sublists",
            Level::Read,
            outcome(
                svc.list(
                    who,
                    &ListQuery {
                        include_sublists: Some(true),
                        ..in_list(w.groceries)
                    },
                )
                .await,
            ),
        ),
        (
            "list a task's subtasks",
            Level::Read,
            outcome(
                svc.list(
                    who,
                    &ListQuery {
                        parent_id: Some(w.bread),
                        ..Default::default()
                    },
                )
                .await,
            ),
        ),
        (
            "get a list",
            Level::Read,
            outcome(svc.get_list(&by, w.groceries).await),
        ),
        (
            "a list's members",
            Level::Read,
            outcome(svc.members(&by, w.groceries).await),
        ),
    ];
    let fresh = |title: &'static str| async move {
        // A task of the list to change, made by its owner.
        svc.create(
            &alice(),
            &CreateTask {
                list: Some(ListRef::Id(w.groceries)),
                ..titled(title)
            },
            None,
        )
        .await
        .unwrap()
        .id
    };
    let real = w.bread < 1_000_000;
    let target = |id: i64| if real { id } else { w.bread };
    let (t1, t2, t3, t4, t5, t6, t7) = if real {
        (
            fresh("t1").await,
            fresh("t2").await,
            fresh("t3").await,
            fresh("t4").await,
            fresh("t5").await,
            fresh("t6").await,
            fresh("t7").await,
        )
    } else {
        (
            w.bread, w.bread, w.bread, w.bread, w.bread, w.bread, w.bread,
        )
    };
    let writes = vec![
        (
            "create a task in the list (id in the input)",
            outcome(
                svc.create(
                    &by,
                    &CreateTask {
                        list: Some(ListRef::Id(w.groceries)),
                        ..titled("new")
                    },
                    None,
                )
                .await,
            ),
        ),
        (
            "create a subtask (parent in the input)",
            outcome(
                svc.create(
                    &by,
                    &CreateTask {
                        parent: Some(target(t1)),
                        ..titled("sub")
                    },
                    None,
                )
                .await,
            ),
        ),
        (
            "update a task",
            outcome(
                svc.update(
                    &by,
                    t2,
                    &UpdateTask {
                        title: Some("renamed".into()),
                        ..Default::default()
                    },
                    None,
                )
                .await,
            ),
        ),
        (
            "complete a task",
            outcome(svc.complete(&by, t3, None, false).await),
        ),
        (
            "snooze a task",
            outcome(
                svc.snooze(
                    &by,
                    t4,
                    &SnoozeTask {
                        minutes: Some(10),
                        until: None,
                    },
                )
                .await,
            ),
        ),
        (
            "move a task to the top of its list",
            outcome(
                svc.move_task(
                    &by,
                    t5,
                    &MoveTask {
                        to: Some(taskflow_core::Edge::Top),
                        ..Default::default()
                    },
                    None,
                )
                .await,
            ),
        ),
        (
            "link a task of the list to another",
            outcome(svc.link(&by, t6, LinkKind::Relates, w.milk).await),
        ),
        ("delete a task", outcome(svc.delete(&by, t7, None).await)),
    ];
    out.extend(writes.into_iter().map(|(n, o)| (n, Level::Edit, o)));
    // Ids of the shared list in the input of the caller's own task: here
    // even an editor is refused, a task stays with its owner.
    out.push((
        "move an own task into the list (id in the input)",
        Level::Across,
        outcome(
            svc.move_task(
                &by,
                own,
                &MoveTask {
                    list: Some(ListRef::Id(w.groceries)),
                    ..Default::default()
                },
                None,
            )
            .await,
        ),
    ));
    let across = vec![(
        "link an own task to one of the list (id in the input)",
        outcome(svc.link(&by, own, LinkKind::Blocks, w.bread).await),
    )];
    out.extend(across.into_iter().map(|(n, o)| (n, Level::AcrossLink, o)));
    let admin = vec![
        (
            "rename the list",
            outcome(
                svc.update_list(
                    &by,
                    w.groceries,
                    &UpdateList {
                        title: Some("Shopping".into()),
                        ..Default::default()
                    },
                    None,
                )
                .await,
            ),
        ),
        (
            "archive the list",
            outcome(svc.archive_list(&by, w.dairy, None).await),
        ),
        (
            "move the list",
            outcome(
                svc.move_list(
                    &by,
                    w.dairy,
                    &MoveList {
                        to: Some(taskflow_core::Edge::Top),
                        ..Default::default()
                    },
                )
                .await,
            ),
        ),
        (
            "nest a new list in it (id in the input)",
            outcome(
                svc.create_list(
                    &by,
                    &CreateList {
                        title: "Nested".into(),
                        parent_id: Some(w.groceries),
                        ..Default::default()
                    },
                )
                .await,
            ),
        ),
        (
            "delete the list",
            outcome(
                svc.delete_list(&by, w.dairy, &DeleteList::default(), None)
                    .await,
            ),
        ),
        (
            "invite someone",
            outcome(
                svc.invite(
                    &by,
                    w.groceries,
                    &CreateInvitation {
                        username: "dave-name".into(),
                        role: Grant::Viewer,
                    },
                )
                .await,
            ),
        ),
        (
            "see the list's invitations",
            outcome(svc.list_invitations(&by, w.groceries).await),
        ),
        (
            "change a member's role",
            outcome(
                svc.update_member(
                    &by,
                    w.groceries,
                    "carol",
                    &UpdateMember {
                        role: Grant::Editor,
                    },
                )
                .await,
            ),
        ),
        (
            "remove a member",
            outcome(svc.remove_member(&by, w.groceries, "frank").await),
        ),
    ];
    out.extend(admin.into_iter().map(|(n, o)| (n, Level::Admin, o)));
    out
}

/// What an operation of the table needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Read,
    Edit,
    /// An id of the shared list in the input of one's own task: a move.
    Across,
    /// A link of one's own task to a task of the shared list.
    AcrossLink,
    Admin,
}

async fn every_operation_gives_each_role_exactly_what_it_may(h: &Harness) {
    let w = world(h).await;
    let missing = World {
        groceries: 9_000_001,
        dairy: 9_000_002,
        private: 9_000_003,
        bread: 9_000_004,
        milk: 9_000_005,
        secret: 9_000_006,
    };
    let mut cases = 0;
    for outsider in ["dave", "erin"] {
        let real = table(h, outsider, &w).await;
        let absent = table(h, outsider, &missing).await;
        for ((name, _, got), (_, _, expected)) in real.iter().zip(&absent) {
            assert_eq!(got, expected, "{outsider}: {name}");
            assert!(
                matches!(got, Outcome::Missing(_)) || *got == Outcome::Refused("other_owner"),
                "{outsider}: {name}: {got:?}"
            );
            cases += 1;
        }
    }
    for (member, role) in [("carol", Role::Viewer), ("bob", Role::Editor)] {
        for (name, level, got) in table(h, member, &w).await {
            let expected = match level {
                Level::Read => Outcome::Done,
                Level::Edit if role >= Role::Editor => Outcome::Done,
                Level::Edit => Outcome::Forbidden(Role::Editor),
                Level::Across if role >= Role::Editor => Outcome::Refused("other_owner"),
                Level::Across => Outcome::Forbidden(Role::Editor),
                Level::AcrossLink => Outcome::Refused("other_owner"),
                Level::Admin => Outcome::Forbidden(Role::Admin),
            };
            assert_eq!(got, expected, "{member}: {name}");
            cases += 1;
        }
    }
    // Alice's private list and its task stay out of every member's reach,
    // even linked to a task they see.
    h.svc
        .link(&alice(), w.bread, LinkKind::Relates, w.secret)
        .await
        .unwrap();
    let links = TaskInclude {
        include: Some("links".into()),
    };
    for member in ["bob", "carol"] {
        assert!(matches!(
            h.svc.get(member, w.secret).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            h.svc.get_list(&user(member), w.private).await,
            Err(Error::NoSuchList { .. })
        ));
        let everything = h.svc.list(member, &ListQuery::default()).await.unwrap();
        assert!(everything.tasks.iter().all(|t| t.id != w.secret));
        let history = h.svc.activity(member, None, Some(200)).await.unwrap();
        assert!(history.entries.iter().all(|e| e.task_id != w.secret));
        let detail = h.svc.get_detail(member, w.bread, &links).await.unwrap();
        assert!(detail.links.unwrap().relates.is_empty(), "{member}");
    }
    let detail = h.svc.get_detail("alice", w.bread, &links).await.unwrap();
    assert_eq!(detail.links.unwrap().relates.len(), 1);
    // The owner does everything; a list's own rules may still refuse her
    // (an archived list cannot move, a full one is not deleted).
    for (name, level, got) in table(h, "alice", &w).await {
        match level {
            Level::Read | Level::Edit => assert_eq!(got, Outcome::Done, "alice: {name}"),
            _ => assert!(
                !matches!(got, Outcome::Missing(_) | Outcome::Forbidden(_)),
                "alice: {name}: {got:?}"
            ),
        }
        cases += 1;
    }
    assert!(cases >= 100, "{cases} cases");
}

async fn an_accepted_invitation_makes_a_member_who_works_in_the_list_as_themselves(h: &Harness) {
    let w = world(h).await;
    // Bob's lists: his own Inbox, then Groceries and Dairy, nested as Alice
    // nests them, with his role.
    let lists = h.svc.lists(&bob(), &ListsQuery::default()).await.unwrap();
    let shown: Vec<_> = lists
        .iter()
        .map(|l| (l.list.title.as_str(), l.list.parent_id, l.role))
        .collect();
    assert_eq!(
        shown,
        [
            ("Inbox", None, Role::Owner),
            ("Groceries", None, Role::Editor),
            ("Dairy", Some(w.groceries), Role::Editor)
        ]
    );
    // His listing of every task has Alice's shared tasks beside his own.
    let titles =
        |page: taskflow_core::TaskPage| page.tasks.into_iter().map(|t| t.title).collect::<Vec<_>>();
    let everything = h.svc.list("bob", &ListQuery::default()).await.unwrap();
    assert_eq!(titles(everything), ["bob's own", "milk", "bread"]);
    // A task Bob creates in the list is Alice's list's, made by Bob.
    let eggs = h
        .svc
        .create(
            &bob(),
            &CreateTask {
                list: Some(ListRef::Title("dairy".into())),
                ..titled("eggs")
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(eggs.list_id, w.dairy);
    let in_dairy = ListQuery {
        list_id: Some(w.dairy),
        sort: Some("position".into()),
        ..Default::default()
    };
    assert_eq!(
        titles(h.svc.list("alice", &in_dairy).await.unwrap()),
        ["milk", "eggs"]
    );
    h.svc.complete(&bob(), w.milk, None, false).await.unwrap();
    let history = h.svc.history("alice", w.milk, None, None).await.unwrap();
    let who: Vec<_> = history
        .entries
        .iter()
        .map(|e| (e.event_type.as_str(), e.actor.name.as_str()))
        .collect();
    assert_eq!(
        who,
        [("completed", "bob display"), ("created", "alice display")]
    );
    // Pages of two run through both branches in one order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = h
            .svc
            .list(
                "bob",
                &ListQuery {
                    limit: Some(2),
                    cursor: cursor.clone(),
                    sort: Some("title".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.tasks.iter().map(|t| t.title.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["bob's own", "bread", "eggs", "milk"]);
    // Members and their grants, the owner first.
    let members = h.svc.members(&bob(), w.dairy).await.unwrap();
    let listed: Vec<_> = members
        .iter()
        .map(|m| (m.user.id.as_str(), m.role, m.granted_on))
        .collect();
    assert_eq!(
        listed,
        [
            ("alice", Role::Owner, None),
            ("bob", Role::Editor, Some(w.groceries)),
            ("carol", Role::Viewer, Some(w.groceries)),
            ("frank", Role::Viewer, Some(w.groceries))
        ]
    );
    // Leaving ends Bob's access at once.
    h.svc.leave_list(&bob(), w.groceries).await.unwrap();
    assert!(matches!(
        h.svc.get("bob", eggs.id).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        titles(h.svc.list("bob", &ListQuery::default()).await.unwrap()),
        ["bob's own"]
    );
}

async fn the_nearest_grant_wins_and_an_archived_list_above_a_member_is_read_only(h: &Harness) {
    let w = world(h).await;
    // Carol views Groceries, and edits Dairy.
    share(&h.svc, "alice", w.dairy, "carol", Grant::Editor).await;
    let carol = user("carol");
    h.svc.complete(&carol, w.milk, None, false).await.unwrap();
    assert!(matches!(
        h.svc.complete(&carol, w.bread, None, false).await,
        Err(Error::Forbidden {
            needed: Role::Editor
        })
    ));
    let roles: Vec<_> = h
        .svc
        .lists(&carol, &ListsQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.list.id, l.role))
        .collect();
    assert!(
        roles.contains(&(w.groceries, Role::Viewer)) && roles.contains(&(w.dairy, Role::Editor))
    );
    // A change of her grant on Dairy is made there, not through Groceries.
    let inherited = h
        .svc
        .update_member(
            &alice(),
            w.dairy,
            "bob",
            &UpdateMember {
                role: Grant::Viewer,
            },
        )
        .await;
    assert_eq!(outcome(inherited), Outcome::Refused("inherited_grant"));

    // Alice shares only Dairy with Dave, then archives Groceries, which
    // Dave cannot see: Dairy is read-only for him and out of his listings.
    share(&h.svc, "alice", w.dairy, "dave", Grant::Editor).await;
    let dave = user("dave");
    h.svc.reopen(&dave, w.milk, None).await.unwrap();
    let dave_lists = h.svc.lists(&dave, &ListsQuery::default()).await.unwrap();
    let dairy = dave_lists.iter().find(|l| l.list.id == w.dairy).unwrap();
    assert_eq!(dairy.list.parent_id, None, "its parent is not his to see");
    h.svc
        .archive_list(&alice(), w.groceries, None)
        .await
        .unwrap();
    assert_eq!(
        outcome(h.svc.complete(&dave, w.milk, None, false).await),
        Outcome::Refused("list_archived")
    );
    let everything = h.svc.list("dave", &ListQuery::default()).await.unwrap();
    assert!(everything.tasks.iter().all(|t| t.id != w.milk));
    let asked = ListQuery {
        list_id: Some(w.dairy),
        ..Default::default()
    };
    assert_eq!(h.svc.list("dave", &asked).await.unwrap().tasks.len(), 1);
    h.svc
        .unarchive_list(&alice(), w.groceries, None)
        .await
        .unwrap();
    h.svc.complete(&dave, w.milk, None, false).await.unwrap();
}

async fn the_owner_stays_the_inbox_is_never_shared_and_tasks_stay_with_their_owner(h: &Harness) {
    let w = world(h).await;
    // Bob becomes an admin: he manages members, but not the owner.
    h.svc
        .update_member(
            &alice(),
            w.groceries,
            "bob",
            &UpdateMember { role: Grant::Admin },
        )
        .await
        .unwrap();
    assert_eq!(
        outcome(h.svc.remove_member(&bob(), w.groceries, "alice").await),
        Outcome::Refused("owner_cannot_leave")
    );
    assert_eq!(
        outcome(h.svc.leave_list(&alice(), w.groceries).await),
        Outcome::Refused("owner_cannot_leave")
    );
    h.svc
        .update_member(
            &bob(),
            w.groceries,
            "carol",
            &UpdateMember {
                role: Grant::Editor,
            },
        )
        .await
        .unwrap();
    // An admin's list is the owner's: a list Bob nests in it is Alice's.
    let nested = h
        .svc
        .create_list(
            &bob(),
            &CreateList {
                title: "Bakery".into(),
                parent_id: Some(w.groceries),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        h.svc
            .lists(&alice(), &ListsQuery::default())
            .await
            .unwrap()
            .iter()
            .any(|l| l.list.id == nested.id && l.role == Role::Owner)
    );
    // Carol, an editor now, reaches the new list through Groceries.
    h.svc
        .create(
            &user("carol"),
            &CreateTask {
                list: Some(ListRef::Id(nested.id)),
                ..titled("rolls")
            },
            None,
        )
        .await
        .unwrap();
    // The Inbox is never shared.
    let inbox = h.svc.inbox(&alice()).await.unwrap();
    let to_inbox = h
        .svc
        .invite(
            &alice(),
            inbox,
            &CreateInvitation {
                username: "dave-name".into(),
                role: Grant::Viewer,
            },
        )
        .await;
    assert_eq!(outcome(to_inbox), Outcome::Refused("inbox_protected"));
    // Inviting a member again, or someone unknown, is refused.
    let again = CreateInvitation {
        username: "carol-name".into(),
        role: Grant::Viewer,
    };
    assert_eq!(
        outcome(h.svc.invite(&alice(), w.groceries, &again).await),
        Outcome::Refused("already_member")
    );
    let nobody = CreateInvitation {
        username: "nobody".into(),
        role: Grant::Viewer,
    };
    assert_eq!(
        outcome(h.svc.invite(&alice(), w.groceries, &nobody).await),
        Outcome::Missing("username".into())
    );
    // Bob's delete of a list of Alice's deletes it, recorded as his.
    h.svc
        .delete_list(
            &bob(),
            nested.id,
            &DeleteList {
                cascade: Some(taskflow_core::Cascade::Delete),
                move_to: None,
            },
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        h.svc.get_list(&alice(), nested.id).await,
        Err(Error::NoSuchList { .. })
    ));
    // Alice's tasks never move into Bob's lists, nor his into hers.
    let bobs = h
        .svc
        .create_list(
            &bob(),
            &CreateList {
                title: "Bob's".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let away = MoveTask {
        list: Some(ListRef::Id(bobs.id)),
        ..Default::default()
    };
    assert_eq!(
        outcome(h.svc.move_task(&bob(), w.bread, &away, None).await),
        Outcome::Refused("other_owner")
    );
}

async fn invitations_are_seen_and_answered_only_by_their_invitee(h: &Harness) {
    let w = world(h).await;
    let invitation = h
        .svc
        .invite(
            &alice(),
            w.groceries,
            &CreateInvitation {
                username: "dave-name".into(),
                role: Grant::Editor,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            invitation.list_title.as_str(),
            invitation.invited_by.display_name.as_str(),
            invitation.role
        ),
        ("Groceries", "alice display", Role::Editor)
    );
    assert_eq!(
        h.svc.invitations("dave").await.unwrap(),
        std::slice::from_ref(&invitation)
    );
    assert!(h.svc.invitations("bob").await.unwrap().is_empty());
    // Nobody else can accept or decline it, and it stays.
    for other in ["bob", "carol", "erin"] {
        assert!(matches!(
            h.svc.accept_invitation(&user(other), invitation.id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            h.svc.decline_invitation(other, invitation.id).await,
            Err(Error::NotFound)
        ));
    }
    assert_eq!(
        h.svc
            .list_invitations(&alice(), w.groceries)
            .await
            .unwrap()
            .len(),
        1
    );
    h.svc
        .decline_invitation("dave", invitation.id)
        .await
        .unwrap();
    assert!(h.svc.invitations("dave").await.unwrap().is_empty());
    assert!(matches!(
        h.svc.get("dave", w.bread).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.svc.accept_invitation(&user("dave"), invitation.id).await,
        Err(Error::NotFound)
    ));
}

/// The lists each event `user` may replay is about, and whether any is
/// someone else's private event.
async fn replayed(svc: &TaskService, user: &str) -> Vec<(String, Option<i64>)> {
    svc.database()
        .events_after(user, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.user_id, event.list_id))
        .collect()
}

async fn live_views_reach_the_members_of_the_moment_and_replay_only_what_each_may_see_now(
    h: &Harness,
) {
    let w = world(h).await;
    let members = |list: Option<i64>| {
        let svc = h.svc.clone();
        async move {
            svc.audience()
                .hearing("alice", [list, None], false, None)
                .await
                .unwrap()
        }
    };
    // A grant reaches the lists nested in it; erin was removed; the owner is
    // not counted (she always hears).
    assert_eq!(members(Some(w.groceries)).await, ["bob", "carol", "frank"]);
    assert_eq!(members(Some(w.dairy)).await, ["bob", "carol", "frank"]);
    assert!(members(Some(w.private)).await.is_empty());
    // A task moved out of a shared list: its members hear of it leaving.
    let moved = h
        .svc
        .audience()
        .hearing("alice", [Some(w.private), Some(w.groceries)], false, None)
        .await
        .unwrap();
    assert_eq!(moved, ["bob", "carol", "frank"]);

    // Another replica remembers the members it read; a list event (here
    // carol's removal) makes it forget, and it tells carol that once.
    let replica = TaskService::new(h.svc.database().clone());
    let hearing = |list_changed| {
        let replica = replica.clone();
        async move {
            replica
                .audience()
                .hearing("alice", [Some(w.groceries), None], list_changed, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(hearing(false).await, ["bob", "carol", "frank"]);
    h.svc
        .remove_member(&alice(), w.groceries, "carol")
        .await
        .unwrap();
    assert_eq!(
        hearing(false).await,
        ["bob", "carol", "frank"],
        "remembered until a list event"
    );
    assert_eq!(
        hearing(true).await,
        ["bob", "carol", "frank"],
        "the list event reaches those before it"
    );
    assert_eq!(hearing(false).await, ["bob", "frank"]);

    // Replay: bob gets his own events and the shared lists' changes, never
    // alice's private list; carol and erin, removed, only their own.
    let shared = [Some(w.groceries), Some(w.dairy)];
    let bobs = replayed(&h.svc, "bob").await;
    assert!(bobs.iter().any(|(owner, _)| owner == "bob"));
    assert!(
        bobs.iter()
            .filter(|(owner, _)| owner == "alice")
            .all(|(_, list)| shared.contains(list)),
        "{bobs:?}"
    );
    let alices_shared = bobs.iter().filter(|(owner, _)| owner == "alice").count();
    assert!(
        alices_shared >= 4,
        "the lists' and tasks' creation: {bobs:?}"
    );
    for removed in ["carol", "erin"] {
        let theirs = replayed(&h.svc, removed).await;
        assert!(
            theirs.iter().all(|(owner, _)| owner == removed),
            "{removed}: {theirs:?}"
        );
    }
    // Alice's replay is all of hers, the private list included.
    let alices = replayed(&h.svc, "alice").await;
    assert!(alices.iter().any(|(_, list)| *list == Some(w.private)));
    assert!(alices.iter().all(|(owner, _)| owner == "alice"));
    // Paged: a limit holds across both branches, in sequence order.
    let page = h.svc.database().events_after("bob", 0, 3).await.unwrap();
    assert_eq!(page.len(), 3);
    assert!(page.is_sorted_by_key(|event| event.sequence));
    let all = h.svc.database().events_after("bob", 0, 1000).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        all.iter().take(3).map(|e| e.sequence).collect::<Vec<_>>()
    );
}

async fn assignees_are_members_of_the_moment_and_each_task_keeps_who_made_and_changed_it(
    h: &Harness,
) {
    let w = world(h).await;
    let svc = &h.svc;
    let into = |list: i64, title: &str, assignees: &[&str]| CreateTask {
        list: Some(ListRef::Id(list)),
        assignees: assignees.iter().map(|a| a.to_string()).collect(),
        ..titled(title)
    };
    let report = svc
        .create(
            &alice(),
            &into(w.groceries, "report", &["carol", "bob", "bob"]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        report.assignees,
        ["bob", "carol"],
        "sorted, repeats removed"
    );
    assert_eq!(
        (report.created_by.as_str(), report.updated_by.as_str()),
        ("alice", "alice")
    );
    // A stranger, a removed member, nobody at all, a member of another list:
    // each the same refusal, naming the assignee.
    for (list, who) in [
        (w.groceries, "dave"),
        (w.groceries, "erin"),
        (w.groceries, "nobody-at-all"),
        (w.private, "bob"),
    ] {
        match svc.create(&alice(), &into(list, "x", &[who]), None).await {
            Err(Error::AssigneeNotMember { user }) => assert_eq!(user, who),
            other => panic!("{who}: {other:?}"),
        }
    }
    // The owner may be assigned in her own lists; a nested list's members too.
    let own = svc
        .create(&alice(), &into(w.private, "mine", &["alice"]), None)
        .await
        .unwrap();
    assert_eq!(own.assignees, ["alice"]);
    svc.create(&alice(), &into(w.dairy, "cheese", &["frank"]), None)
        .await
        .unwrap();

    // An editor reassigns: the task says who changed it, and who made it.
    let patch = UpdateTask {
        assignees: Some(vec!["bob".into(), "frank".into()]),
        ..Default::default()
    };
    let changed = svc
        .update(&user("bob"), report.id, &patch, None)
        .await
        .unwrap();
    assert_eq!(changed.assignees, ["bob", "frank"]);
    assert_eq!(
        (changed.created_by.as_str(), changed.updated_by.as_str()),
        ("alice", "bob")
    );
    let bobs = svc
        .create(&user("bob"), &into(w.groceries, "bob's", &[]), None)
        .await
        .unwrap();
    assert_eq!(
        (bobs.created_by.as_str(), bobs.updated_by.as_str()),
        ("bob", "bob")
    );
    let viewer = svc.update(&user("carol"), report.id, &patch, None).await;
    assert!(matches!(viewer, Err(Error::Forbidden { .. })), "{viewer:?}");

    // assignee=me, and by id.
    let assigned = |who: &str, assignee: &str| {
        let (svc, who, assignee) = (svc.clone(), who.to_owned(), assignee.to_owned());
        async move {
            let query = ListQuery {
                assignee: Some(assignee),
                ..Default::default()
            };
            let page = svc.list(&who, &query).await.unwrap();
            let mut titles: Vec<String> = page.tasks.into_iter().map(|t| t.title).collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(assigned("frank", "me").await, ["cheese", "report"]);
    assert_eq!(assigned("alice", "frank").await, ["cheese", "report"]);
    assert_eq!(assigned("alice", "me").await, ["mine"]);
    assert!(
        assigned("dave", "frank").await.is_empty(),
        "nothing of alice's"
    );

    // Removed, frank is unassigned at once, each task with its event.
    svc.remove_member(&alice(), w.groceries, "frank")
        .await
        .unwrap();
    let report = svc.get("alice", report.id).await.unwrap();
    assert_eq!(report.assignees, ["bob"]);
    assert!(assigned("alice", "frank").await.is_empty());
    let history = svc.history("alice", report.id, None, None).await.unwrap();
    let last = &history.entries[0];
    assert_eq!(last.event_type, TaskEventType::Updated);
    assert_eq!(last.changes["assignees"].old, json!(["bob", "frank"]));
    assert_eq!(last.changes["assignees"].new, json!(["bob"]));
    assert_eq!(last.actor.id, "alice");

    // Moved where an assignee does not reach: they are unassigned with it.
    let moved = svc
        .move_task(
            &alice(),
            report.id,
            &MoveTask {
                list: Some(ListRef::Id(w.private)),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(moved.assignees.is_empty(), "{moved:?}");
    // Bad ids are refused before anything is read.
    let too_many: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    let patch = UpdateTask {
        assignees: Some(too_many),
        ..Default::default()
    };
    assert_eq!(
        invalid_field(svc.update(&alice(), own.id, &patch, None).await),
        "assignees"
    );
}

async fn a_members_tags_count_the_shared_lists_tasks_and_nothing_else(h: &Harness) {
    let w = world(h).await;
    let tagged = |list: i64, tag: &str| CreateTask {
        list: Some(ListRef::Id(list)),
        tags: vec![tag.into()],
        ..titled(tag)
    };
    for (list, tag) in [
        (w.groceries, "shop"),
        (w.dairy, "shop"),
        (w.private, "secret"),
    ] {
        h.svc
            .create(&alice(), &tagged(list, tag), None)
            .await
            .unwrap();
    }
    let counts = |who: &'static str| {
        let svc = h.svc.clone();
        async move {
            svc.tags(who)
                .await
                .unwrap()
                .into_iter()
                .map(|t| (t.tag, t.count))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        counts("alice").await,
        [("secret".to_owned(), 1), ("shop".to_owned(), 2)]
    );
    assert_eq!(counts("bob").await, [("shop".to_owned(), 2)]);
    assert!(counts("dave").await.is_empty(), "a stranger");
    assert!(counts("erin").await.is_empty(), "a removed member");
}

/// The kinds and texts of `who`'s notifications, oldest first, and the
/// notices of them in the outbox.
async fn told(svc: &TaskService, who: &str) -> (Vec<(NotificationKind, String)>, usize) {
    let query = NotificationQuery {
        limit: Some(200),
        ..Default::default()
    };
    let page = svc.notifications(who, &query).await.unwrap();
    let notices = svc
        .database()
        .events_after(who, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.user_id == who && matches!(e.body, taskflow_store::Body::NotificationCreated { .. })
        })
        .count();
    let mut told: Vec<_> = page
        .notifications
        .into_iter()
        .map(|n| (n.kind, n.text))
        .collect();
    told.reverse();
    (told, notices)
}

async fn people_are_told_what_others_do_to_them_once_and_never_after_they_leave(h: &Harness) {
    use NotificationKind::*;
    let w = world(h).await;
    let svc = &h.svc;
    // Each invitation told its invitee (the removed one too, back then).
    for (who, role) in [
        ("bob", "an editor"),
        ("carol", "a viewer"),
        ("erin", "an editor"),
    ] {
        assert_eq!(
            told(svc, who).await,
            (
                vec![(
                    Invited,
                    format!("alice display invited you to Groceries as {role}")
                )],
                1
            ),
            "{who}"
        );
    }
    assert_eq!(
        told(svc, "alice").await,
        (vec![], 0),
        "nobody tells herself"
    );

    // An editor assigns: each new assignee but himself is told, once.
    let report = svc
        .create(
            &user("bob"),
            &CreateTask {
                list: Some(ListRef::Id(w.groceries)),
                assignees: vec!["bob".into(), "carol".into()],
                ..titled("report")
            },
            None,
        )
        .await
        .unwrap();
    let assigned = |who: &str| (Assigned, format!("{who} display assigned you report"));
    assert_eq!(told(svc, "carol").await.0[1..], [assigned("bob")]);
    assert_eq!(told(svc, "bob").await.0.len(), 1);
    let frank = UpdateTask {
        assignees: Some(vec!["bob".into(), "carol".into(), "frank".into()]),
        ..Default::default()
    };
    svc.update(&alice(), report.id, &frank, None).await.unwrap();
    assert_eq!(told(svc, "frank").await.0[1..], [assigned("alice")]);
    assert_eq!(
        told(svc, "carol").await.0.len(),
        2,
        "carol was assigned already"
    );

    // A comment tells who made the task, its assignees and earlier
    // commenters; not the list's owner, who follows none of these.
    let say = |body: &str| WriteComment { body: body.into() };
    svc.add_comment(&user("bob"), report.id, &say("Which\n brand?"))
        .await
        .unwrap();
    let commented = |who: &str, body: &str| {
        (
            Commented,
            format!("{who} display commented on report: {body}"),
        )
    };
    assert_eq!(
        told(svc, "carol").await.0[2..],
        [commented("bob", "Which brand?")]
    );
    assert_eq!(
        told(svc, "frank").await.0[2..],
        [commented("bob", "Which brand?")]
    );
    assert!(told(svc, "alice").await.0.is_empty());
    let long = "x".repeat(300);
    svc.add_comment(&alice(), report.id, &say(&long))
        .await
        .unwrap();
    let cut = format!("{}…", "x".repeat(99));
    assert_eq!(told(svc, "bob").await.0[1..], [commented("alice", &cut)]);

    // Removed, frank is told of nothing more about the list's tasks.
    svc.remove_member(&alice(), w.groceries, "frank")
        .await
        .unwrap();
    let franks = told(svc, "frank").await;
    svc.add_comment(&user("bob"), report.id, &say("Any news?"))
        .await
        .unwrap();
    // Completing tells who assigned (bob assigned himself and carol; alice
    // assigned frank, who is gone), but not the one completing.
    svc.complete(&alice(), report.id, None, false)
        .await
        .unwrap();
    assert_eq!(told(svc, "frank").await, franks);
    let bobs = told(svc, "bob").await.0;
    assert_eq!(
        bobs.last(),
        Some(&(
            Completed,
            "alice display completed report, a task you assigned".into()
        ))
    );
    assert_eq!(
        told(svc, "alice").await.0,
        [commented("bob", "Any news?")],
        "a commenter now"
    );
    // A recurring task's next occurrence keeps who assigned it: bob hears
    // when carol completes the one he assigned her, whoever completes it.
    let daily = svc
        .create(
            &user("bob"),
            &CreateTask {
                list: Some(ListRef::Id(w.groceries)),
                due: Some("2026-03-24".into()),
                recurrence: Some("FREQ=DAILY".into()),
                assignees: vec!["carol".into()],
                ..titled("water plants")
            },
            None,
        )
        .await
        .unwrap();
    svc.complete(&alice(), daily.id, None, false).await.unwrap();
    let next = svc
        .next_occurrence("recurrence", uuid::Uuid::now_v7(), "alice", daily.id)
        .await
        .unwrap()
        .unwrap();
    svc.complete(&alice(), next.id, None, false).await.unwrap();
    let bobs = told(svc, "bob").await.0;
    assert_eq!(
        bobs[bobs.len() - 2..],
        [
            (
                Completed,
                "alice display completed water plants, a task you assigned".into()
            ),
            (
                Completed,
                "alice display completed water plants, a task you assigned".into()
            ),
        ],
        "the next occurrence too"
    );
    // Bob made the task and commented on it; removed, he hears no more of it.
    svc.remove_member(&alice(), w.groceries, "bob")
        .await
        .unwrap();
    let (bobs, carols) = (told(svc, "bob").await, told(svc, "carol").await.0.len());
    svc.add_comment(&alice(), report.id, &say("Done, thanks"))
        .await
        .unwrap();
    assert_eq!(told(svc, "bob").await, bobs);
    assert_eq!(told(svc, "carol").await.0.len(), carols + 1);
    // Every notification is announced by one notice of its own.
    for who in ["alice", "bob", "carol", "erin", "frank"] {
        let (rows, notices) = told(svc, who).await;
        assert_eq!(rows.len(), notices, "{who}");
    }
    // A stranger is told nothing at all.
    assert_eq!(told(svc, "dave").await, (vec![], 0));
}

async fn a_list_given_to_a_member_takes_its_lists_and_tasks_and_the_giver_stays_as_admin(
    h: &Harness,
) {
    let w = world(h).await;
    let svc = &h.svc;
    let to = |user: &str| TransferList { user: user.into() };
    // A replica that knew Groceries' and Dairy's members under alice.
    let replica = TaskService::new(svc.database().clone());
    let hearing = |owner: &'static str, list: i64, changed: Option<&'static str>| {
        let replica = replica.clone();
        async move {
            replica
                .audience()
                .hearing(owner, [Some(list), None], changed.is_some(), changed)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        hearing("alice", w.dairy, None).await,
        ["bob", "carol", "frank"]
    );

    // Refusals: only the owner gives, only a list at the top level, only to
    // someone who reaches it now, and nothing linked across its edge.
    let inbox = svc.inbox(&alice()).await.unwrap();
    let refused = [
        (
            user("bob"),
            w.groceries,
            "carol",
            Outcome::Forbidden(Role::Owner),
        ),
        (
            user("carol"),
            w.groceries,
            "bob",
            Outcome::Forbidden(Role::Owner),
        ),
        (
            user("dave"),
            w.groceries,
            "dave",
            Outcome::Missing("id".into()),
        ),
        (
            user("erin"),
            w.groceries,
            "erin",
            Outcome::Missing("id".into()),
        ),
        (alice(), w.dairy, "bob", Outcome::Refused("list_nested")),
        (alice(), inbox, "bob", Outcome::Refused("inbox_protected")),
        (
            alice(),
            w.groceries,
            "alice",
            Outcome::Refused("already_owner"),
        ),
        (
            alice(),
            w.groceries,
            "dave",
            Outcome::Refused("not_a_member"),
        ),
        (
            alice(),
            w.groceries,
            "erin",
            Outcome::Refused("not_a_member"),
        ),
        (
            alice(),
            w.groceries,
            "nobody",
            Outcome::Refused("not_a_member"),
        ),
        (alice(), w.private, "bob", Outcome::Refused("not_a_member")),
    ];
    for (who, list, user, expected) in refused {
        let got = outcome(svc.transfer_list(&who, list, &to(user)).await);
        assert_eq!(got, expected, "{} gives {list} to {user}", who.user);
    }
    svc.link(&alice(), w.milk, LinkKind::Blocks, w.secret)
        .await
        .unwrap();
    assert_eq!(
        outcome(svc.transfer_list(&alice(), w.groceries, &to("bob")).await),
        Outcome::Refused("linked_outside")
    );
    svc.unlink(&alice(), w.milk, LinkKind::Blocks, w.secret)
        .await
        .unwrap();
    svc.link(&alice(), w.bread, LinkKind::Blocks, w.milk)
        .await
        .unwrap();

    // Given to bob: the list, the one in it and their tasks are his; alice
    // is an admin of it; the others keep their roles.
    let given = svc
        .transfer_list(&alice(), w.groceries, &to("bob"))
        .await
        .unwrap();
    assert_eq!((given.list.id, given.role), (w.groceries, Role::Admin));
    assert_eq!(given.list.parent_id, None);
    let roles = |list: i64| {
        let svc = svc.clone();
        async move {
            svc.members(&user("frank"), list)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.user.id, m.role))
                .collect::<Vec<_>>()
        }
    };
    let expected = [
        ("bob".to_owned(), Role::Owner),
        ("alice".to_owned(), Role::Admin),
        ("carol".to_owned(), Role::Viewer),
        ("frank".to_owned(), Role::Viewer),
    ];
    assert_eq!(roles(w.groceries).await, expected);
    assert_eq!(roles(w.dairy).await, expected);
    let bobs = svc
        .lists(&user("bob"), &ListsQuery::default())
        .await
        .unwrap();
    let owned: Vec<_> = bobs
        .iter()
        .filter(|l| l.role == Role::Owner)
        .map(|l| l.list.id)
        .collect();
    assert!(
        owned.contains(&w.groceries) && owned.contains(&w.dairy),
        "{owned:?}"
    );
    // The tasks went with the lists, links and all; the private one stayed.
    let milk = svc.get("bob", w.milk).await.unwrap();
    assert!(milk.blocked, "the link inside the list stays");
    assert_eq!(
        (milk.created_by.as_str(), milk.updated_by.as_str()),
        ("alice", "alice"),
        "made by alice still"
    );
    let found = svc
        .list(
            "bob",
            &ListQuery {
                list_id: Some(w.dairy),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.tasks.len(), 1);
    assert!(matches!(
        svc.get("bob", w.secret).await,
        Err(Error::NotFound)
    ));
    // Alice, an admin now, works in it but cannot give it away again; bob can.
    svc.update(
        &alice(),
        w.bread,
        &UpdateTask {
            title: Some("rye bread".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        outcome(svc.transfer_list(&alice(), w.groceries, &to("carol")).await),
        Outcome::Forbidden(Role::Owner)
    );

    // The replica hears of the transfer in bob's order, tells alice, and
    // forgets what it knew under her: Dairy's members are read again.
    assert_eq!(
        hearing("bob", w.groceries, Some("alice")).await,
        ["alice", "carol", "frank"]
    );
    assert_eq!(
        hearing("bob", w.dairy, None).await,
        ["alice", "carol", "frank"]
    );
    let event = svc
        .database()
        .events_after("alice", 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| matches!(&e.body, taskflow_store::Body::List { .. }))
        .unwrap();
    let taskflow_store::Body::List { event_type, change } = event.body else {
        unreachable!()
    };
    assert_eq!(
        (event_type, event.user_id.as_str()),
        (taskflow_events::ListEventType::Transferred, "bob")
    );
    assert_eq!(change.changes["owner"].old, json!("alice"));
    assert_eq!(change.changes["owner"].new, json!("bob"));
    assert_eq!(
        change.changes["member"].new,
        json!({"user_id": "alice", "role": "admin"})
    );

    // Alice's earlier events of the list are hers and now also a member's:
    // her activity and replay show each once.
    let activity = svc.activity("alice", None, Some(200)).await.unwrap();
    let mut seen: Vec<i64> = activity.entries.iter().map(|e| e.sequence).collect();
    let all = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), all, "an event twice in alice's activity");
    let replay = svc.database().events_after("alice", 0, 1000).await.unwrap();
    let mut seen: Vec<i64> = replay.iter().map(|e| e.sequence).collect();
    let all = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), all, "an event twice in alice's replay");

    // Bob, the owner now, sees the list's whole past: its events filed
    // under alice too, in a task's history, his activity and his replay,
    // each once.
    let milk_history = svc.history("bob", w.milk, None, None).await.unwrap();
    let created = milk_history.entries.last().unwrap();
    assert_eq!(
        (created.event_type, created.actor.id.as_str()),
        (TaskEventType::Created, "alice"),
        "the history of a task given with its list goes back to its creation"
    );
    let activity = svc.activity("bob", None, Some(200)).await.unwrap();
    let mut seen: Vec<i64> = activity.entries.iter().map(|e| e.sequence).collect();
    assert!(seen.contains(&created.sequence), "bob's activity");
    let all = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), all, "an event twice in bob's activity");
    let replay = svc.database().events_after("bob", 0, 1000).await.unwrap();
    let mut seen: Vec<i64> = replay.iter().map(|e| e.sequence).collect();
    assert!(seen.contains(&created.sequence), "bob's replay");
    let all = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), all, "an event twice in bob's replay");
    assert!(
        !replay.iter().any(|e| e.task_id == w.secret),
        "nothing of alice's own lists"
    );
    // Lists given before migration 0015 are marked by it, nested ones too.
    h.raw.exec("UPDATE lists SET was_given = FALSE").await;
    let first = |svc: TaskService| async move {
        let page = svc.history("bob", w.milk, None, None).await.ok()?;
        page.entries.last().map(|e| e.event_type)
    };
    assert_ne!(first(svc.clone()).await, Some(TaskEventType::Created));
    let migration = match &h.raw {
        harness::Raw::Sqlite(_) => include_str!("../../migrations/sqlite/0015_given_lists.sql"),
        harness::Raw::Postgres(_) => {
            include_str!("../../migrations/postgres/0015_given_lists.sql")
        }
    };
    let (_, backfill) = migration
        .split_once("-- Lists given before this migration, and the lists in them:")
        .expect("the migration marks its backfill");
    h.raw.exec(backfill).await;
    assert_eq!(first(svc.clone()).await, Some(TaskEventType::Created));

    // On another replica, a late message from alice's order is the first
    // it hears of Groceries, and files it under her; bob removing carol
    // still reaches what that replica knows of it.
    let late = TaskService::new(svc.database().clone());
    let hears = |owner: &'static str, changed: Option<&'static str>| {
        let late = late.clone();
        async move {
            late.audience()
                .hearing(owner, [Some(w.groceries), None], changed.is_some(), changed)
                .await
                .unwrap()
        }
    };
    assert_eq!(hears("alice", None).await, ["carol", "frank"]);
    svc.remove_member(&user("bob"), w.groceries, "carol")
        .await
        .unwrap();
    hears("bob", Some("carol")).await;
    assert_eq!(hears("bob", None).await, ["alice", "frank"]);

    // And back: bob gives it to alice, and is an admin of it himself.
    let back = svc
        .transfer_list(&user("bob"), w.groceries, &to("alice"))
        .await
        .unwrap();
    assert_eq!(back.role, Role::Admin);
    assert_eq!(
        roles(w.groceries).await[..2],
        [
            ("alice".to_owned(), Role::Owner),
            ("bob".to_owned(), Role::Admin),
        ]
    );
}

/// Creates into a list while it is given away (batched, and alone with an
/// idempotency key): each reads the owner before its transaction, so some
/// read the giver and commit after the transfer.
/// Each is checked against the owner under its transaction (a transfer
/// waits for, or is seen by, every create) and placed again if it changed,
/// so every one is made and every task in the list is the new owner's.
async fn creates_racing_a_transfer_are_all_made_and_all_end_up_the_new_owners(h: &Harness) {
    let w = world(h).await;
    let svc = &h.svc;
    let create = |k: usize| {
        let by = user(["alice", "bob"][k % 2]);
        let input = CreateTask {
            list: Some(ListRef::Id(w.groceries)),
            ..titled(&format!("race {k}"))
        };
        // Every third with a key: one transaction of its own, not a batch.
        let key = k.is_multiple_of(3).then(|| format!("race-{k}"));
        async move { svc.create(&by, &input, key.as_deref()).await.map(|_| ()) }.boxed()
    };
    let to_bob = TransferList { user: "bob".into() };
    let mut writes: Vec<_> = (0..24).map(create).collect();
    writes.insert(
        12,
        async {
            svc.transfer_list(&alice(), w.groceries, &to_bob)
                .await
                .map(|_| ())
        }
        .boxed(),
    );
    for outcome in futures::future::join_all(writes).await {
        outcome.expect("every create and the transfer succeed");
    }
    let strays = format!(
        "SELECT COUNT(*) FROM tasks WHERE list_id IN ({}, {}) AND user_id <> 'bob'",
        w.groceries, w.dairy
    );
    assert_eq!(
        h.raw.scalar(&strays).await,
        0,
        "every task is the new owner's"
    );
    let made = format!(
        "SELECT COUNT(*) FROM tasks WHERE list_id = {} AND title LIKE 'race %'",
        w.groceries
    );
    assert_eq!(h.raw.scalar(&made).await, 24);
}

/// The recurrence worker may act on a completion after the list was given
/// away (and the giver removed): the next occurrence and its checklist come
/// back under the list's owner now.
async fn a_series_given_away_before_its_next_occurrence_comes_back_under_its_new_owner(
    h: &Harness,
) {
    let w = world(h).await;
    let svc = &h.svc;
    let daily = svc
        .create(
            &alice(),
            &CreateTask {
                list: Some(ListRef::Id(w.groceries)),
                due: Some("2026-03-24".into()),
                recurrence: Some("FREQ=DAILY".into()),
                ..titled("stock up")
            },
            None,
        )
        .await
        .unwrap();
    let run = CreateTask {
        parent: Some(daily.id),
        ..titled("milk run")
    };
    svc.create(&alice(), &run, None).await.unwrap();
    svc.complete(&alice(), daily.id, None, true).await.unwrap();
    let to_bob = TransferList { user: "bob".into() };
    svc.transfer_list(&alice(), w.groceries, &to_bob)
        .await
        .unwrap();
    svc.remove_member(&user("bob"), w.groceries, "alice")
        .await
        .unwrap();
    // The worker got alice's completion event.
    let next = svc
        .next_occurrence("recurrence", uuid::Uuid::now_v7(), "alice", daily.id)
        .await
        .unwrap()
        .expect("a next occurrence");
    let children = TaskInclude {
        include: Some("children".into()),
    };
    let detail = svc.get_detail("bob", next.id, &children).await.unwrap();
    let titles: Vec<_> = detail
        .children
        .unwrap()
        .iter()
        .map(|t| t.title.clone())
        .collect();
    assert_eq!(titles, ["milk run"]);
    let strays = format!(
        "SELECT COUNT(*) FROM tasks WHERE list_id = {} AND user_id <> 'bob'",
        w.groceries
    );
    assert_eq!(h.raw.scalar(&strays).await, 0);
}

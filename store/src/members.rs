//! Sharing: the members of a list, their roles, and invitations. A grant
//! (`list_members`) on a list reaches every list nested in it; the nearest
//! grant wins. What each member reaches is derived into `list_access` by
//! [`refresh_access`] in the transaction of every change that can alter it
//! (a grant, or a list made, moved, archived or deleted), so every read of
//! a shared list is one probe of that table and never walks the tree.
//! Every membership change appends its `taskflow.list.member_*` event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use taskflow_core::{
    CreateInvitation, FieldChange, Invitation, List, ListRef, ListSummary, Member,
    NotificationKind, Role, Spot, TransferList, UpdateMember, UserSummary,
};
use taskflow_events::ListEventType;
use uuid::Uuid;

use crate::database::{Executor, Param, Query, Tx, query};
use crate::lists::{ListRow, Locked};
use crate::notifications::{self, Telling};
use crate::outbox::{self, NewEvent};
use crate::tasks::{Actor, check_user};
use crate::{Error, Result, TaskService};

/// Writes `list_access` anew for every list of `owner` (see
/// [`write_access`]), then unassigns, each task with its event by `by`,
/// whoever no longer reaches the list of a task they are assigned.
pub(crate) async fn refresh_access(
    tx: &mut Tx,
    owner: &str,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    write_access(tx, owner).await?;
    crate::tasks::sql::unassign_unreachable(tx, by, owner, now).await
}

/// Writes `list_access` anew for every list of `owner`: for each member,
/// the nearest grant above (or on) each list, and whether the list is
/// archived, itself or through a list it is in.
async fn write_access(tx: &mut Tx, owner: &str) -> Result<()> {
    query("DELETE FROM list_access WHERE list_id IN (SELECT id FROM lists WHERE user_id = $1)")
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    let grants: Vec<(i64, String, String)> = query(
        "SELECT m.list_id, m.user_id, m.role FROM list_members m \
         JOIN lists l ON l.id = m.list_id WHERE l.user_id = $1",
    )
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    if grants.is_empty() {
        return Ok(());
    }
    let tree: Vec<(i64, Option<i64>, Option<DateTime<Utc>>)> =
        query("SELECT id, parent_id, archived_at FROM lists WHERE user_id = $1")
            .bind(owner)
            .fetch_all(&mut *tx)
            .await?;
    let parent: HashMap<i64, Option<i64>> = tree.iter().map(|(id, p, _)| (*id, *p)).collect();
    let archived: HashMap<i64, bool> = tree.iter().map(|(id, _, a)| (*id, a.is_some())).collect();
    let mut granted: HashMap<(i64, &str), &str> = HashMap::new();
    for (list, user, role) in &grants {
        granted.insert((*list, user.as_str()), role.as_str());
    }
    let mut users: Vec<&str> = grants.iter().map(|(_, u, _)| u.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let mut rows = Vec::new();
    for &(list, _, _) in &tree {
        // The list and its ancestors, nearest first (at most 5).
        let lineage: Vec<i64> =
            std::iter::successors(Some(list), |at| parent.get(at).copied().flatten())
                .take(taskflow_core::MAX_LIST_DEPTH + 1)
                .collect();
        let hidden = lineage
            .iter()
            .any(|l| archived.get(l).copied().unwrap_or(false));
        for &user in &users {
            if let Some((on, role)) = lineage
                .iter()
                .find_map(|l| granted.get(&(*l, user)).map(|r| (*l, *r)))
            {
                rows.push((user, list, role, hidden, on));
            }
        }
    }
    for chunk in rows.chunks(100) {
        let mut insert = Query::build(
            "INSERT INTO list_access (user_id, list_id, role, archived, granted_on) VALUES ",
        );
        for (i, (user, list, role, hidden, on)) in chunk.iter().enumerate() {
            insert.push(if i == 0 { "(" } else { ", (" });
            insert.push_bind(*user).push(", ");
            insert.push_bind(*list).push(", ");
            insert.push_bind(*role).push(", ");
            insert.push_bind(*hidden).push(", ");
            insert.push_bind(*on).push(")");
        }
        insert.execute(&mut *tx).await?;
    }
    Ok(())
}

/// A user as others see them, by id.
pub(crate) async fn summary(on: &mut impl Executor, id: &str) -> Result<UserSummary> {
    let found: Option<(String, String)> =
        query("SELECT username, display_name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(on)
            .await?;
    let (username, display_name) = found.unwrap_or_else(|| (id.to_owned(), id.to_owned()));
    Ok(UserSummary {
        id: id.to_owned(),
        username,
        display_name,
    })
}

/// An `invitations` row with its list's title.
#[derive(Debug, sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    list_id: i64,
    list_title: String,
    invitee: String,
    role: String,
    invited_by: String,
    created_at: DateTime<Utc>,
}

const INVITATION: &str = "SELECT i.id, i.list_id, l.title AS list_title, i.invitee, i.role, \
     i.invited_by, i.created_at FROM invitations i JOIN lists l ON l.id = i.list_id";

async fn invitation(on: &mut impl Executor, row: InvitationRow) -> Result<Invitation> {
    Ok(Invitation {
        id: row.id,
        list_id: row.list_id,
        list_title: row.list_title,
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        invitee: summary(&mut *on, &row.invitee).await?,
        invited_by: summary(&mut *on, &row.invited_by).await?,
        created_at: row.created_at,
    })
}

/// The invitations whose `column` is `value`, newest first, as shown.
async fn invitations_where<'a>(
    on: &mut impl Executor,
    column: &str,
    value: impl Into<Param<'a>>,
) -> Result<Vec<Invitation>> {
    let rows: Vec<InvitationRow> = Query::build(format!(
        "{INVITATION} WHERE {column} = $1 ORDER BY i.id DESC"
    ))
    .bind(value)
    .fetch_all(&mut *on)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(invitation(&mut *on, row).await?);
    }
    Ok(out)
}

/// The member's direct grant on `list`, if they have one.
async fn grant_of(on: &mut impl Executor, list: i64, user: &str) -> Result<Option<Role>> {
    let role: Option<String> =
        query("SELECT role FROM list_members WHERE list_id = $1 AND user_id = $2")
            .bind(list)
            .bind(user)
            .scalar_optional(on)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Refuses changing the grant of `user` on `list` when it is not there: a
/// 404 for someone with no access, 409 `inherited_grant` naming the list
/// whose grant to change.
async fn direct_grant(tx: &mut Tx, list: i64, user: &str) -> Result<Role> {
    if let Some(role) = grant_of(&mut *tx, list, user).await? {
        return Ok(role);
    }
    let on: Option<i64> =
        query("SELECT granted_on FROM list_access WHERE list_id = $1 AND user_id = $2")
            .bind(list)
            .bind(user)
            .scalar_optional(&mut *tx)
            .await?;
    match on {
        Some(on) => Err(Error::refused(
            "inherited_grant",
            "user",
            format!("this member's access comes from list {on}; change it there"),
        )),
        None => Err(Error::NotFound),
    }
}

/// A member as a change of the `member` field records it.
fn member_value(user: &str, role: Option<Role>) -> serde_json::Value {
    match role {
        Some(role) => serde_json::json!({"user_id": user, "role": role.as_str()}),
        None => serde_json::Value::Null,
    }
}

/// Appends a list's membership event.
async fn member_event(
    tx: &mut Tx,
    owner: &str,
    actor: &Actor,
    event_type: ListEventType,
    list: &List,
    member: FieldChange,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut event = NewEvent::list_change(owner, actor, event_type, Some(list), Some(list), now)?;
    if let outbox::Body::List { change, .. } = &mut event.body {
        change.changes.insert("member".into(), member);
    }
    outbox::append(tx, &event)?;
    Ok(())
}

impl TaskService {
    /// Invites the user called `input.username` to list `list` (the caller
    /// must be its admin): they see it among their invitations and accept
    /// or decline it. Inviting again changes the role offered.
    pub async fn invite(
        &self,
        actor: &Actor,
        list: i64,
        input: &CreateInvitation,
    ) -> Result<Invitation> {
        check_user(&actor.user)?;
        let invitee = self.user_named(&input.username).await?;
        let now = self.clock.now();
        let mut locked = Locked::take(&self.db, &actor.user, list, Role::Admin, "id").await?;
        let row = locked.tree.find(&ListRef::Id(list), "id")?;
        if row.is_inbox {
            return Err(Error::refused(
                "inbox_protected",
                "id",
                "the Inbox cannot be shared; share another list",
            ));
        }
        // A member through a list above may get a grant of its own here
        // (the nearest grant wins); one with a grant here already may not.
        let granted = grant_of(&mut locked.tx, list, &invitee.id).await?;
        if invitee.id == locked.owner || granted.is_some() {
            return Err(Error::refused(
                "already_member",
                "username",
                format!("{} can already open this list", invitee.username),
            ));
        }
        let id: i64 = query(
            "INSERT INTO invitations (list_id, invitee, role, invited_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (list_id, invitee) DO UPDATE \
             SET role = excluded.role, invited_by = excluded.invited_by, \
             created_at = excluded.created_at RETURNING id",
        )
        .bind(list)
        .bind(invitee.id.as_str())
        .bind(Role::from(input.role).as_str())
        .bind(actor.user.as_str())
        .bind(now)
        .scalar(&mut locked.tx)
        .await?;
        let row: InvitationRow = query(&format!("{INVITATION} WHERE i.id = $1"))
            .bind(id)
            .fetch_one(&mut locked.tx)
            .await?;
        let shown = invitation(&mut locked.tx, row).await?;
        let (title, role) = (shown.list_title.as_str(), shown.role);
        let what = Telling {
            kind: NotificationKind::Invited,
            task_id: None,
            cause: Uuid::now_v7(),
            text: &|name| format!("{name} invited you to {title} as {}", role.with_article()),
        };
        notifications::tell(
            &mut locked.tx,
            actor,
            std::slice::from_ref(&invitee.id),
            what,
            now,
        )
        .await?;
        locked.tx.commit().await?;
        Ok(shown)
    }

    /// The invitations waiting for the user, newest first.
    pub async fn invitations(&self, user: &str) -> Result<Vec<Invitation>> {
        check_user(user)?;
        let mut conn = self.db.read().await?;
        invitations_where(&mut conn, "i.invitee", user).await
    }

    /// The invitations of list `list` not yet answered (its admins see
    /// them).
    pub async fn list_invitations(&self, actor: &Actor, list: i64) -> Result<Vec<Invitation>> {
        check_user(&actor.user)?;
        let mut conn = self.db.read().await?;
        crate::lists::Lists::load(&mut conn, &actor.user)
            .await?
            .with_role(&ListRef::Id(list), Role::Admin, "id")?;
        invitations_where(&mut conn, "i.list_id", list).await
    }

    /// Accepts invitation `id` of the caller: they become a member of its
    /// list, with the role it offered. Returns the list as they see it.
    pub async fn accept_invitation(&self, actor: &Actor, id: i64) -> Result<ListSummary> {
        check_user(&actor.user)?;
        let now = self.clock.now();
        let found: Option<(i64, String, String)> = query(
            "SELECT i.list_id, i.role, l.user_id FROM invitations i \
             JOIN lists l ON l.id = i.list_id WHERE i.id = $1 AND i.invitee = $2",
        )
        .bind(id)
        .bind(actor.user.as_str())
        .fetch_optional(&mut self.db.read().await?)
        .await?;
        let (list, role, mut owner) = found.ok_or(Error::NotFound)?;
        // Under the owner's lock, the owner read again: a list given away
        // meanwhile is joined under its new owner's lock.
        let mut tries = 0;
        let mut tx = loop {
            let mut tx = self.db.begin_for(&owner).await?;
            let now: Option<String> = query("SELECT user_id FROM lists WHERE id = $1")
                .bind(list)
                .scalar_optional(&mut tx)
                .await?;
            match now {
                None => return Err(Error::NotFound),
                Some(now) if now == owner => break tx,
                Some(_) if tries == 2 => return Err(crate::lists::owner_moving()),
                Some(now) => {
                    owner = now;
                    tries += 1;
                }
            }
        };
        let taken = query("DELETE FROM invitations WHERE id = $1 AND invitee = $2")
            .bind(id)
            .bind(actor.user.as_str())
            .execute(&mut tx)
            .await?;
        if taken == 0 {
            return Err(Error::NotFound);
        }
        query(
            "INSERT INTO list_members (list_id, user_id, role, added_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (list_id, user_id) DO UPDATE \
             SET role = excluded.role",
        )
        .bind(list)
        .bind(actor.user.as_str())
        .bind(role.as_str())
        .bind(actor.user.as_str())
        .bind(now)
        .execute(&mut tx)
        .await?;
        refresh_access(&mut tx, &owner, actor, now).await?;
        let shown = self.list_row(&mut tx, &owner, list).await?.list();
        member_event(
            &mut tx,
            &owner,
            actor,
            ListEventType::MemberAdded,
            &shown,
            FieldChange {
                old: serde_json::Value::Null,
                new: member_value(&actor.user, Role::parse(&role)),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.get_list(actor, list).await
    }

    /// Declines invitation `id` of the caller.
    pub async fn decline_invitation(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let gone = query("DELETE FROM invitations WHERE id = $1 AND invitee = $2")
            .bind(id)
            .bind(user)
            .execute(&mut self.db.write().await?)
            .await?;
        if gone == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// Everyone who can open list `list`: its owner first, then each member
    /// with their role and the list whose grant gives it.
    pub async fn members(&self, actor: &Actor, list: i64) -> Result<Vec<Member>> {
        check_user(&actor.user)?;
        let mut conn = self.db.read().await?;
        let lists = crate::lists::Lists::load(&mut conn, &actor.user).await?;
        let row = lists.with_role(&ListRef::Id(list), Role::Viewer, "id")?;
        let mut out = vec![Member {
            user: summary(&mut conn, &row.user_id).await?,
            role: Role::Owner,
            granted_on: None,
        }];
        let rows: Vec<(String, String, i64)> = query(
            "SELECT user_id, role, granted_on FROM list_access WHERE list_id = $1 \
             ORDER BY user_id",
        )
        .bind(list)
        .fetch_all(&mut conn)
        .await?;
        for (user, role, on) in rows {
            out.push(Member {
                user: summary(&mut conn, &user).await?,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                granted_on: Some(on),
            });
        }
        Ok(out)
    }

    /// Changes the role of `user`'s grant on list `list` (the caller must
    /// be its admin).
    pub async fn update_member(
        &self,
        actor: &Actor,
        list: i64,
        user: &str,
        input: &UpdateMember,
    ) -> Result<Member> {
        check_user(&actor.user)?;
        let now = self.clock.now();
        let mut locked = Locked::take(&self.db, &actor.user, list, Role::Admin, "id").await?;
        if user == locked.owner {
            return Err(owner_stays());
        }
        let old = direct_grant(&mut locked.tx, list, user).await?;
        let new = Role::from(input.role);
        query("UPDATE list_members SET role = $3 WHERE list_id = $1 AND user_id = $2")
            .bind(list)
            .bind(user)
            .bind(new.as_str())
            .execute(&mut locked.tx)
            .await?;
        refresh_access(&mut locked.tx, &locked.owner, actor, now).await?;
        if old != new {
            let shown = self
                .list_row(&mut locked.tx, &locked.owner, list)
                .await?
                .list();
            member_event(
                &mut locked.tx,
                &locked.owner,
                actor,
                ListEventType::MemberChanged,
                &shown,
                FieldChange {
                    old: member_value(user, Some(old)),
                    new: member_value(user, Some(new)),
                },
                now,
            )
            .await?;
        }
        let member = Member {
            user: summary(&mut locked.tx, user).await?,
            role: new,
            granted_on: Some(list),
        };
        locked.tx.commit().await?;
        Ok(member)
    }

    /// Removes `user`'s grant on list `list`: an admin removes anyone but
    /// the owner; anyone may remove themselves (leave). Their access ends
    /// with this transaction.
    pub async fn remove_member(&self, actor: &Actor, list: i64, user: &str) -> Result<()> {
        check_user(&actor.user)?;
        let now = self.clock.now();
        let needed = if user == actor.user {
            Role::Viewer
        } else {
            Role::Admin
        };
        let mut locked = Locked::take(&self.db, &actor.user, list, needed, "id").await?;
        if user == locked.owner {
            return Err(owner_stays());
        }
        let old = direct_grant(&mut locked.tx, list, user).await?;
        query("DELETE FROM list_members WHERE list_id = $1 AND user_id = $2")
            .bind(list)
            .bind(user)
            .execute(&mut locked.tx)
            .await?;
        refresh_access(&mut locked.tx, &locked.owner, actor, now).await?;
        let shown = self
            .list_row(&mut locked.tx, &locked.owner, list)
            .await?
            .list();
        member_event(
            &mut locked.tx,
            &locked.owner,
            actor,
            ListEventType::MemberRemoved,
            &shown,
            FieldChange {
                old: member_value(user, Some(old)),
                new: serde_json::Value::Null,
            },
            now,
        )
        .await?;
        locked.tx.commit().await?;
        Ok(())
    }

    /// The caller leaves list `list` (a grant on it; an owner cannot).
    pub async fn leave_list(&self, actor: &Actor, list: i64) -> Result<()> {
        self.remove_member(actor, list, &actor.user).await
    }

    /// Gives list `list`, with the lists nested in it and all their tasks,
    /// to `input.user`, who must reach it now: they become its owner and
    /// the caller (its owner) stays as an admin. Only a list at the top
    /// level changes owner, and none whose tasks are linked to tasks
    /// outside it. Returns the list as the caller sees it afterwards.
    pub async fn transfer_list(
        &self,
        actor: &Actor,
        list: i64,
        input: &TransferList,
    ) -> Result<ListSummary> {
        check_user(&actor.user)?;
        let (from, to) = (actor.user.as_str(), input.user.as_str());
        let now = self.clock.now();
        // Both owners' changes wait: the list leaves one tree for another.
        let mut tx = self.db.begin_for_each(&[from, to]).await?;
        let lists = crate::lists::Lists::load(&mut tx, from).await?;
        let row = lists.with_role(&ListRef::Id(list), Role::Owner, "id")?;
        if row.is_inbox {
            return Err(Error::refused(
                "inbox_protected",
                "id",
                "the Inbox stays with its owner; give another list",
            ));
        }
        if row.parent_id.is_some() {
            return Err(Error::refused(
                "list_nested",
                "id",
                "only a list at the top level changes owner; move it to the top level first",
            ));
        }
        if to == from {
            return Err(Error::refused(
                "already_owner",
                "user",
                "this list is yours already",
            ));
        }
        let reaches: Option<String> =
            query("SELECT role FROM list_access WHERE list_id = $1 AND user_id = $2")
                .bind(list)
                .bind(to)
                .scalar_optional(&mut tx)
                .await?;
        if reaches.is_none() {
            return Err(Error::refused(
                "not_a_member",
                "user",
                "only someone who can open the list can become its owner; invite them first",
            ));
        }
        let moving = lists.subtree(list);
        let mut crossing = Query::build(
            "SELECT k.task_id, k.other_id FROM task_links k \
             JOIN tasks a ON a.id = k.task_id JOIN tasks b ON b.id = k.other_id \
             WHERE (a.list_id IN (",
        );
        crossing.push_binds(moving.iter().copied());
        crossing.push(")) <> (b.list_id IN (");
        crossing.push_binds(moving.iter().copied());
        crossing.push(")) LIMIT 1");
        let linked: Option<(i64, i64)> = crossing.fetch_optional(&mut tx).await?;
        if let Some((task, other)) = linked {
            return Err(Error::refused(
                "linked_outside",
                "id",
                format!(
                    "task {task} is linked to task {other}, and only one of them is in this list; \
                     remove the link first"
                ),
            ));
        }
        // Every list moving, locked in one order (as a create's batch locks
        // them), so the two never wait on each other.
        if matches!(tx.conn(), crate::database::Conn::Postgres(_)) {
            let mut lock = Query::build("SELECT id FROM lists WHERE id IN (");
            lock.push_binds(moving.iter().copied());
            lock.push(") ORDER BY id FOR UPDATE");
            let _: Vec<(i64,)> = lock.fetch_all(&mut tx).await?;
        }
        let before = row.list();
        let position =
            crate::lists::Lists::load(&mut tx, to)
                .await?
                .place(None, list, Spot::Bottom)?;
        query(
            "UPDATE lists SET position = $2, version = version + 1, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(list)
        .bind(position)
        .bind(now)
        .execute(&mut tx)
        .await?;
        // Every row keyed by the owner follows the lists; the new owner
        // needs no grant or invitation of their own.
        for statement in [
            "UPDATE lists SET user_id = $1, was_given = TRUE WHERE id IN (",
            "DELETE FROM list_members WHERE user_id = $1 AND list_id IN (",
            "DELETE FROM invitations WHERE invitee = $1 AND list_id IN (",
        ] {
            let mut q = Query::build(statement).bind(to);
            q.push_binds(moving.iter().copied());
            q.push(")");
            q.execute(&mut tx).await?;
        }
        crate::tasks::sql::give(&mut tx, &moving, to).await?;
        query(
            "INSERT INTO list_members (list_id, user_id, role, added_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(list)
        .bind(from)
        .bind(Role::Admin.as_str())
        .bind(from)
        .bind(now)
        .execute(&mut tx)
        .await?;
        refresh_access(&mut tx, from, actor, now).await?;
        refresh_access(&mut tx, to, actor, now).await?;
        let after = self.list_row(&mut tx, to, list).await?.list();
        let mut event = NewEvent::list_change(
            to,
            actor,
            ListEventType::Transferred,
            Some(&before),
            Some(&after),
            now,
        )?;
        if let outbox::Body::List { change, .. } = &mut event.body {
            let owner = FieldChange {
                old: from.into(),
                new: to.into(),
            };
            let member = FieldChange {
                old: member_value(from, Some(Role::Owner)),
                new: member_value(from, Some(Role::Admin)),
            };
            change.changes.insert("owner".into(), owner);
            change.changes.insert("member".into(), member);
        }
        outbox::append(&mut tx, &event)?;
        tx.commit().await?;
        self.get_list(actor, list).await
    }

    /// List `id` of `owner`, as stored.
    async fn list_row(&self, tx: &mut Tx, owner: &str, id: i64) -> Result<ListRow> {
        crate::lists::Lists::load(tx, owner)
            .await?
            .find(&ListRef::Id(id), "id")
            .cloned()
    }
}

/// The refusal to change the owner's access.
fn owner_stays() -> Error {
    Error::refused(
        "owner_cannot_leave",
        "user",
        "the owner of a list is always its admin; they cannot be removed or change role",
    )
}

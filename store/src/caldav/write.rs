//! CalDAV's writes (plan 26 §7): `PUT`, `DELETE` and `MOVE` of a task's
//! resource. Each goes through the task service's one write path
//! (`sql::mutate`, or `sql::insert_created` for a new resource), so a
//! client's change is an ordinary task event, and the task's `task_ical`
//! row (the client's UID, name and what Taskflow does not model) is written
//! in the same transaction.
//!
//! UIDs are unique among an owner's live tasks: a `PUT` of a UID the owner
//! has in another list moves that task here (PUT-then-DELETE is how clients
//! move a to-do between calendars), so its history stays one task's. A
//! `RELATED-TO` parent not there yet waits in `pending_parent` until a task
//! of that UID is written in the same list.

use taskflow_core::calendar::{
    self, ClientResource, Completion, Current, Extra, Plan, Refused, Uids, plan_put,
};
use taskflow_core::{ListRef, Role, Spot, TaskFields, Zone};
use taskflow_events::{Source, TaskEventType};

use chrono::{DateTime, Utc};

use super::{DavObject, default_href};
use crate::database::{Executor, Param, Tx, query};
use crate::lists::{ListRow, Lists};
use crate::tasks::columns::StoredTask;
use crate::tasks::sql::{self, MAX_TASK_DEPTH};
use crate::tasks::{Actor, Change, Placement, anchor_after, check_user};
use crate::{Error, Result, TaskService};

/// A request's conditions on the resource's entity tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// `If-Match`: quoted tags, or `["*"]`.
    pub if_match: Option<Vec<String>>,
    /// `If-None-Match: *`: only if there is no such resource.
    pub if_none_match_any: bool,
}

/// What a `PUT` or `MOVE` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new task.
    Created { task_id: i64 },
    /// The task changed (a new version, a new tag).
    Updated { task_id: i64 },
    /// The body said what the task says: nothing written.
    Unchanged { task_id: i64 },
}

/// Why a CalDAV write was refused; each is one DAV answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DavRefusal {
    /// No such calendar or resource for the caller (404).
    NotFound,
    /// A precondition failed, or the task changed meanwhile (412).
    PreconditionFailed,
    /// The caller may only read the list (a viewer's, or archived): 403
    /// `need-privileges`.
    NeedPrivileges,
    /// The body cannot be stored (403 with its precondition).
    Invalid(Refused),
    /// The owner has a task of that UID the write cannot take over (403
    /// `no-uid-conflict`), named (its list and name) only if the caller
    /// reads its list.
    UidConflict { href: Option<(i64, String)> },
    /// The name is another task's of the owner, in another list (names are
    /// unique per owner): 409.
    NameTaken,
    /// The other list has another owner: a task moves only among its
    /// owner's lists (403).
    OtherOwner,
}

/// A write's answer: done, refused, or an error.
type Answer<T> = Result<Result<T, DavRefusal>>;

/// A task's `task_ical` row, as a CalDAV write leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IcalWrite {
    pub uid: String,
    /// The last segment of the resource's URL, decoded.
    pub href: String,
    pub extra: Extra,
    /// A parent UID the write named but could not apply.
    pub pending_parent: Option<String>,
    /// The task a `MOVE` with `Overwrite: T` replaces: deleted first.
    pub replacing: Option<i64>,
}

/// The UID Taskflow gives a task (`taskflow-task-{id}@host`), without
/// the host, which only the HTTP side knows: a row holding it means
/// "Taskflow's own UID" (see [`own_uid_id`]).
fn own_uid(id: i64) -> String {
    format!("taskflow-task-{id}@")
}

/// The task a UID of Taskflow's form names, whatever its host.
pub(crate) fn own_uid_id(uid: &str) -> Option<i64> {
    let (id, _host) = uid.strip_prefix("taskflow-task-")?.split_once('@')?;
    id.parse().ok().filter(|id| *id > 0)
}

/// Whether `a` and `b` are the same UID of task `id`.
fn same_uid(a: &str, b: &str, id: i64) -> bool {
    a == b || (own_uid_id(a) == Some(id) && own_uid_id(b) == Some(id))
}

/// A live task of the owner holding a UID.
#[derive(Debug, sqlx::FromRow)]
struct Holder {
    id: i64,
    list_id: i64,
    href: Option<String>,
    uid: Option<String>,
}

impl Holder {
    fn href(&self) -> String {
        self.href.clone().unwrap_or_else(|| default_href(self.id))
    }
}

/// The owner's live task whose UID is `uid`: a client's, or Taskflow's own
/// form naming a task without one.
async fn uid_holder(on: &mut impl Executor, owner: &str, uid: &str) -> Result<Option<Holder>> {
    let named: Option<Holder> = query(
        "SELECT t.id, t.list_id, i.href, i.uid FROM task_ical i JOIN tasks t ON t.id = i.task_id \
         WHERE i.user_id = $1 AND i.uid = $2 AND i.deleted_at IS NULL",
    )
    .bind(owner)
    .bind(uid)
    .fetch_optional(&mut *on)
    .await?;
    if named.is_some() {
        return Ok(named);
    }
    let Some(id) = own_uid_id(uid) else {
        return Ok(None);
    };
    let own: Option<Holder> = query(
        "SELECT t.id, t.list_id, i.href, i.uid FROM tasks t LEFT JOIN task_ical i \
         ON i.task_id = t.id WHERE t.id = $1 AND t.user_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(on)
    .await?;
    Ok(own.filter(|h| h.uid.as_deref().is_none_or(|u| own_uid_id(u) == Some(id))))
}

/// The owner's live task (but `except`) a client named `href`.
async fn href_holder(
    on: &mut impl Executor,
    owner: &str,
    href: &str,
    except: i64,
) -> Result<Option<i64>> {
    query(
        "SELECT task_id FROM task_ical WHERE user_id = $1 AND href = $2 \
         AND deleted_at IS NULL AND task_id <> $3",
    )
    .bind(owner)
    .bind(href)
    .bind(except)
    .scalar_optional(on)
    .await
}

/// Whether `pre` lets the write go on, given the resource's tag (None: no
/// such resource). `If-Match` compares strongly: a weak tag never matches
/// (RFC 9110 §13.1.1).
fn allowed(pre: &Preconditions, etag: Option<&str>) -> bool {
    if let Some(tags) = &pre.if_match {
        let Some(etag) = etag else {
            return false;
        };
        let matches = tags.iter().any(|t| t == "*" || t == etag);
        if !matches {
            return false;
        }
    }
    !(pre.if_none_match_any && etag.is_some())
}

/// The list, if the caller may write its tasks.
fn writable(lists: &Lists, list: i64) -> Result<&ListRow, DavRefusal> {
    let row = lists.get(list).ok_or(DavRefusal::NotFound)?;
    match row.role() >= Role::Editor && !lists.archived(list) {
        true => Ok(row),
        false => Err(DavRefusal::NeedPrivileges),
    }
}

/// The refusal an error of the write path stands for, if one does.
fn refusal(err: Error) -> Answer<PutOutcome> {
    match err {
        Error::NotFound | Error::NoSuchList { .. } => Ok(Err(DavRefusal::NotFound)),
        Error::Forbidden { .. }
        | Error::Refused {
            code: "list_archived",
            ..
        } => Ok(Err(DavRefusal::NeedPrivileges)),
        Error::Refused {
            code: "other_owner",
            ..
        } => Ok(Err(DavRefusal::OtherOwner)),
        Error::Conflict { .. } => Ok(Err(DavRefusal::PreconditionFailed)),
        other => Err(other),
    }
}

/// A resource found for a write.
struct Found {
    object: DavObject,
    body: super::DavBody,
}

impl TaskService {
    /// Stores the to-do `body` as the resource `href` of `list` for `user`
    /// (plan 26 §5–§7): a new task, an update (an echo changes nothing), a
    /// completion of a recurring one by any client's style, or the owner's
    /// task of that UID moved here from another list.
    pub async fn dav_put(
        &self,
        user: &str,
        list: i64,
        href: &str,
        body: &str,
        pre: &Preconditions,
    ) -> Answer<PutOutcome> {
        check_user(user)?;
        // Without If-Match the client did not ask for the version it saw:
        // a change between the read and the write is read again once.
        let mut tries = 0;
        loop {
            tries += 1;
            let retry = tries < 2 && pre.if_match.is_none();
            match self.put_once(user, list, href, body, pre).await {
                Err(Error::Conflict { .. }) if retry => continue,
                Err(Error::Refused {
                    code: "owner_changed",
                    ..
                }) if retry => continue,
                Err(err) => return refusal(err),
                done => return done,
            }
        }
    }

    /// Deletes the resource `href` of `list` (its subtasks too); its name
    /// is then reported gone.
    pub async fn dav_delete(
        &self,
        user: &str,
        list: i64,
        href: &str,
        pre: &Preconditions,
    ) -> Answer<()> {
        check_user(user)?;
        let actor = Actor::new(user, Source::Caldav);
        let lists = Lists::load(&mut self.db.read().await?, user).await?;
        if let Err(refused) = writable(&lists, list) {
            return Ok(Err(refused));
        }
        let Some(found) = self.found(list, href).await? else {
            return Ok(Err(DavRefusal::NotFound));
        };
        if !allowed(pre, Some(&found.object.etag)) {
            return Ok(Err(DavRefusal::PreconditionFailed));
        }
        let expected = pre.if_match.as_ref().map(|_| found.body.item.version);
        match self.delete(&actor, found.object.task_id, expected).await {
            Ok(_) => Ok(Ok(())),
            Err(err) => Ok(refusal(err)?.map(|_| ())),
        }
    }

    /// Moves the resource `href` of `list` to `to_href` of `to_list`, a
    /// list of the same owner (the task keeps its id and history).
    /// `overwrite` (`Overwrite: T`) replaces a resource there.
    #[allow(clippy::too_many_arguments)]
    pub async fn dav_move(
        &self,
        user: &str,
        list: i64,
        href: &str,
        to_list: i64,
        to_href: &str,
        overwrite: bool,
        pre: &Preconditions,
    ) -> Answer<PutOutcome> {
        check_user(user)?;
        let actor = Actor::new(user, Source::Caldav);
        let now = self.clock.now();
        let lists = Lists::load(&mut self.db.read().await?, user).await?;
        let (from, to) = match (writable(&lists, list), writable(&lists, to_list)) {
            (Ok(from), Ok(to)) => (from, to),
            (Err(refused), _) | (_, Err(refused)) => return Ok(Err(refused)),
        };
        if from.user_id != to.user_id {
            return Ok(Err(DavRefusal::OtherOwner));
        }
        let owner = from.user_id.clone();
        let Some(found) = self.found(list, href).await? else {
            return Ok(Err(DavRefusal::NotFound));
        };
        if !allowed(pre, Some(&found.object.etag)) {
            return Ok(Err(DavRefusal::PreconditionFailed));
        }
        let id = found.object.task_id;
        let replacing = match self.found(to_list, to_href).await? {
            Some(there) if there.object.task_id == id => {
                return Ok(Ok(PutOutcome::Unchanged { task_id: id }));
            }
            Some(_) if !overwrite => return Ok(Err(DavRefusal::PreconditionFailed)),
            Some(there) => Some(there.object.task_id),
            None => None,
        };
        let mut conn = self.db.read().await?;
        if replacing.is_none() && href_holder(&mut conn, &owner, to_href, id).await?.is_some() {
            return Ok(Err(DavRefusal::NameTaken));
        }
        // Replacing a task deletes its subtasks: never the one moving.
        if let Some(replaced) = replacing {
            let mut above = found.body.item.parent_id;
            for _ in 0..=taskflow_core::MAX_TASK_DEPTH {
                let Some(parent) = above else { break };
                if parent == replaced {
                    return Ok(Err(DavRefusal::NameTaken));
                }
                above = query("SELECT parent_id FROM tasks WHERE id = $1")
                    .bind(parent)
                    .scalar_optional::<Option<i64>>(&mut conn)
                    .await?
                    .flatten();
            }
        }
        drop(conn);
        let ical = IcalWrite {
            uid: found.body.uid.clone().unwrap_or_else(|| own_uid(id)),
            href: to_href.to_owned(),
            extra: extra_of(&found.body),
            pending_parent: pending_of(&found.body),
            replacing,
        };
        let target = ListRef::Id(to_list);
        let placement = (to_list != list).then_some(Placement {
            list: Some(&target),
            parent: None,
            spot: Spot::Bottom,
            only_if_moved: true,
        });
        let expected = Some(found.body.item.version);
        let moved = self
            .mutate_with(
                &actor,
                id,
                expected,
                placement,
                false,
                Some(&ical),
                now,
                |old| {
                    // A new name is a change of the resource: its tag moves.
                    Ok(Change::Update {
                        task: Box::new(old.clone()),
                        event: TaskEventType::Updated,
                    })
                },
            )
            .await;
        match moved {
            // A resource made at the destination, or one replaced there
            // (RFC 4918 §9.9.4).
            Ok(_) if replacing.is_none() => Ok(Ok(PutOutcome::Created { task_id: id })),
            Ok(_) => Ok(Ok(PutOutcome::Updated { task_id: id })),
            Err(err) => refusal(err),
        }
    }

    /// The resource `href` of `list`, with what it shows.
    async fn found(&self, list: i64, href: &str) -> Result<Option<Found>> {
        let object = self
            .dav_named(list, &[href], true)
            .await?
            .into_iter()
            .next();
        Ok(object.and_then(|mut object| {
            let body = object.body.take()?;
            Some(Found { object, body })
        }))
    }

    /// One try of [`TaskService::dav_put`].
    async fn put_once(
        &self,
        user: &str,
        list: i64,
        href: &str,
        body: &str,
        pre: &Preconditions,
    ) -> Answer<PutOutcome> {
        let actor = Actor::new(user, Source::Caldav);
        let now = self.clock.now();
        let mut conn = self.db.read().await?;
        let lists = Lists::load(&mut conn, user).await?;
        let row = match writable(&lists, list) {
            Ok(row) => row,
            Err(refused) => return Ok(Err(refused)),
        };
        let owner = row.user_id.clone();
        let found = self.found(list, href).await?;
        if !allowed(pre, found.as_ref().map(|f| f.object.etag.as_str())) {
            return Ok(Err(DavRefusal::PreconditionFailed));
        }
        let zone = match found.as_ref().and_then(|f| f.body.item.due) {
            Some(due) => due.zone(),
            None => user_zone(&mut conn, user).await?,
        };
        let client = match calendar::parse(body, zone) {
            Ok(client) => client,
            Err(refused) => return Ok(Err(DavRefusal::Invalid(refused))),
        };
        // Taskflow's names are its tasks': a new resource may take one only
        // for that task (moved here by its UID).
        if found.is_none()
            && let Some(n) = super::default_href_id(href)
            && !client.uid.starts_with(&format!("taskflow-task-{n}@"))
        {
            return Ok(Err(DavRefusal::NameTaken));
        }
        // Taskflow's own UIDs name its tasks: a resource takes one only
        // for the task it names, as the owner's own (moved here by its
        // UID) or as a copy of another owner's task, and only if the
        // caller can read that task (or the copy holding it). Else it is
        // refused as one naming no task: ids tell a member
        // nothing of lists they cannot read.
        if let Some(named) = own_uid_id(&client.uid)
            && found.as_ref().is_none_or(|f| f.object.task_id != named)
        {
            let reachable = match uid_holder(&mut conn, &owner, &client.uid).await? {
                Some(h) => {
                    (h.id == named || h.uid.as_deref() == Some(client.uid.as_str()))
                        && lists.get(h.list_id).is_some()
                }
                None => query("SELECT list_id FROM tasks WHERE id = $1")
                    .bind(named)
                    .scalar_optional::<i64>(&mut conn)
                    .await?
                    .is_some_and(|list| lists.get(list).is_some()),
            };
            if !reachable {
                return Ok(Err(DavRefusal::Invalid(Refused::ValidObject(format!(
                    "the UID {} names a Taskflow task you cannot reach; give a new to-do a UID of its own",
                    client.uid
                )))));
            }
        }
        let put = Put {
            actor: &actor,
            lists: &lists,
            owner: &owner,
            list,
            href,
            client: &client,
            now,
        };
        if let Some(found) = found {
            drop(conn);
            return self.put_existing(&put, found, list).await;
        }
        let Some(holder) = uid_holder(&mut conn, &owner, &client.uid).await? else {
            if href_holder(&mut conn, &owner, href, 0).await?.is_some() {
                return Ok(Err(DavRefusal::NameTaken));
            }
            drop(conn);
            return self.put_new(&put).await;
        };
        // The owner has this UID already: in this list under another name,
        // or in a list the caller cannot write, it stays where it is.
        let readable = lists
            .get(holder.list_id)
            .map(|_| (holder.list_id, holder.href()));
        if holder.list_id == list || writable(&lists, holder.list_id).is_err() {
            return Ok(Err(DavRefusal::UidConflict { href: readable }));
        }
        if href_holder(&mut conn, &owner, href, holder.id)
            .await?
            .is_some()
        {
            return Ok(Err(DavRefusal::NameTaken));
        }
        drop(conn);
        let Some(found) = self.found(holder.list_id, &holder.href()).await? else {
            // Gone meanwhile: read again.
            return Err(Error::Conflict { current: 0 });
        };
        self.put_existing(&put, found, holder.list_id).await
    }

    /// A `PUT` over an existing task (`found`, in `put.list` or, moved
    /// here by its UID, in another list of the owner: `from`).
    async fn put_existing(&self, put: &Put<'_>, found: Found, from: i64) -> Answer<PutOutcome> {
        let Found { object, body } = found;
        let (id, item) = (object.task_id, &body.item);
        let client = put.client;
        let current_uid = body.uid.clone().unwrap_or_else(|| own_uid(id));
        if !same_uid(&client.uid, &current_uid, id) {
            let mut conn = self.db.read().await?;
            let holder = uid_holder(&mut conn, put.owner, &client.uid).await?;
            if let Some(other) = holder.filter(|h| h.id != id) {
                let href = put
                    .lists
                    .get(other.list_id)
                    .map(|_| (other.list_id, other.href()));
                return Ok(Err(DavRefusal::UidConflict { href }));
            }
        }
        let uids = Uids {
            task: current_uid,
            parent: body.parent_uid.clone().or_else(|| {
                // Taskflow's own UID of the parent, in the client's spelling
                // when it names the same task (the host is the HTTP side's).
                let parent = item.parent_id?;
                Some(match client.parent_uid.as_deref() {
                    Some(sent) if own_uid_id(sent) == Some(parent) => sent.to_owned(),
                    _ => own_uid(parent),
                })
            }),
        };
        let extra = extra_of(&body);
        let current = Current {
            item,
            uids: &uids,
            extra: &extra,
        };
        let plan = plan_put(Some(&current), client, put.now);
        let moving = object.href != put.href || from != put.list;
        let (fields, completion, parent_uid, extra) = match plan {
            Plan::Unchanged if !moving => return Ok(Ok(PutOutcome::Unchanged { task_id: id })),
            Plan::Unchanged => (None, Completion::None, client.parent_uid.clone(), extra),
            Plan::Write {
                fields,
                completion,
                parent,
                extra,
            } => (Some(fields), completion, parent, extra),
        };
        let parent = match &parent_uid {
            Some(uid) => self.parent_for(put.owner, put.list, uid, Some(id)).await?,
            None => None,
        };
        let ical = IcalWrite {
            uid: client.uid.clone(),
            href: put.href.to_owned(),
            pending_parent: parent_uid.filter(|_| parent.is_none()),
            extra,
            replacing: None,
        };
        // A task keeps Taskflow's own UID and name without a row.
        let had_row = body.uid.is_some()
            || object.href != default_href(id)
            || extra_of(&body) != Extra::default()
            || pending_of(&body).is_some();
        let needs_row = had_row
            || own_uid_id(&ical.uid) != Some(id)
            || ical.href != default_href(id)
            || ical.extra != Extra::default()
            || ical.pending_parent.is_some();
        let target = ListRef::Id(put.list);
        let placement = Placement {
            list: Some(&target),
            parent: Some(parent),
            spot: Spot::Bottom,
            only_if_moved: true,
        };
        let now = put.now;
        let change = |old: &StoredTask| {
            let mut task = old.clone();
            if let Some(fields) = fields {
                task.anchor = anchor_after(old, &fields);
                if fields.recurrence.is_some() && task.series_id.is_none() {
                    task.series_id = Some(old.id);
                }
                task.fields = fields;
            }
            let event = match completion {
                Completion::Complete => {
                    task.completed_at = Some(now);
                    TaskEventType::Completed
                }
                Completion::Reopen => {
                    task.completed_at = None;
                    TaskEventType::Reopened
                }
                // An extras-only change is an update too: the tag moves.
                Completion::None => TaskEventType::Updated,
            };
            Ok(Change::Update {
                task: Box::new(task),
                event,
            })
        };
        // A phone cannot ask to complete the subtasks too: it always does.
        let written = self
            .mutate_with(
                put.actor,
                id,
                Some(item.version),
                Some(placement),
                true,
                needs_row.then_some(&ical),
                now,
                change,
            )
            .await;
        match written {
            Ok(_) => Ok(Ok(PutOutcome::Updated { task_id: id })),
            Err(err) => Err(err),
        }
    }

    /// A `PUT` of a new resource: the task and its row, in one transaction
    /// under the owner's lock, with the tasks waiting for its UID put under
    /// it.
    async fn put_new(&self, put: &Put<'_>) -> Answer<PutOutcome> {
        let (fields, completion, parent_uid, extra) = match plan_put(None, put.client, put.now) {
            Plan::Write {
                fields,
                completion,
                parent,
                extra,
            } => (fields, completion, parent, extra),
            // A new task is always written.
            Plan::Unchanged => (
                put.client.fields.clone(),
                Completion::None,
                put.client.parent_uid.clone(),
                put.client.extra.clone(),
            ),
        };
        let owner = put.owner;
        let mut tx = self.db.begin_for(owner).await?;
        sql::check_owners(&mut tx, [(put.list, owner)]).await?;
        // Read again under the lock: another write may have taken either.
        if uid_holder(&mut tx, owner, &put.client.uid).await?.is_some()
            || href_holder(&mut tx, owner, put.href, 0).await?.is_some()
        {
            return Err(Error::Conflict { current: 0 });
        }
        let mut task = new_task(owner, put.list, fields, completion, put.now);
        let parent = match &parent_uid {
            Some(uid) => parent_in(&mut tx, owner, put.list, uid, None).await?,
            None => None,
        };
        if let Some((parent, title)) = &parent {
            task.parent_id = Some(*parent);
            task.relations.parent_title = Some(title.clone());
        }
        let created = sql::insert_created(&mut tx, put.actor, &mut task).await?;
        let ical = IcalWrite {
            uid: put.client.uid.clone(),
            href: put.href.to_owned(),
            extra,
            pending_parent: parent_uid.filter(|_| parent.is_none()),
            replacing: None,
        };
        write_ical(
            &mut tx,
            put.actor,
            (owner, None, put.list, created.id),
            &ical,
            put.now,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(PutOutcome::Created {
            task_id: created.id,
        }))
    }

    /// The task of UID `uid` a task of `list` (`moving`, if it exists) can
    /// be put under, if there is one.
    async fn parent_for(
        &self,
        owner: &str,
        list: i64,
        uid: &str,
        moving: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut conn = self.db.read().await?;
        Ok(parent_in(&mut conn, owner, list, uid, moving)
            .await?
            .map(|(id, _)| id))
    }
}

/// A `PUT`'s request, read.
struct Put<'a> {
    actor: &'a Actor,
    lists: &'a Lists,
    /// The list's owner, who owns the task and its UID.
    owner: &'a str,
    list: i64,
    href: &'a str,
    client: &'a ClientResource,
    now: DateTime<Utc>,
}

/// A new task of `fields` in `list`, done already if the client said so.
fn new_task(
    owner: &str,
    list: i64,
    fields: TaskFields,
    completion: Completion,
    now: DateTime<Utc>,
) -> StoredTask {
    let mut task = StoredTask::new(owner, list, fields, now);
    if completion == Completion::Complete {
        task.completed_at = Some(now);
    }
    task
}

/// What the task's row keeps of the client's to-do.
fn extra_of(body: &super::DavBody) -> Extra {
    serde_json::from_value(body.extra.clone()).unwrap_or_default()
}

/// The parent UID the task waits for, if it has no parent.
fn pending_of(body: &super::DavBody) -> Option<String> {
    body.parent_uid
        .clone()
        .filter(|_| body.item.parent_id.is_none())
}

/// The caller's time zone, for a to-do's floating times.
async fn user_zone(on: &mut impl Executor, user: &str) -> Result<Zone> {
    let name: Option<Option<String>> = query("SELECT time_zone FROM users WHERE id = $1")
        .bind(user)
        .scalar_optional(on)
        .await?;
    Ok(name
        .flatten()
        .and_then(|name| Zone::parse(&name, "time_zone").ok())
        .unwrap_or(Zone::UTC))
}

/// The owner's live task of UID `uid` in `list` that can hold `moving` (a
/// new task if None) as a subtask, with its title: not `moving` or below
/// it, and not too deep. Any other parent is not applied.
async fn parent_in(
    on: &mut impl Executor,
    owner: &str,
    list: i64,
    uid: &str,
    moving: Option<i64>,
) -> Result<Option<(i64, String)>> {
    let Some(holder) = uid_holder(&mut *on, owner, uid).await? else {
        return Ok(None);
    };
    if holder.list_id != list || Some(holder.id) == moving {
        return Ok(None);
    }
    let above = match sql::check_parent(&mut *on, owner, holder.id, moving).await {
        Ok(above) => above,
        Err(Error::Invalid(_) | Error::NotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    let height = match moving {
        Some(id) => sql::height(&mut *on, owner, id).await?,
        None => 1,
    };
    Ok((above.depth + height <= MAX_TASK_DEPTH).then_some((holder.id, above.title)))
}

/// Writes task `id`'s row (of `owner`, in `list`) in `tx`, after deleting
/// the task it replaces, and puts the tasks of `list` waiting for its UID
/// under it, each with its `moved` event.
pub(crate) async fn write_ical(
    tx: &mut Tx,
    by: &Actor,
    (owner, from, list, id): (&str, Option<i64>, i64, i64),
    ical: &IcalWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(replaced) = ical.replacing {
        let old = sql::find(&mut *tx, owner, replaced)
            .await?
            .ok_or(Error::NotFound)?;
        for below in sql::descendants(&mut *tx, owner, &old).await?.iter().rev() {
            sql::delete_in(tx, by, below, now).await?;
        }
        sql::delete_in(tx, by, &old, now).await?;
    }
    if let Some(from) = from {
        retire_name(tx, id, from, list, &ical.href, now).await?;
    }
    query(
        "INSERT INTO task_ical (task_id, user_id, uid, href, extra, pending_parent) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id) DO UPDATE SET \
         user_id = excluded.user_id, uid = excluded.uid, href = excluded.href, \
         extra = excluded.extra, pending_parent = excluded.pending_parent, deleted_at = NULL",
    )
    .bind(id)
    .bind(owner)
    .bind(ical.uid.as_str())
    .bind(ical.href.as_str())
    .bind(Param::json(&ical.extra)?)
    .bind(ical.pending_parent.as_deref())
    .execute(&mut *tx)
    .await?;
    let waiting: Vec<(i64,)> = query(
        "SELECT i.task_id FROM task_ical i JOIN tasks t ON t.id = i.task_id \
         WHERE i.user_id = $1 AND i.pending_parent = $2 AND i.deleted_at IS NULL \
         AND t.list_id = $3 AND i.task_id <> $4 ORDER BY i.task_id",
    )
    .bind(owner)
    .bind(ical.uid.as_str())
    .bind(list)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    for (child,) in waiting {
        adopt(tx, by, owner, id, child, now).await?;
    }
    Ok(())
}

/// Keeps task `id`'s name in list `from` as retired when it is now `href`
/// in `list` (see migration 0024), and takes `href` in `list` off if it
/// was retired before (renamed back).
async fn retire_name(
    tx: &mut Tx,
    id: i64,
    from: i64,
    list: i64,
    href: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let named: Option<String> =
        query("SELECT href FROM task_ical WHERE task_id = $1 AND deleted_at IS NULL")
            .bind(id)
            .scalar_optional(&mut *tx)
            .await?;
    let old = named.unwrap_or_else(|| default_href(id));
    if old != href {
        query(
            "INSERT INTO task_ical_retired (task_id, list_id, href, retired_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(from)
        .bind(old.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        query("DELETE FROM task_ical_retired WHERE task_id = $1 AND list_id = $2 AND href = $3")
            .bind(id)
            .bind(list)
            .bind(href)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Puts task `child` (waiting for `parent`'s UID) under `parent`, at the
/// bottom of its subtasks, if the subtask rules allow; else it waits on.
async fn adopt(
    tx: &mut Tx,
    by: &Actor,
    owner: &str,
    parent: i64,
    child: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(old) = parent_in_tx(tx, owner, parent, child).await? else {
        return Ok(());
    };
    let (old, title) = old;
    let mut moved = old.clone();
    moved.parent_id = Some(parent);
    moved.relations.parent_title = Some(title);
    moved.position = sql::bottom_of(tx, old.list_id, Some(parent), child).await?;
    sql::mark_parents(&mut *tx, &[parent]).await?;
    sql::save_with_event(tx, by, &old, moved, TaskEventType::Moved, now).await?;
    query("UPDATE task_ical SET pending_parent = NULL WHERE task_id = $1")
        .bind(child)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Task `child` and the title of `parent`, if `child` can go under it.
async fn parent_in_tx(
    tx: &mut Tx,
    owner: &str,
    parent: i64,
    child: i64,
) -> Result<Option<(StoredTask, String)>> {
    let Some(old) = sql::find(&mut *tx, owner, child).await? else {
        return Ok(None);
    };
    let above = match sql::check_parent(&mut *tx, owner, parent, Some(child)).await {
        Ok(above) => above,
        Err(Error::Invalid(_) | Error::NotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    let height = sql::height(&mut *tx, owner, child).await?;
    if above.depth + height > MAX_TASK_DEPTH || above.list_id != old.list_id {
        return Ok(None);
    }
    Ok(Some((old, above.title)))
}

#[cfg(test)]
mod tests {
    use super::super::dav_etag;
    use super::*;

    #[test]
    fn own_uids_name_their_task_whatever_the_host() {
        assert_eq!(own_uid_id("taskflow-task-7@tasks.example.com"), Some(7));
        assert_eq!(own_uid_id(&own_uid(7)), Some(7));
        assert_eq!(own_uid_id("taskflow-task-0@h"), None);
        assert_eq!(own_uid_id("taskflow-task-x@h"), None);
        assert_eq!(own_uid_id("abc"), None);
        assert!(same_uid("taskflow-task-7@a", "taskflow-task-7@b", 7));
        assert!(!same_uid("taskflow-task-7@a", "taskflow-task-8@a", 7));
    }

    #[test]
    fn preconditions_compare_strong_tags() {
        let tag = dav_etag(3, 2);
        let pre = |if_match: Option<&[&str]>, none: bool| Preconditions {
            if_match: if_match.map(|t| t.iter().map(|s| s.to_string()).collect()),
            if_none_match_any: none,
        };
        assert!(allowed(&pre(None, false), Some(&tag)));
        assert!(allowed(&pre(Some(&["\"3-2\""]), false), Some(&tag)));
        assert!(allowed(&pre(Some(&["*"]), false), Some(&tag)));
        assert!(!allowed(&pre(Some(&["\"3-1\""]), false), Some(&tag)));
        assert!(!allowed(&pre(Some(&["W/\"3-2\""]), false), Some(&tag)));
        assert!(!allowed(&pre(Some(&["*"]), false), None));
        assert!(!allowed(&pre(None, true), Some(&tag)));
        assert!(allowed(&pre(None, true), None));
    }
}

//! The statements that read and write `tasks` (with `task_tags`): the only
//! writers of the table. Each write appends its outbox event in the same
//! transaction. Plain creates go to the batcher (`batch.rs`) instead.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use taskflow_core::{Invalid, ListRef, NotificationKind, Spot, Task, position};
use taskflow_events::{ReminderKind, Source, TaskEventType};

use crate::caldav::IcalWrite;
use crate::database::{Executor, Query, Tx, query};
use crate::idempotency::{self, IdempotentCreate};
use crate::lists::{ListRow, Lists};
use crate::notifications::{self, Telling};
use crate::outbox::{self, NewEvent};
use crate::tasks::columns::{self, SELECT, StoredTask, TaskRow};
use crate::tasks::{Actor, Change};
use crate::{Database, Error, Result};

/// `INSERT INTO tasks` of every column, returning the id.
static INSERT: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<_> = columns::names().collect();
    let places: Vec<_> = (1..=names.len()).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO tasks ({}) VALUES ({}) RETURNING id",
        names.join(", "),
        places.join(", ")
    )
});

/// `UPDATE tasks` of every column an update writes, if the row is still at
/// the version bound last.
static UPDATE: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<_> = columns::COLUMNS
        .iter()
        .filter(|c| c.write == columns::Write::Set)
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", c.name, i + 1))
        .collect();
    let n = set.len();
    format!(
        "UPDATE tasks SET {} WHERE id = ${} AND user_id = ${} AND version = ${}",
        set.join(", "),
        n + 1,
        n + 2,
        n + 3
    )
});

/// One of the user's tasks, as stored.
pub(crate) async fn find(
    on: &mut impl Executor,
    user: &str,
    id: i64,
) -> Result<Option<StoredTask>> {
    static FIND: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {} FROM tasks t WHERE t.id = $1 AND (t.user_id = $2 OR EXISTS \
             (SELECT 1 FROM list_access a WHERE a.user_id = $2 AND a.list_id = t.list_id))",
            *SELECT
        )
    });
    let row: Option<TaskRow> = query(&FIND).bind(id).bind(user).fetch_optional(on).await?;
    row.map(StoredTask::try_from).transpose()
}

/// Inserts a task (marking its parent, if any: see [`mark_parents`]);
/// returns its id.
async fn insert(tx: &mut Tx, task: &StoredTask) -> Result<i64> {
    if let Some(parent) = task.parent_id {
        mark_parents(&mut *tx, &[parent]).await?;
    }
    let derived = task.derived()?;
    query(&INSERT)
        .bind_all(columns::values(task, &derived))
        .scalar(tx)
        .await
}

/// Sets the `had_subtasks` hint of tasks about to get a subtask (migration
/// 0007). Done here, on the few writes that give a task a parent, rather
/// than by a trigger on `tasks`: any trigger costs SQLite every insert.
pub(crate) async fn mark_parents(on: &mut impl Executor, parents: &[i64]) -> Result<()> {
    if parents.is_empty() {
        return Ok(());
    }
    let mut q = Query::build("UPDATE tasks SET had_subtasks = ");
    q.push_bind(true)
        .push(" WHERE had_subtasks = ")
        .push_bind(false);
    q.push(" AND id IN (");
    q.push_binds(parents.iter().copied());
    q.push(")");
    q.execute(on).await?;
    Ok(())
}

/// Writes every column of `task`, if the row is still at `old_version`.
async fn save(tx: &mut Tx, task: &StoredTask, old_version: i64) -> Result<()> {
    let derived = task.derived()?;
    let done = query(&UPDATE)
        .bind_all(columns::updated_values(task, &derived))
        .bind(task.id)
        .bind(&task.user_id)
        .bind(old_version)
        .execute(tx)
        .await?;
    if done == 1 {
        Ok(())
    } else {
        Err(Error::Conflict {
            current: old_version,
        })
    }
}

/// Writes the task's tag rows; `replace` first removes the old ones.
async fn write_tags(tx: &mut Tx, task: &StoredTask, replace: bool) -> Result<()> {
    if replace {
        query("DELETE FROM task_tags WHERE task_id = $1")
            .bind(task.id)
            .execute(tx)
            .await?;
    }
    let tags = task.fields.tags.as_slice();
    if tags.is_empty() {
        return Ok(());
    }
    let mut insert = Query::build("INSERT INTO task_tags (task_id, user_id, tag) VALUES ");
    for (i, tag) in tags.iter().enumerate() {
        insert.push(if i == 0 { "(" } else { ", (" });
        insert.push_bind(task.id).push(", ");
        insert.push_bind(&task.user_id).push(", ");
        insert.push_bind(tag.as_str()).push(")");
    }
    insert.execute(tx).await?;
    Ok(())
}

/// Brings `task_assignees`, which indexes a task's `assignees` and
/// remembers who assigned each, from `before` to `task.assignees`: those
/// added were assigned `by` someone now.
async fn write_assignees(
    tx: &mut Tx,
    by: &Actor,
    before: &[String],
    task: &StoredTask,
) -> Result<()> {
    let gone: Vec<&str> = before
        .iter()
        .filter(|user| !task.assignees.contains(user))
        .map(String::as_str)
        .collect();
    if !gone.is_empty() {
        let mut delete = Query::build("DELETE FROM task_assignees WHERE task_id = ");
        delete.push_bind(task.id).push(" AND user_id IN (");
        delete.push_binds(gone.iter().copied());
        delete.push(")");
        delete.execute(&mut *tx).await?;
    }
    let added = added(before, task);
    if added.is_empty() {
        return Ok(());
    }
    let mut insert =
        Query::build("INSERT INTO task_assignees (task_id, user_id, assigned_by) VALUES ");
    for (i, user) in added.iter().enumerate() {
        insert.push(if i == 0 { "(" } else { ", (" });
        insert.push_bind(task.id).push(", ");
        insert.push_bind(user.as_str()).push(", ");
        insert.push_bind(by.user.as_str()).push(")");
    }
    insert.execute(tx).await?;
    Ok(())
}

/// The assignees of `task` not among `before`.
fn added(before: &[String], task: &StoredTask) -> Vec<String> {
    task.assignees
        .iter()
        .filter(|user| !before.contains(user))
        .cloned()
        .collect()
}

/// Tells what a change `by` someone (`event`, its type `kind`) means to
/// other people: each newly assigned is told so; a completion is told to
/// whoever assigned the task's assignees, if they still reach its list.
async fn tell_people(
    tx: &mut Tx,
    by: &Actor,
    (event, kind): (&NewEvent<'_>, TaskEventType),
    before: &[String],
    task: &StoredTask,
    now: DateTime<Utc>,
) -> Result<()> {
    let title = task.fields.title.as_str();
    // A recurring task's next occurrence (made by a worker) keeps its
    // assignees; they were told when they were assigned.
    let newly = match by.source {
        Source::Worker => Vec::new(),
        _ => added(before, task),
    };
    if !newly.is_empty() {
        let what = Telling {
            kind: NotificationKind::Assigned,
            task_id: Some(task.id),
            cause: event.event_id,
            text: &|name| format!("{name} assigned you {title}"),
        };
        notifications::tell(tx, by, &newly, what, now).await?;
    }
    if kind == TaskEventType::Completed && !task.assignees.is_empty() {
        let assigners: Vec<(String,)> = query(
            "SELECT DISTINCT assigned_by FROM task_assignees \
             WHERE task_id = $1 AND assigned_by IS NOT NULL",
        )
        .bind(task.id)
        .fetch_all(&mut *tx)
        .await?;
        let assigners: Vec<String> = assigners.into_iter().map(|(user,)| user).collect();
        let told = reaching(tx, &task.user_id, task.list_id, &assigners).await?;
        let what = Telling {
            kind: NotificationKind::Completed,
            task_id: Some(task.id),
            cause: event.event_id,
            text: &|name| format!("{name} completed {title}, a task you assigned"),
        };
        notifications::tell(tx, by, &told, what, now).await?;
    }
    Ok(())
}

/// Of `users`, those who reach `list` of `owner` (and so may be assigned
/// its tasks or told of them): the owner and its members.
pub(crate) async fn reaching(
    tx: &mut Tx,
    owner: &str,
    list: i64,
    users: &[String],
) -> Result<Vec<String>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::build("SELECT user_id FROM list_access WHERE list_id = ");
    q.push_bind(list).push(" AND user_id IN (");
    for (i, user) in users.iter().enumerate() {
        q.push(if i == 0 { "" } else { ", " });
        q.push_bind(user.as_str());
    }
    q.push(")");
    let members: Vec<(String,)> = q.fetch_all(tx).await?;
    let mut allowed: Vec<String> = members.into_iter().map(|(user,)| user).collect();
    if users.iter().any(|user| user == owner) {
        allowed.push(owner.to_owned());
    }
    Ok(allowed)
}

/// Refuses assignees who may not be assigned `task` (in its list, now).
async fn check_assignees(tx: &mut Tx, task: &StoredTask) -> Result<()> {
    if task.assignees.is_empty() {
        return Ok(());
    }
    let allowed = reaching(tx, &task.user_id, task.list_id, &task.assignees).await?;
    match task.assignees.iter().find(|user| !allowed.contains(user)) {
        Some(user) => Err(Error::AssigneeNotMember { user: user.clone() }),
        None => Ok(()),
    }
}

/// Unassigns, with an `updated` event each by `by`, whoever no longer
/// reaches the list of a task of `owner` they are assigned: after a member
/// is removed or leaves, or a list is moved out of a shared one. Run in the
/// transaction that changed the access, after `list_access` is rewritten.
pub(crate) async fn unassign_unreachable(
    tx: &mut Tx,
    by: &Actor,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<TaskRow> = query(&format!(
        "SELECT {} FROM tasks t WHERE t.user_id = $1 AND EXISTS (\
           SELECT 1 FROM task_assignees w WHERE w.task_id = t.id AND w.user_id <> $1 \
           AND NOT EXISTS (SELECT 1 FROM list_access a \
                           WHERE a.user_id = w.user_id AND a.list_id = t.list_id))",
        *SELECT
    ))
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let old = StoredTask::try_from(row)?;
        let allowed = reaching(tx, owner, old.list_id, &old.assignees).await?;
        let mut new = old.clone();
        new.assignees.retain(|user| allowed.contains(user));
        save_with_event(tx, by, &old, new, TaskEventType::Updated, now).await?;
    }
    Ok(())
}

/// Gives the tasks of `lists`, with their tags and links, to `owner`: the
/// tasks' side of a list changing owner, whose one event is the list's
/// (`list_transferred`). Who made and last changed each task is written
/// out first, since NULL there means the owner.
pub(crate) async fn give(tx: &mut Tx, lists: &[i64], owner: &str) -> Result<()> {
    // A CalDAV client's names are unique per owner: a task whose UID or
    // name the new owner uses already takes Taskflow's own instead, keeping
    // what else the client gave it (the list's sync tokens from before the
    // transfer are refused: a client syncs it anew).
    const CLASH: &str = "EXISTS (SELECT 1 FROM task_ical o WHERE o.user_id = $1 \
         AND o.deleted_at IS NULL AND o.FIELD = task_ical.FIELD)";
    let clash = |field: &str| CLASH.replace("FIELD", field);
    let mut q = Query::build(format!(
        "UPDATE task_ical SET \
         uid = CASE WHEN {} THEN 'taskflow-task-' || task_id || '@' ELSE uid END, \
         href = CASE WHEN {} THEN 'taskflow-task-' || task_id || '.ics' ELSE href END \
         WHERE deleted_at IS NULL AND task_id IN (SELECT id FROM tasks WHERE list_id IN (",
        clash("uid"),
        clash("href")
    ))
    .bind(owner);
    q.push_binds(lists.iter().copied());
    q.push("))");
    q.execute(&mut *tx).await?;
    for statement in [
        "UPDATE tasks SET created_by = COALESCE(created_by, user_id), \
         updated_by = COALESCE(updated_by, user_id), user_id = $1 WHERE list_id IN (",
        "UPDATE task_tags SET user_id = $1 WHERE task_id IN \
         (SELECT id FROM tasks WHERE list_id IN (",
        "UPDATE task_links SET user_id = $1 WHERE task_id IN \
         (SELECT id FROM tasks WHERE list_id IN (",
        "UPDATE task_ical SET user_id = $1 WHERE deleted_at IS NULL AND task_id IN \
         (SELECT id FROM tasks WHERE list_id IN (",
    ] {
        let mut q = Query::build(statement).bind(owner);
        q.push_binds(lists.iter().copied());
        q.push(if statement.contains("(SELECT") {
            "))"
        } else {
            ")"
        });
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Refuses (`owner_changed`) creates whose list changed owner after the
/// create read it: `creates` as (list, the owner it read). Inboxes never
/// change owner and are not read. On PostgreSQL the lists stay locked
/// (`FOR SHARE`) until the transaction ends: a transfer either went first,
/// and this sees its owner, or waits, and then takes the new task with the
/// list. (SQLite's one writer serialises them already.)
pub(crate) async fn check_owners<'a>(
    on: &mut impl Executor,
    creates: impl IntoIterator<Item = (i64, &'a str)>,
) -> Result<()> {
    let mut creates: Vec<(i64, &str)> = creates.into_iter().collect();
    creates.sort_unstable();
    creates.dedup();
    if creates.is_empty() {
        return Ok(());
    }
    let mut q = Query::build("SELECT id, user_id FROM lists WHERE NOT is_inbox AND id IN (");
    q.push_binds(creates.iter().map(|(list, _)| *list));
    q.push(") ORDER BY id");
    if matches!(on.conn(), crate::database::Conn::Postgres(_)) {
        q.push(" FOR SHARE");
    }
    let owners: Vec<(i64, String)> = q.fetch_all(on).await?;
    let moved = owners
        .iter()
        .any(|(list, owner)| creates.iter().any(|(l, read)| l == list && read != owner));
    match moved {
        true => Err(crate::lists::owner_moving()),
        false => Ok(()),
    }
}

/// Inserts a new task with its tags and its `created` event (at its
/// `updated_at`: an imported task keeps its `created_at`) in `tx`; a
/// recurring task starts its own series. Returns the task as shown.
pub(crate) async fn insert_created(tx: &mut Tx, by: &Actor, task: &mut StoredTask) -> Result<Task> {
    task.made_by(&by.user);
    check_assignees(tx, task).await?;
    let id = insert(tx, task).await?;
    task.with_id(id);
    if task.fields.recurrence.is_some() && task.series_id.is_none() {
        task.series_id = Some(task.id);
    }
    // The position (and a new series' id) come from the id, known now.
    query("UPDATE tasks SET position = $2, series_id = $3 WHERE id = $1")
        .bind(task.id)
        .bind(task.position.as_str())
        .bind(task.series_id)
        .execute(tx)
        .await?;
    write_tags(tx, task, false).await?;
    write_assignees(tx, by, &[], task).await?;
    let view = task.task();
    let event = NewEvent::change(
        &task.user_id,
        by,
        TaskEventType::Created,
        None,
        Some(&view),
        task.updated_at,
    )?;
    outbox::append(tx, &event)?;
    tell_people(
        tx,
        by,
        (&event, TaskEventType::Created),
        &[],
        task,
        task.updated_at,
    )
    .await?;
    Ok(view)
}

/// Marks the reminders and overdue notices of `user`'s tasks in `lists`
/// whose instants are past as given already: restored tasks were told of
/// them where they came from.
pub(crate) async fn mark_past_as_told(
    tx: &mut Tx,
    user: &str,
    lists: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    for (column, instant) in [
        ("reminded_for", "remind_at"),
        ("overdue_for", "deadline_at"),
    ] {
        let mut q = Query::build(format!(
            "UPDATE tasks SET {column} = {instant} WHERE user_id = "
        ));
        q.push_bind(user)
            .push(&format!(" AND {instant} <= "))
            .push_bind(now)
            .push(" AND list_id IN (");
        q.push_binds(lists.iter().copied());
        q.push(")");
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Creates a task and its `created` event in one transaction; with an
/// idempotency key, a repeat of the same request returns the first result.
/// (Plain creates are batched instead: see `batch.rs`.)
pub(crate) async fn create(
    db: &Database,
    by: &Actor,
    mut task: StoredTask,
    idempotency: Option<&IdempotentCreate>,
) -> Result<Task> {
    // A create reads nothing it writes, so it needs the caller's lock only
    // to make an idempotency key's check-then-insert atomic. Keys are the
    // caller's: two members of a list never share one.
    // Assignees are checked against the list's members, which a removal
    // changes under the owner's lock: take it too.
    let owner = task.user_id.clone();
    let mut tx = match (idempotency, task.assignees.is_empty()) {
        (Some(_), true) => db.begin_for(&by.user).await?,
        (Some(_), false) => db.begin_for_each(&[&by.user, &owner]).await?,
        (None, false) => db.begin_for(&owner).await?,
        (None, true) => db.begin().await?,
    };
    if let Some(key) = idempotency
        && let Some(earlier) = idempotency::earlier(&mut tx, &by.user, key).await?
    {
        return earlier;
    }
    // The owner was read before the transaction (a recurrence worker's
    // next occurrence reads it under the owner's lock instead).
    check_owners(&mut tx, [(task.list_id, task.user_id.as_str())]).await?;
    let view = insert_created(&mut tx, by, &mut task).await?;
    if let Some(key) = idempotency {
        idempotency::record(&mut tx, &by.user, key, &view).await?;
    }
    tx.commit().await?;
    Ok(view)
}

/// Where a change puts its task: into a list (or where it is), under a
/// parent (`Some(None)`: at the top level; None: where it is), at `spot`
/// among its siblings. With `only_if_moved`, naming the list and parent it
/// already has leaves it where it is (an update naming its own list).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement<'a> {
    pub list: Option<&'a ListRef>,
    pub parent: Option<Option<i64>>,
    pub spot: Spot,
    pub only_if_moved: bool,
}

/// How deep subtasks nest: a top-level task is at depth 1.
pub(crate) use taskflow_core::MAX_TASK_DEPTH;

/// Changes one task in one transaction: loads it under the user's lock,
/// checks the expected version and that its list is not archived, lets
/// `change` decide, places it if asked, then writes the row and its event
/// together. A completion with open subtasks is refused unless `cascade`
/// (then each completes, with its event); a deletion deletes its subtasks;
/// a move to another list takes its subtasks along. Returns the task as it
/// is afterwards (as it was, for a deletion). `inbox` (the user's) skips
/// reading the lists for a task in the Inbox, which is never archived.
/// `ical`, for a CalDAV write, is the task's `task_ical` row, written with
/// an update in the same transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn mutate(
    db: &Database,
    by: &Actor,
    id: i64,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
    inbox: i64,
    placement: Option<Placement<'_>>,
    cascade: bool,
    ical: Option<&IcalWrite>,
    change: impl FnOnce(&StoredTask) -> Result<Change>,
) -> Result<Task> {
    let user = by.user.as_str();
    let mut tx = db.begin_for(user).await?;
    let mut old = find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
    if old.user_id != user {
        // A member's change is serialised with the owner's changes (and a
        // list given away meanwhile is refused, to be tried again).
        drop(tx);
        let locked = old.user_id.clone();
        tx = db.begin_for(&locked).await?;
        old = find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
        if old.user_id != locked {
            return Err(crate::lists::owner_moving());
        }
    }
    let owner = old.user_id.clone();
    if let Some(expected) = expected_version
        && expected != old.version
    {
        return Err(Error::Conflict {
            current: old.version,
        });
    }
    let lists = match placement.is_some() || inbox != old.list_id {
        true => Some(Lists::load(&mut tx, user).await?),
        false => None,
    };
    if let Some(lists) = &lists {
        lists.writable(&ListRef::Id(old.list_id), "id")?;
    }
    let mut change = change(&old)?;
    if let (Some(placement), Some(lists)) = (placement, &lists) {
        change = place_change(&mut tx, user, lists, &old, placement, change).await?;
    }
    let after = match change {
        Change::Unchanged => return Ok(old.task()),
        Change::Delete => {
            for below in descendants(&mut tx, &owner, &old).await?.iter().rev() {
                delete_in(&mut tx, by, below, now).await?;
            }
            delete_in(&mut tx, by, &old, now).await?;
            None
        }
        Change::Update { task, event } => {
            let below = descendants(&mut tx, &owner, &old).await?;
            if event == TaskEventType::Completed {
                let open: Vec<_> = below.iter().filter(|t| t.completed_at.is_none()).collect();
                if !open.is_empty() && !cascade {
                    return Err(Error::refused(
                        "open_subtasks",
                        "cascade",
                        format!(
                            "the task has {} open subtask(s); complete them first, or pass cascade=true to complete them with it",
                            open.len()
                        ),
                    ));
                }
                // Completed where the task goes, if it moves too: each
                // subtask is saved once.
                for subtask in open.into_iter().rev() {
                    let mut done = subtask.clone();
                    done.completed_at = Some(now);
                    done.list_id = task.list_id;
                    save_with_event(&mut tx, by, subtask, done, event, now).await?;
                }
            }
            if task.list_id != old.list_id {
                let completing = event == TaskEventType::Completed;
                for subtask in &below {
                    if completing && subtask.completed_at.is_none() {
                        continue;
                    }
                    let mut moved = subtask.clone();
                    moved.list_id = task.list_id;
                    save_with_event(&mut tx, by, subtask, moved, TaskEventType::Moved, now).await?;
                }
            }
            let mut task = *task;
            task.relations.open_child_count = match event {
                TaskEventType::Completed => 0,
                _ => task.relations.open_child_count,
            };
            let list = task.list_id;
            let saved = save_with_event(&mut tx, by, &old, task, event, now).await?;
            if let Some(ical) = ical {
                let at = (owner.as_str(), Some(old.list_id), list, old.id);
                crate::caldav::write_ical(&mut tx, by, at, ical, now).await?;
            }
            Some(saved)
        }
    };
    tx.commit().await?;
    Ok(after.unwrap_or_else(|| old.task()))
}

/// The list `to`, if a task of `task`'s owner may move there: a task stays
/// with its owner (their lists, and the lists they share).
pub(crate) fn same_owner<'l>(to: &'l ListRow, task: &StoredTask) -> Result<&'l ListRow> {
    if to.user_id != task.user_id {
        return Err(Error::refused(
            "other_owner",
            "list",
            "a task moves only among the lists of its list's owner; \
             create it anew in the other list instead",
        ));
    }
    Ok(to)
}

/// `change` with the task put where `placement` says: its list, parent and
/// position checked and set, a change of list or place being a `moved`.
async fn place_change(
    tx: &mut Tx,
    user: &str,
    lists: &Lists,
    old: &StoredTask,
    placement: Placement<'_>,
    change: Change,
) -> Result<Change> {
    let named = match placement.list {
        Some(named) => Some(same_owner(lists.writable(named, "list")?, old)?.id),
        None => None,
    };
    let mut target = named.unwrap_or(old.list_id);
    let parent = match placement.parent {
        Some(parent) => parent,
        // A subtask moved to another list alone leaves its parent.
        None if target == old.list_id => old.parent_id,
        None => None,
    };
    if placement.only_if_moved && target == old.list_id && parent == old.parent_id {
        return Ok(change);
    }
    let mut parent_title = None;
    if let Some(parent_id) = parent {
        let above = check_parent(tx, user, parent_id, Some(old.id)).await?;
        if named.is_some_and(|list| list != above.list_id) {
            return Err(Invalid::new(
                "parent",
                format!(
                    "task {parent_id} is in another list; a subtask stays in its parent's list"
                ),
            )
            .into());
        }
        target = above.list_id;
        same_owner(lists.writable(&ListRef::Id(target), "parent")?, old)?;
        let height = height(tx, &old.user_id, old.id).await?;
        if above.depth + height > MAX_TASK_DEPTH {
            return Err(Invalid::new(
                "parent",
                format!("subtasks nest at most {MAX_TASK_DEPTH} levels deep"),
            )
            .into());
        }
        parent_title = Some(above.title);
    }
    let position = place(tx, user, target, parent, old.id, placement.spot).await?;
    let (mut task, event) = match change {
        Change::Update { task, event } => (*task, event),
        Change::Unchanged => (old.clone(), TaskEventType::Moved),
        Change::Delete => return Err(Error::Internal("a deletion cannot be placed".into())),
    };
    // A completion or a reopening stays one when it moves the task too (a
    // phone completing a to-do it moved): the Recurrence worker hears it.
    let event = match event {
        TaskEventType::Completed | TaskEventType::Reopened => event,
        _ if target == old.list_id && parent == old.parent_id => event,
        _ => TaskEventType::Moved,
    };
    if let Some(parent_id) = parent
        && parent != old.parent_id
    {
        mark_parents(&mut *tx, &[parent_id]).await?;
    }
    task.list_id = target;
    task.parent_id = parent;
    task.relations.parent_title = parent_title;
    task.position = position;
    Ok(match task == *old {
        true => Change::Unchanged,
        false => Change::Update {
            task: Box::new(task),
            event,
        },
    })
}

/// A parent a task can be put under, as checked.
pub(crate) struct Above {
    pub list_id: i64,
    pub title: String,
    /// Its depth: 1 at the top level.
    pub depth: usize,
}

/// Checks that task `parent_id` of `user` can hold a subtask (`moving`, if
/// it is an existing task, must not be it or above it).
pub(crate) async fn check_parent(
    on: &mut impl Executor,
    user: &str,
    parent_id: i64,
    moving: Option<i64>,
) -> Result<Above> {
    let parent = find(&mut *on, user, parent_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut depth = 1;
    let mut up = Some(parent.id);
    while let Some(at) = up {
        if Some(at) == moving {
            return Err(Invalid::new(
                "parent",
                "a task cannot become a subtask of itself or of one of its subtasks",
            )
            .into());
        }
        up = query("SELECT parent_id FROM tasks WHERE id = $1 AND user_id = $2")
            .bind(at)
            .bind(parent.user_id.as_str())
            .scalar_optional::<Option<i64>>(&mut *on)
            .await?
            .flatten();
        if up.is_some() {
            depth += 1;
        }
        if depth > MAX_TASK_DEPTH + 1 {
            break;
        }
    }
    Ok(Above {
        list_id: parent.list_id,
        title: parent.fields.title.as_str().to_owned(),
        depth,
    })
}

/// Every subtask below `task`, level by level (parents before their
/// subtasks), each level in the manual order. No query when its row shows
/// none.
pub(crate) async fn descendants(
    on: &mut impl Executor,
    user: &str,
    task: &StoredTask,
) -> Result<Vec<StoredTask>> {
    static CHILDREN: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {} FROM tasks t WHERE t.parent_id = $1 AND t.user_id = $2 \
             ORDER BY t.position, t.id",
            *SELECT
        )
    });
    let mut out: Vec<StoredTask> = Vec::new();
    if task.relations.child_count == 0 {
        return Ok(out);
    }
    let mut level = vec![task.id];
    for _ in 0..MAX_TASK_DEPTH {
        let mut next = Vec::new();
        for parent in level {
            let rows: Vec<TaskRow> = query(&CHILDREN)
                .bind(parent)
                .bind(user)
                .fetch_all(&mut *on)
                .await?;
            for row in rows {
                let task = StoredTask::try_from(row)?;
                next.push(task.id);
                out.push(task);
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(out)
}

/// How many levels task `id` and its subtasks span (1: none).
pub(crate) async fn height(on: &mut impl Executor, user: &str, id: i64) -> Result<usize> {
    let mut height = 1;
    let mut level = vec![id];
    while !level.is_empty() && height <= MAX_TASK_DEPTH {
        let mut q = Query::build("SELECT id FROM tasks WHERE user_id = ");
        q.push_bind(user).push(" AND parent_id IN (");
        q.push_binds(level.iter().copied());
        q.push(")");
        let rows: Vec<(i64,)> = q.fetch_all(&mut *on).await?;
        level = rows.into_iter().map(|(id,)| id).collect();
        if !level.is_empty() {
            height += 1;
        }
    }
    Ok(height)
}

/// Deletes a task with its `deleted` event in `tx`.
pub(crate) async fn delete_in(
    tx: &mut Tx,
    by: &Actor,
    task: &StoredTask,
    now: DateTime<Utc>,
) -> Result<()> {
    query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
        .bind(task.id)
        .bind(&task.user_id)
        .execute(&mut *tx)
        .await?;
    // A CalDAV client's name for it is kept, so a sync report can tell the
    // client it is gone; its UID and name are free again.
    query("UPDATE task_ical SET deleted_at = $1 WHERE task_id = $2 AND deleted_at IS NULL")
        .bind(now)
        .bind(task.id)
        .execute(&mut *tx)
        .await?;
    let before = task.task();
    let event = NewEvent::change(
        &task.user_id,
        by,
        TaskEventType::Deleted,
        Some(&before),
        None,
        now,
    )?;
    outbox::append(tx, &event)?;
    Ok(())
}

/// Writes `new` over `old` (one version on) with its event in `tx`;
/// returns the task as shown.
pub(crate) async fn save_with_event(
    tx: &mut Tx,
    by: &Actor,
    old: &StoredTask,
    mut new: StoredTask,
    event: TaskEventType,
    now: DateTime<Utc>,
) -> Result<Task> {
    new.version = old.version + 1;
    new.updated_at = now;
    new.made_by(&by.user);
    if new.assignees != old.assignees {
        check_assignees(tx, &new).await?;
    } else if new.list_id != old.list_id && !new.assignees.is_empty() {
        // Moved: whoever does not reach the new list is unassigned.
        let allowed = reaching(tx, &new.user_id, new.list_id, &new.assignees).await?;
        new.assignees.retain(|user| allowed.contains(user));
    }
    save(tx, &new, old.version).await?;
    if new.fields.tags != old.fields.tags {
        write_tags(tx, &new, true).await?;
    }
    if new.assignees != old.assignees {
        write_assignees(tx, by, &old.assignees, &new).await?;
    }
    let (before, after) = (old.task(), new.task());
    let appended = NewEvent::change(&old.user_id, by, event, Some(&before), Some(&after), now)?;
    outbox::append(tx, &appended)?;
    tell_people(tx, by, (&appended, event), &old.assignees, &new, now).await?;
    Ok(after)
}

/// The position of task `moving` put at `spot` among its siblings: the
/// tasks of `list` under `parent`.
async fn place(
    tx: &mut Tx,
    user: &str,
    list: i64,
    parent: Option<i64>,
    moving: i64,
    spot: Spot,
) -> Result<String> {
    let neighbour = |x: &StoredTask, field: &'static str| -> Result<()> {
        if x.id == moving {
            return Err(Invalid::new(field, "a task cannot be placed next to itself").into());
        }
        if x.list_id != list || x.parent_id != parent {
            return Err(Invalid::new(
                field,
                format!(
                    "task {} is not beside it (another list or parent); give a task it goes next to",
                    x.id
                ),
            )
            .into());
        }
        Ok(())
    };
    let first = |desc: bool| {
        let order = if desc { "DESC" } else { "ASC" };
        format!(
            "SELECT position FROM tasks WHERE list_id = $1 AND parent_id IS NOT DISTINCT FROM $2 \
             AND id <> $3 ORDER BY position {order}, id {order} LIMIT 1"
        )
    };
    Ok(match spot {
        Spot::Top => {
            let top: Option<String> = query(&first(false))
                .bind(list)
                .bind(parent)
                .bind(moving)
                .scalar_optional(&mut *tx)
                .await?;
            position::between(None, top.as_deref())
        }
        Spot::Bottom => bottom_of(tx, list, parent, moving).await?,
        Spot::Before(id) | Spot::After(id) => {
            let before = matches!(spot, Spot::Before(_));
            let field = if before { "before_id" } else { "after_id" };
            let x = find(&mut *tx, user, id).await?.ok_or(Error::NotFound)?;
            neighbour(&x, field)?;
            let (cmp, order) = if before { ("<", "DESC") } else { (">", "ASC") };
            let other: Option<String> = query(&format!(
                "SELECT position FROM tasks WHERE list_id = $1 \
                 AND parent_id IS NOT DISTINCT FROM $2 AND id <> $3 \
                 AND (position {cmp} $4 OR (position = $4 AND id {cmp} $5)) \
                 ORDER BY position {order}, id {order} LIMIT 1"
            ))
            .bind(list)
            .bind(parent)
            .bind(moving)
            .bind(x.position.as_str())
            .bind(x.id)
            .scalar_optional(&mut *tx)
            .await?;
            if before {
                position::between(other.as_deref(), Some(&x.position))
            } else {
                let ceiling = ceiling(tx).await?;
                position::between(
                    Some(&x.position),
                    Some(other.as_deref().unwrap_or(&ceiling)),
                )
            }
        }
    })
}

/// The position at the bottom of `list` under `parent` (but `moving`):
/// after its last task and before any task created later (whose key comes
/// from a higher id).
pub(crate) async fn bottom_of(
    tx: &mut Tx,
    list: i64,
    parent: Option<i64>,
    moving: i64,
) -> Result<String> {
    let last: Option<String> = query(
        "SELECT position FROM tasks WHERE list_id = $1 AND parent_id IS NOT DISTINCT FROM $2 \
         AND id <> $3 ORDER BY position DESC, id DESC LIMIT 1",
    )
    .bind(list)
    .bind(parent)
    .bind(moving)
    .scalar_optional(&mut *tx)
    .await?;
    let ceiling = ceiling(tx).await?;
    Ok(position::between(last.as_deref(), Some(&ceiling)))
}

/// The key of the next task to be created: no placed task goes past it.
async fn ceiling(tx: &mut Tx) -> Result<String> {
    let max: Option<i64> = query("SELECT MAX(id) FROM tasks").scalar(&mut *tx).await?;
    Ok(position::of_id(max.unwrap_or(0) + 1))
}

/// Handles one delivery of a completion event for `consumer`, once: records
/// (consumer, event id) and, if `next` says so, creates the next occurrence
/// with its `created` event, all in one transaction. Returns the new task, or
/// None when the event was seen before or nothing is to be created.
pub(crate) async fn next_occurrence(
    db: &Database,
    receipt: &outbox::Receipt<'_>,
    user: &str,
    task_id: i64,
    next: impl FnOnce(&StoredTask) -> Option<StoredTask>,
) -> Result<Option<Task>> {
    // The recurrence worker makes the next occurrence for the task's owner
    // now (`user` owned it when it was completed; its list may have been
    // given away since), under their lock.
    let now_owner: Option<String> = query("SELECT user_id FROM tasks WHERE id = $1")
        .bind(task_id)
        .scalar_optional(&mut db.read().await?)
        .await?;
    let user = now_owner.as_deref().unwrap_or(user);
    let by = Actor::new(user, taskflow_events::Source::Worker);
    let mut tx = db.begin_for(user).await?;
    if !outbox::first_delivery(&mut tx, receipt).await? {
        return Ok(None);
    }
    let already: Option<i64> = query("SELECT id FROM tasks WHERE previous_id = $1")
        .bind(task_id)
        .scalar_optional(&mut tx)
        .await?;
    let current = match already {
        None => find(&mut tx, user, task_id).await?,
        Some(_) => None,
    };
    if current.as_ref().is_some_and(|task| task.user_id != user) {
        // Given away again meanwhile: tried again under the next owner.
        return Err(crate::lists::owner_moving());
    }
    let Some((current, mut task)) = current.and_then(|c| next(&c).map(|t| (c, t))) else {
        tx.commit().await?;
        return Ok(None);
    };
    let view = insert_created(&mut tx, &by, &mut task).await?;
    if !task.assignees.is_empty() {
        // Whoever assigned the series assigned this occurrence too (and is
        // told when it is completed).
        query(
            "UPDATE task_assignees SET assigned_by = COALESCE((SELECT p.assigned_by \
               FROM task_assignees p WHERE p.task_id = $2 AND p.user_id = task_assignees.user_id), \
             assigned_by) WHERE task_id = $1",
        )
        .bind(task.id)
        .bind(task_id)
        .execute(&mut tx)
        .await?;
    }
    // A checklist comes back: fresh open copies of the subtasks, in order.
    let below = descendants(&mut tx, user, &current).await?;
    let mut copied = std::collections::HashMap::from([(task_id, (task.id, view.title.clone()))]);
    for subtask in below {
        let Some((parent, title)) = subtask.parent_id.and_then(|p| copied.get(&p)).cloned() else {
            continue;
        };
        let mut fields = subtask.fields.clone();
        fields.due = None;
        fields.recurrence = None;
        fields.reminder = None;
        let mut copy = StoredTask::new(user, task.list_id, fields, task.created_at);
        copy.parent_id = Some(parent);
        copy.relations.parent_title = Some(title);
        insert_created(&mut tx, &by, &mut copy).await?;
        copied.insert(subtask.id, (copy.id, copy.fields.title.as_str().to_owned()));
    }
    tx.commit().await?;
    Ok(Some(view))
}

/// The tags of the tasks the user reaches (their own, and those of lists
/// shared with them) with the number of tasks carrying each, alphabetically.
pub(crate) async fn tags(db: &Database, user: &str) -> Result<Vec<(String, i64)>> {
    query(
        "SELECT tag, COUNT(*) FROM (\
           SELECT tag FROM task_tags WHERE user_id = $1 \
           UNION ALL \
           SELECT g.tag FROM task_tags g JOIN tasks t ON t.id = g.task_id \
           WHERE t.list_id IN (SELECT a.list_id FROM list_access a WHERE a.user_id = $1)\
         ) AS reached GROUP BY tag ORDER BY tag",
    )
    .bind(user)
    .fetch_all(&mut db.read().await?)
    .await
}

/// A task whose reminder or overdue instant came, as a claim returns it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Claimed {
    pub id: i64,
    pub user_id: String,
    pub list_id: i64,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    /// The instant that came: remind_at or deadline_at.
    pub instant: DateTime<Utc>,
}

/// Claims in `tx` up to `limit` tasks whose `kind` instant is at or before
/// `now`, marking each fired for that instant (bookkeeping columns no surface
/// shows, so no event): a conditional UPDATE, so concurrent schedulers never
/// both win one.
pub(crate) async fn claim_due(
    tx: &mut Tx,
    kind: ReminderKind,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let sql = match kind {
        ReminderKind::ReminderDue => {
            "UPDATE tasks SET reminded_for = remind_at \
             WHERE id IN (SELECT id FROM tasks WHERE NOT completed AND remind_at IS NOT NULL \
                          AND reminded_for IS DISTINCT FROM remind_at AND remind_at <= $1 \
                          ORDER BY remind_at LIMIT $2) \
               AND NOT completed AND reminded_for IS DISTINCT FROM remind_at \
             RETURNING id, user_id, list_id, title, due_at, remind_at AS instant"
        }
        // A snooze holds the overdue notice too, until it ends.
        ReminderKind::TaskOverdue => {
            "UPDATE tasks SET overdue_for = deadline_at \
             WHERE id IN (SELECT id FROM tasks WHERE NOT completed AND deadline_at IS NOT NULL \
                          AND overdue_for IS DISTINCT FROM deadline_at AND deadline_at <= $1 \
                          AND (snoozed_until IS NULL OR snoozed_until <= $1) \
                          ORDER BY deadline_at LIMIT $2) \
               AND NOT completed AND overdue_for IS DISTINCT FROM deadline_at \
             RETURNING id, user_id, list_id, title, due_at, deadline_at AS instant"
        }
    };
    query(sql)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(tx)
        .await
}

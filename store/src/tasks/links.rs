//! Links between tasks (`task_links`): `blocks`, read both ways, and
//! `relates`. A link joins two tasks of the same user, never a task to
//! itself, and `blocks` never makes a cycle. Each change is a
//! `task.linked`/`task.unlinked` event on the task named in the path.

use std::collections::{HashMap, HashSet};

use taskflow_core::{
    CommentPage, FieldChange, Invalid, LinkKind, LinkedTask, Links, Task, TaskDetail, TaskInclude,
};
use taskflow_events::TaskEventType;

use crate::database::{Executor, Tx, query};
use crate::outbox::{self, NewEvent};
use crate::tasks::columns::{SELECT, StoredTask, TaskRow};
use crate::tasks::sql::find;
use crate::tasks::{Actor, check_user};
use crate::{Error, Result, TaskService};

/// The stored row of a link `kind` between `id` and `other`: (from, kind,
/// to). `blocked_by` is the other task's `blocks`; `relates` is stored
/// from the lower id.
fn stored(id: i64, kind: LinkKind, other: i64) -> (i64, &'static str, i64) {
    match kind {
        LinkKind::Blocks => (id, "blocks", other),
        LinkKind::BlockedBy => (other, "blocks", id),
        LinkKind::Relates => (id.min(other), "relates", id.max(other)),
    }
}

/// Adds (or removes) the link `kind` from `task` to task `other` in `tx`,
/// with its event on `task` when it changed anything; returns `task` as
/// `by` sees it after.
pub(crate) async fn write(
    tx: &mut Tx,
    by: &Actor,
    task: &StoredTask,
    (kind, other): (LinkKind, i64),
    add: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Task> {
    let (from, stored_kind, to) = stored(task.id, kind, other);
    let changed = if add {
        query(
            "INSERT INTO task_links (task_id, kind, other_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(from)
        .bind(stored_kind)
        .bind(to)
        .bind(task.user_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
    } else {
        query("DELETE FROM task_links WHERE task_id = $1 AND kind = $2 AND other_id = $3")
            .bind(from)
            .bind(stored_kind)
            .bind(to)
            .execute(&mut *tx)
            .await?
    };
    let after = find(&mut *tx, &by.user, task.id)
        .await?
        .ok_or(Error::NotFound)?
        .task();
    if changed == 0 {
        return Ok(after);
    }
    let (event_type, change) = match add {
        true => (
            TaskEventType::Linked,
            FieldChange {
                old: serde_json::Value::Null,
                new: other.into(),
            },
        ),
        false => (
            TaskEventType::Unlinked,
            FieldChange {
                old: other.into(),
                new: serde_json::Value::Null,
            },
        ),
    };
    let before = task.task();
    let mut event = NewEvent::change(
        &task.user_id,
        by,
        event_type,
        Some(&before),
        Some(&after),
        now,
    )?;
    if let crate::outbox::Body::Task { change: body, .. } = &mut event.body {
        body.changes.insert(kind.as_str().to_owned(), change);
    }
    outbox::append(tx, &event)?;
    Ok(after)
}

impl TaskService {
    /// Links task `id` to task `other`; linking them again changes nothing.
    pub async fn link(&self, actor: &Actor, id: i64, kind: LinkKind, other: i64) -> Result<Task> {
        self.change_link(actor, id, kind, other, true).await
    }

    /// Removes a link; removing a missing link changes nothing.
    pub async fn unlink(&self, actor: &Actor, id: i64, kind: LinkKind, other: i64) -> Result<Task> {
        self.change_link(actor, id, kind, other, false).await
    }

    async fn change_link(
        &self,
        actor: &Actor,
        id: i64,
        kind: LinkKind,
        other: i64,
        add: bool,
    ) -> Result<Task> {
        check_user(&actor.user)?;
        let user = actor.user.as_str();
        if id == other {
            return Err(Invalid::new("other_id", "a task cannot be linked to itself").into());
        }
        let now = self.clock.now();
        let mut tx = self.db.begin_for(user).await?;
        let mut task = find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
        if task.user_id != user {
            // A member's change is serialised with the owner's changes.
            drop(tx);
            tx = self.db.begin_for(&task.user_id).await?;
            task = find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
        }
        let owner = task.user_id.clone();
        let linked = find(&mut tx, user, other).await?.ok_or(Error::NotFound)?;
        let lists = crate::lists::Lists::load(&mut tx, user).await?;
        lists.writable(&taskflow_core::ListRef::Id(task.list_id), "id")?;
        if linked.user_id != owner {
            return Err(Error::refused(
                "other_owner",
                "other_id",
                "tasks link only within the lists of one owner",
            ));
        }
        let (from, stored_kind, to) = stored(id, kind, other);
        if add && stored_kind == "blocks" && reaches(&mut tx, &owner, to, from).await? {
            return Err(Invalid::new(
                "other_id",
                format!("task {to} already blocks task {from}, directly or through others; a cycle of blocks is refused"),
            )
            .into());
        }
        let after = write(&mut tx, actor, &task, (kind, other), add, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// One of the user's tasks with, as asked, its subtasks (in the manual
    /// order) and its links.
    pub async fn get_detail(
        &self,
        user: &str,
        id: i64,
        include: &TaskInclude,
    ) -> Result<TaskDetail> {
        check_user(user)?;
        let parts = include.parts()?;
        let (children, links) = (parts.children, parts.links);
        let mut conn = self.db.read().await?;
        let stored = find(&mut conn, user, id).await?.ok_or(Error::NotFound)?;
        // The row says whether there are any: no query for none.
        let children = match (children, stored.relations.child_count) {
            (false, _) => None,
            (true, 0) => Some(Vec::new()),
            (true, _) => Some(children_of(&mut conn, &stored.user_id, id).await?),
        };
        let links = match (links, stored.relations.had_links) {
            (false, _) => None,
            (true, false) => Some(Links::default()),
            (true, true) => Some(links_of(&mut conn, &stored.user_id, user, id).await?),
        };
        let comments = match (parts.comments, stored.relations.had_comments) {
            (false, _) => None,
            (true, false) => Some(CommentPage::default()),
            (true, true) => {
                Some(crate::comments::page(&mut conn, id, None, DETAIL_COMMENTS).await?)
            }
        };
        let task = stored.task();
        Ok(TaskDetail {
            task,
            children,
            links,
            comments,
        })
    }
}

/// How many of its newest comments a task's detail view shows.
const DETAIL_COMMENTS: u32 = 10;

/// Whether `start` reaches `goal` by following `blocks` links.
async fn reaches(tx: &mut Tx, user: &str, start: i64, goal: i64) -> Result<bool> {
    let edges: Vec<(i64, i64)> =
        query("SELECT task_id, other_id FROM task_links WHERE user_id = $1 AND kind = 'blocks'")
            .bind(user)
            .fetch_all(tx)
            .await?;
    let mut next: HashMap<i64, Vec<i64>> = HashMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    let mut seen = HashSet::from([start]);
    let mut frontier = vec![start];
    while let Some(at) = frontier.pop() {
        if at == goal {
            return Ok(true);
        }
        for &to in next.get(&at).into_iter().flatten() {
            if seen.insert(to) {
                frontier.push(to);
            }
        }
    }
    Ok(false)
}

/// The direct subtasks of task `id`, in the manual order.
async fn children_of(on: &mut impl Executor, user: &str, id: i64) -> Result<Vec<Task>> {
    let rows: Vec<TaskRow> = query(&format!(
        "SELECT {} FROM tasks t WHERE t.parent_id = $1 AND t.user_id = $2 ORDER BY t.position, t.id",
        *SELECT
    ))
    .bind(id)
    .bind(user)
    .fetch_all(on)
    .await?;
    rows.into_iter().map(TaskRow::into_task).collect()
}

/// Task `id`'s links (of `owner`'s tasks), each read from its side: those
/// to tasks the `reader` reaches.
async fn links_of(on: &mut impl Executor, owner: &str, reader: &str, id: i64) -> Result<Links> {
    let rows: Vec<(i64, String, i64, String, bool)> = query(
        "SELECT k.task_id, k.kind, k.other_id, o.title, o.completed \
         FROM task_links k JOIN tasks o ON o.id = CASE WHEN k.task_id = $1 THEN k.other_id ELSE k.task_id END \
         WHERE k.user_id = $2 AND (k.task_id = $1 OR k.other_id = $1) \
         AND (o.user_id = $3 OR o.list_id IN (SELECT a.list_id FROM list_access a WHERE a.user_id = $3)) \
         ORDER BY o.id",
    )
    .bind(id)
    .bind(owner)
    .bind(reader)
    .fetch_all(on)
    .await?;
    let mut links = Links::default();
    for (from, kind, to, title, completed) in rows {
        let linked = LinkedTask {
            id: if from == id { to } else { from },
            title,
            completed,
        };
        match (kind.as_str(), from == id) {
            ("blocks", true) => links.blocks.push(linked),
            ("blocks", false) => links.blocked_by.push(linked),
            _ => links.relates.push(linked),
        }
    }
    Ok(links)
}

//! Comments on tasks. Whoever reaches a task reads its comments; editors
//! (and the owner) write them; an author edits their own, and deletes them,
//! as an admin of the list may too. Each comment is an event on the task's
//! timeline (`comment_created`, `comment_updated`, `comment_deleted`, with
//! the comment in `changes.comment`), so history, live views and webhooks
//! see it; the task itself does not change.

use chrono::{DateTime, Utc};
use taskflow_core::{
    Comment, CommentPage, FieldChange, ListRef, NotificationKind, Role, WriteComment,
};
use taskflow_events::TaskEventType;
use uuid::Uuid;

use crate::database::{Executor, Query, Tx, query};
use crate::lists::Lists;
use crate::notifications::{self, Telling};
use crate::outbox::{self, NewEvent};
use crate::tasks::columns::StoredTask;
use crate::tasks::{Actor, check_user, sql};
use crate::{Error, Result, TaskService};

/// The most comments a page holds.
pub const MAX_COMMENT_PAGE: u32 = 100;

/// A `comments` row with its author's names.
#[derive(Debug, sqlx::FromRow)]
struct CommentRow {
    id: i64,
    task_id: i64,
    author: String,
    username: Option<String>,
    display_name: Option<String>,
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        Comment {
            id: row.id,
            task_id: row.task_id,
            author: taskflow_core::UserSummary {
                username: row.username.unwrap_or_else(|| row.author.clone()),
                display_name: row.display_name.unwrap_or_else(|| row.author.clone()),
                id: row.author,
            },
            body: row.body,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const SELECT: &str = "SELECT c.id, c.task_id, c.author, u.username, u.display_name, c.body, \
     c.created_at, c.updated_at FROM comments c LEFT JOIN users u ON u.id = c.author";

/// Task `task`'s comments, newest first, older than comment `before`.
pub(crate) async fn page(
    on: &mut impl Executor,
    task: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<CommentPage> {
    let mut q = Query::build(SELECT);
    q.push(" WHERE c.task_id = ").push_bind(task);
    if let Some(before) = before {
        q.push(" AND c.id < ").push_bind(before);
    }
    q.push(" ORDER BY c.id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let mut rows: Vec<CommentRow> = q.fetch_all(on).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let comments: Vec<Comment> = rows.into_iter().map(Comment::from).collect();
    Ok(CommentPage {
        next_before: more.then(|| comments.last().map(|c| c.id)).flatten(),
        comments,
    })
}

async fn one(on: &mut impl Executor, task: i64, id: i64) -> Result<Comment> {
    let row: Option<CommentRow> = query(&format!("{SELECT} WHERE c.task_id = $1 AND c.id = $2"))
        .bind(task)
        .bind(id)
        .fetch_optional(on)
        .await?;
    row.map(Comment::from).ok_or(Error::NotFound)
}

/// The task `id` as `user` reaches it, in a transaction holding its owner's
/// lock (comments are serialised with the task's changes and deletion),
/// with the lists the user reaches (to check their role).
async fn locked_task(svc: &TaskService, user: &str, id: i64) -> Result<(Tx, StoredTask, Lists)> {
    let mut tx = svc.db.begin_for(user).await?;
    let mut task = sql::find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
    if task.user_id != user {
        drop(tx);
        let locked = task.user_id.clone();
        tx = svc.db.begin_for(&locked).await?;
        task = sql::find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
        if task.user_id != locked {
            return Err(crate::lists::owner_moving());
        }
    }
    let lists = Lists::load(&mut tx, user).await?;
    Ok((tx, task, lists))
}

/// Appends a comment's event to the task's timeline: the comment as it
/// was and as it is (None: not yet, or no more) in `changes.comment`.
/// Returns the event's id.
async fn comment_event(
    tx: &mut Tx,
    by: &Actor,
    task: &StoredTask,
    event_type: TaskEventType,
    (old, new): (Option<&Comment>, Option<&Comment>),
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let view = task.task();
    let mut event = NewEvent::change(&task.user_id, by, event_type, Some(&view), Some(&view), now)?;
    if let outbox::Body::Task { change, .. } = &mut event.body {
        let comment = FieldChange {
            old: serde_json::to_value(old)?,
            new: serde_json::to_value(new)?,
        };
        change.changes.insert("comment".into(), comment);
    }
    outbox::append(tx, &event)?;
    Ok(event.event_id)
}

/// Writes `by`'s comment on `task`, made at `at`, with its event and
/// whom it tells, in `tx`.
pub(crate) async fn insert(
    tx: &mut Tx,
    by: &Actor,
    task: &StoredTask,
    body: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Comment> {
    let id: i64 = query(
        "INSERT INTO comments (task_id, author, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(task.id)
    .bind(by.user.as_str())
    .bind(body)
    .bind(at)
    .scalar(&mut *tx)
    .await?;
    let comment = one(&mut *tx, task.id, id).await?;
    let sides = (None, Some(&comment));
    let cause = comment_event(tx, by, task, TaskEventType::CommentCreated, sides, now).await?;
    tell_followers(tx, by, task, cause, &comment.body, now).await?;
    Ok(comment)
}

/// Tells of a new comment whoever follows the task: who made it, its
/// assignees and who commented on it before, if they still reach its list.
async fn tell_followers(
    tx: &mut Tx,
    by: &Actor,
    task: &StoredTask,
    cause: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let authors: Vec<(String,)> = query("SELECT DISTINCT author FROM comments WHERE task_id = $1")
        .bind(task.id)
        .fetch_all(&mut *tx)
        .await?;
    let mut followers: Vec<String> = authors.into_iter().map(|(user,)| user).collect();
    followers.extend(task.assignees.iter().cloned());
    followers.push(
        task.created_by
            .clone()
            .unwrap_or_else(|| task.user_id.clone()),
    );
    followers.sort_unstable();
    followers.dedup();
    let told = sql::reaching(tx, &task.user_id, task.list_id, &followers).await?;
    let title = task.fields.title.as_str();
    let what = Telling {
        kind: NotificationKind::Commented,
        task_id: Some(task.id),
        cause,
        text: &|name| format!("{name} commented on {title}: {}", excerpt(body)),
    };
    notifications::tell(tx, by, &told, what, now).await
}

/// The start of a comment, as a notification quotes it.
fn excerpt(body: &str) -> String {
    const SHOWN: usize = 100;
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= SHOWN {
        return line;
    }
    let mut cut: String = line.chars().take(SHOWN - 1).collect();
    cut.push('…');
    cut
}

impl TaskService {
    /// A page of task `task`'s comments, newest first (at most 100).
    pub async fn comments(
        &self,
        user: &str,
        task: i64,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<CommentPage> {
        check_user(user)?;
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_COMMENT_PAGE).contains(&limit) {
            return Err(taskflow_core::Invalid::new(
                "limit",
                format!("limit must be between 1 and {MAX_COMMENT_PAGE}"),
            )
            .into());
        }
        let mut conn = self.db.read().await?;
        sql::find(&mut conn, user, task)
            .await?
            .ok_or(Error::NotFound)?;
        page(&mut conn, task, before, limit).await
    }

    /// Adds a comment to task `task` (the caller must be able to edit it).
    pub async fn add_comment(
        &self,
        actor: &Actor,
        task: i64,
        input: &WriteComment,
    ) -> Result<Comment> {
        check_user(&actor.user)?;
        let body = input.parse()?;
        let now = self.clock.now();
        let (mut tx, stored, lists) = locked_task(self, &actor.user, task).await?;
        lists.writable(&ListRef::Id(stored.list_id), "id")?;
        let comment = insert(&mut tx, actor, &stored, &body, now, now).await?;
        tx.commit().await?;
        Ok(comment)
    }

    /// Edits comment `id` of task `task` (only its author).
    pub async fn update_comment(
        &self,
        actor: &Actor,
        task: i64,
        id: i64,
        input: &WriteComment,
    ) -> Result<Comment> {
        check_user(&actor.user)?;
        let body = input.parse()?;
        let now = self.clock.now();
        let (mut tx, stored, lists) = locked_task(self, &actor.user, task).await?;
        let before = one(&mut tx, task, id).await?;
        lists.writable(&ListRef::Id(stored.list_id), "id")?;
        if before.author.id != actor.user {
            return Err(Error::refused(
                "not_the_author",
                "id",
                "only its author edits a comment",
            ));
        }
        if before.body == body {
            return Ok(before);
        }
        query("UPDATE comments SET body = $3, updated_at = $4 WHERE task_id = $1 AND id = $2")
            .bind(task)
            .bind(id)
            .bind(body.as_str())
            .bind(now)
            .execute(&mut tx)
            .await?;
        let after = one(&mut tx, task, id).await?;
        let sides = (Some(&before), Some(&after));
        comment_event(
            &mut tx,
            actor,
            &stored,
            TaskEventType::CommentUpdated,
            sides,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes comment `id` of task `task`: its author (who may still edit
    /// the task) or an admin of the list.
    pub async fn delete_comment(&self, actor: &Actor, task: i64, id: i64) -> Result<()> {
        check_user(&actor.user)?;
        let now = self.clock.now();
        let (mut tx, stored, lists) = locked_task(self, &actor.user, task).await?;
        let before = one(&mut tx, task, id).await?;
        let list = ListRef::Id(stored.list_id);
        if before.author.id == actor.user {
            lists.writable(&list, "id")?;
        } else {
            lists.with_role(&list, Role::Admin, "id")?;
        }
        query("DELETE FROM comments WHERE task_id = $1 AND id = $2")
            .bind(task)
            .bind(id)
            .execute(&mut tx)
            .await?;
        let sides = (Some(&before), None);
        comment_event(
            &mut tx,
            actor,
            &stored,
            TaskEventType::CommentDeleted,
            sides,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

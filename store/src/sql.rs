// The SQL of every store operation, written once and compiled twice: this
// file is `include!`d by `sqlite.rs` and `postgres.rs`, each of which defines
// `Db` (the sqlx driver), `Pools`, `MIGRATOR` and `lock_user` before it. The
// statements use only what both databases accept ($N parameters, RETURNING,
// partial indexes, ESCAPE); what differs lives in those two files.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use taskflow_core::{SortKey, StatusFilter, Task, TaskFilter, field_changes};
use taskflow_events::{ReminderKind, ReminderMessage, Source, TaskEventBody, TaskEventType};
use uuid::Uuid;

use crate::cursor::{Cursor, SortValue, undated};
use crate::record::{
    ConversationRow, DispatchRow, MessageRow, NotificationRow, Stored, TASK_COLUMNS, TaskRow,
};
use crate::outbox::OutboxRow;
use crate::service::{Change, HistoryRow, IdempotentCreate};
use crate::{Error, Result};

type Tx = sqlx::Transaction<'static, Db>;

/// Binds a new task's 25 `tasks` columns, in `INSERT` order, to `$query`
/// (`$task` a `Stored`, `$d` its `derived()`); shared by every insert.
macro_rules! bind_new_task {
    ($query:expr, $task:expr, $d:expr) => {
        $query
            .bind(&$task.user_id)
            .bind($task.fields.title.as_str())
            .bind(&$d.title_key)
            .bind($task.fields.description.as_ref().map(|x| x.as_str()))
            .bind(&$d.search)
            .bind($task.completed_at.is_some())
            .bind($task.completed_at)
            .bind($d.priority.as_str())
            .bind($d.priority.rank())
            .bind(&$d.tags)
            .bind(&$d.due_local)
            .bind(&$d.timezone)
            .bind($d.due_at)
            .bind($d.deadline_at)
            .bind(&$d.recurrence)
            .bind(&$d.anchor_local)
            .bind($d.reminder_minutes)
            .bind($d.reminder_at)
            .bind($d.remind_at)
            .bind($task.snoozed_until)
            .bind($task.series_id)
            .bind($task.previous_id)
            .bind($task.version)
            .bind($task.created_at)
            .bind($task.updated_at)
    };
}
type Conn = <Db as sqlx::Database>::Connection;

/// Applies every pending migration.
pub async fn migrate(pools: &Pools) -> Result<()> {
    MIGRATOR.run(&pools.write).await?;
    Ok(())
}

/// Starts a write transaction holding the user's write lock.
async fn begin(pools: &Pools, user: &str) -> Result<Tx> {
    let mut tx = pools.write.begin().await?;
    lock_user(&mut tx, user).await?;
    Ok(tx)
}

async fn find(conn: &mut Conn, user: &str, id: i64) -> Result<Option<Stored>> {
    let row: Option<TaskRow> = sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Stored::try_from).transpose()
}

/// One of the user's tasks.
pub async fn get(pools: &Pools, user: &str, id: i64) -> Result<Stored> {
    let mut conn = pools.read.acquire().await?;
    find(&mut conn, user, id).await?.ok_or(Error::NotFound)
}

async fn insert(tx: &mut Tx, task: &Stored) -> Result<i64> {
    let d = task.derived();
    let query = sqlx::query_scalar(
        "INSERT INTO tasks (user_id, title, title_key, description, search, completed, \
         completed_at, priority, priority_rank, tags, due_local, timezone, due_at, deadline_at, \
         recurrence, anchor_local, reminder_minutes, reminder_at, remind_at, snoozed_until, \
         series_id, previous_id, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25) RETURNING id",
    );
    let id: i64 = bind_new_task!(query, task, d).fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Writes every column of `task`, if the row is still at `old_version`.
async fn save(tx: &mut Tx, task: &Stored, old_version: i64) -> Result<()> {
    let d = task.derived();
    let done = sqlx::query(
        "UPDATE tasks SET title = $1, title_key = $2, description = $3, search = $4, \
         completed = $5, completed_at = $6, priority = $7, priority_rank = $8, tags = $9, \
         due_local = $10, timezone = $11, due_at = $12, deadline_at = $13, recurrence = $14, \
         anchor_local = $15, reminder_minutes = $16, reminder_at = $17, remind_at = $18, \
         snoozed_until = $19, series_id = $20, version = $21, updated_at = $22 \
         WHERE id = $23 AND user_id = $24 AND version = $25",
    )
    .bind(task.fields.title.as_str())
    .bind(&d.title_key)
    .bind(task.fields.description.as_ref().map(|x| x.as_str()))
    .bind(&d.search)
    .bind(task.completed_at.is_some())
    .bind(task.completed_at)
    .bind(d.priority.as_str())
    .bind(d.priority.rank())
    .bind(&d.tags)
    .bind(&d.due_local)
    .bind(&d.timezone)
    .bind(d.due_at)
    .bind(d.deadline_at)
    .bind(&d.recurrence)
    .bind(&d.anchor_local)
    .bind(d.reminder_minutes)
    .bind(d.reminder_at)
    .bind(d.remind_at)
    .bind(task.snoozed_until)
    .bind(task.series_id)
    .bind(task.version)
    .bind(task.updated_at)
    .bind(task.id)
    .bind(&task.user_id)
    .bind(old_version)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::Conflict {
            current: old_version,
        })
    }
}

/// Writes the task's tag rows; `replace` first removes the old ones.
async fn write_tags(tx: &mut Tx, task: &Stored, replace: bool) -> Result<()> {
    if replace {
        sqlx::query("DELETE FROM task_tags WHERE task_id = $1")
            .bind(task.id)
            .execute(&mut **tx)
            .await?;
    }
    let tags = task.fields.tags.as_slice();
    if tags.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<Db>::new("INSERT INTO task_tags (task_id, user_id, tag) ");
    insert.push_values(tags, |mut row, tag| {
        row.push_bind(task.id).push_bind(&task.user_id).push_bind(tag);
    });
    insert.build().execute(&mut **tx).await?;
    Ok(())
}

/// Appends the change's event to the outbox; returns its sequence number.
async fn append_event(
    tx: &mut Tx,
    user: &str,
    source: Source,
    event_type: TaskEventType,
    old: Option<&Task>,
    new: Option<&Task>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let Some(snapshot) = new.or(old) else {
        return Err(Error::Internal("an event needs a task".into()));
    };
    let body = TaskEventBody {
        task_data: snapshot.clone(),
        changes: field_changes(old, new),
    };
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, data, \
           traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING sequence",
    )
    .bind(Uuid::now_v7())
    .bind(user)
    .bind(snapshot.id)
    .bind(event_type.as_str())
    .bind(source.as_str())
    .bind(now)
    .bind(Json(&body))
    .bind(taskflow_events::trace::current_traceparent())
    .fetch_one(&mut **tx)
    .await?;
    Ok(sequence)
}

/// How many creates one batch commits at most.
pub const MAX_BATCH: usize = 64;

/// A plain create waiting for the batcher.
#[derive(Debug)]
pub struct CreateJob {
    task: Stored,
    source: Source,
    body: TaskEventBody,
    event_id: Uuid,
    /// The creating request's trace, captured here: the batcher runs on a
    /// task of its own.
    traceparent: Option<String>,
    reply: tokio::sync::oneshot::Sender<Result<i64>>,
}

/// Plain creates (no recurrence, no idempotency key) go to the batcher,
/// which commits every create queued meanwhile in one transaction and one
/// round trip (`commit_batch`). A create touches a dozen B-tree pages
/// (table, indexes, event, tags); committing many together writes each page
/// to the log once per batch instead of once per create, and pays the round
/// trip, the commit and its flush once per batch.
async fn create_in_batch(pools: &Pools, source: Source, mut task: Stored) -> Result<Task> {
    let view = task.task();
    let body = TaskEventBody {
        changes: field_changes(None, Some(&view)),
        task_data: view,
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = CreateJob {
        task: task.clone(),
        source,
        body,
        event_id: Uuid::now_v7(),
        traceparent: taskflow_events::trace::current_traceparent(),
        reply,
    };
    if pools.creates.send(job).await.is_err() {
        return Err(Error::Unavailable(sqlx::Error::PoolClosed));
    }
    task.id = answer
        .await
        .map_err(|_| Error::Unavailable(sqlx::Error::PoolClosed))??;
    Ok(task.task())
}

/// Commits queued creates in batches, up to `BATCHES_IN_FLIGHT` at once
/// (each taking what has queued while the others commit), until every
/// sender is gone; signals `committed` after each commit.
pub async fn batcher(
    write: sqlx::Pool<Db>,
    queue: tokio::sync::mpsc::Receiver<CreateJob>,
    committed: Option<tokio::sync::mpsc::Sender<()>>,
) {
    let queue = tokio::sync::Mutex::new(queue);
    let lane = || async {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            answer_batch(&write, std::mem::take(&mut jobs)).await;
            if let Some(committed) = &committed {
                let _ = committed.try_send(());
            }
        }
    };
    futures::future::join_all((0..BATCHES_IN_FLIGHT).map(|_| lane())).await;
}

/// Commits one batch and answers each of its creates.
async fn answer_batch(write: &sqlx::Pool<Db>, batch: Vec<CreateJob>) {
    let started = std::time::Instant::now();
    let committed = commit_batch(write, &batch).await;
    metrics::histogram!("taskflow_create_batch_size").record(batch.len() as f64);
    metrics::histogram!("taskflow_create_batch_seconds").record(started.elapsed().as_secs_f64());
    match committed {
        Ok(ids) => {
            for (job, id) in batch.into_iter().zip(ids) {
                let _ = job.reply.send(Ok(id));
            }
        }
        // One bad create must not fail its neighbours: retry each alone.
        Err(_) if batch.len() > 1 => {
            for job in batch {
                let result = commit_batch(write, std::slice::from_ref(&job))
                    .await
                    .and_then(|ids| {
                        ids.first()
                            .copied()
                            .ok_or_else(|| Error::Internal("no id".into()))
                    });
                let _ = job.reply.send(result);
            }
        }
        Err(err) => {
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(err));
            }
        }
    }
}

/// Creates a task and its `created` event; with an idempotency key, a repeat
/// of the same request returns the first result.
pub async fn create(
    pools: &Pools,
    source: Source,
    mut task: Stored,
    idempotency: Option<&IdempotentCreate>,
) -> Result<Task> {
    if idempotency.is_none() && task.fields.recurrence.is_none() {
        return create_in_batch(pools, source, task).await;
    }
    // A create reads nothing it writes, so it needs the user's lock only to
    // make an idempotency key's check-then-insert atomic.
    let mut tx = if idempotency.is_some() {
        begin(pools, &task.user_id).await?
    } else {
        pools.write.begin().await?
    };
    if let Some(key) = idempotency {
        let earlier: Option<(Json<serde_json::Value>, Json<Task>)> = sqlx::query_as(
            "SELECT request, response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(&task.user_id)
        .bind(&key.key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((Json(request), Json(response))) = earlier {
            return if request == key.request {
                Ok(response)
            } else {
                Err(Error::IdempotencyMismatch)
            };
        }
    }
    task.id = insert(&mut tx, &task).await?;
    if task.fields.recurrence.is_some() && task.series_id.is_none() {
        task.series_id = Some(task.id);
        sqlx::query("UPDATE tasks SET series_id = $1 WHERE id = $1")
            .bind(task.id)
            .execute(&mut *tx)
            .await?;
    }
    write_tags(&mut tx, &task, false).await?;
    let view = task.task();
    append_event(
        &mut tx,
        &task.user_id,
        source,
        TaskEventType::Created,
        None,
        Some(&view),
        task.created_at,
    )
    .await?;
    if let Some(key) = idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request, task_id, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&task.user_id)
        .bind(&key.key)
        .bind(Json(&key.request))
        .bind(task.id)
        .bind(Json(&view))
        .bind(task.created_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(view)
}

/// Changes one task in one transaction: loads it under the user's lock,
/// checks the expected version, lets `change` decide, then writes the row and
/// its event together. Returns the task as it is afterwards (as it was, for a
/// deletion).
pub async fn mutate(
    pools: &Pools,
    user: &str,
    source: Source,
    id: i64,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
    change: impl FnOnce(&Stored) -> Result<Change>,
) -> Result<Task> {
    let mut tx = begin(pools, user).await?;
    let old = find(&mut tx, user, id).await?.ok_or(Error::NotFound)?;
    if let Some(expected) = expected_version
        && expected != old.version
    {
        return Err(Error::Conflict {
            current: old.version,
        });
    }
    let before = old.task();
    let after = match change(&old)? {
        Change::Unchanged => return Ok(before),
        Change::Delete => {
            sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .execute(&mut *tx)
                .await?;
            append_event(&mut tx, user, source, TaskEventType::Deleted, Some(&before), None, now)
                .await?;
            tx.commit().await?;
            return Ok(before);
        }
        Change::Update { task, event } => {
            let mut task = *task;
            task.version = old.version + 1;
            task.updated_at = now;
            save(&mut tx, &task, old.version).await?;
            if task.fields.tags != old.fields.tags {
                write_tags(&mut tx, &task, true).await?;
            }
            let after = task.task();
            append_event(&mut tx, user, source, event, Some(&before), Some(&after), now).await?;
            after
        }
    };
    tx.commit().await?;
    Ok(after)
}

/// Escapes LIKE wildcards so search text is matched literally.
fn like_pattern(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of the user's tasks and the cursor of the next one.
pub async fn list(
    pools: &Pools,
    user: &str,
    filter: &TaskFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<Task>, Option<Cursor>)> {
    let cursor = Cursor::decode(filter)?;
    let mut q = QueryBuilder::<Db>::new(format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.user_id = "));
    q.push_bind(user);
    if let Some(text) = &filter.q {
        // Every word must appear, in any order, in the title or description.
        for word in text.split_whitespace().take(16) {
            q.push(" AND t.search LIKE ").push_bind(like_pattern(word)).push(" ESCAPE '\\'");
        }
    }
    match filter.status {
        StatusFilter::All => {}
        StatusFilter::Open => {
            q.push(" AND t.completed = ").push_bind(false);
        }
        StatusFilter::Completed => {
            q.push(" AND t.completed = ").push_bind(true);
        }
    }
    if let Some(priority) = filter.priority {
        q.push(" AND t.priority = ").push_bind(priority.as_str());
    }
    if let Some(tag) = &filter.tag {
        q.push(" AND EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = t.id AND g.tag = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(before) = filter.due_before {
        q.push(" AND t.due_at < ").push_bind(before);
    }
    if let Some(after) = filter.due_after {
        q.push(" AND t.due_at >= ").push_bind(after);
    }
    if filter.overdue {
        q.push(" AND t.completed = ").push_bind(false);
        q.push(" AND t.deadline_at < ").push_bind(now);
    }
    // Each sort has a natural direction; `-` reverses it. The id breaks ties
    // in the same direction, so (key, id) is a total order for the cursor.
    let (natural_desc, key) = match filter.sort {
        SortKey::Due => (false, "COALESCE(t.due_at, "),
        SortKey::Created => (false, "t.created_at"),
        SortKey::Priority => (true, "t.priority_rank"),
        SortKey::Title => (false, "t.title_key"),
    };
    let desc = natural_desc != filter.reverse;
    let push_key = |q: &mut QueryBuilder<'_, Db>| {
        q.push(key);
        if filter.sort == SortKey::Due {
            q.push_bind(undated()).push(")");
        }
    };
    if let Some(cursor) = &cursor {
        let (cmp, id_cmp) = if desc { (" < ", " < ") } else { (" > ", " > ") };
        for (i, op) in [cmp, " = "].into_iter().enumerate() {
            q.push(if i == 0 { " AND ((" } else { ") OR (" });
            push_key(&mut q);
            q.push(op);
            match &cursor.value {
                SortValue::Time(t) => q.push_bind(*t),
                SortValue::Int(n) => q.push_bind(i32::try_from(*n).unwrap_or_default()),
                SortValue::Text(s) => q.push_bind(s.clone()),
            };
        }
        q.push(" AND t.id").push(id_cmp).push_bind(cursor.id).push("))");
    }
    q.push(" ORDER BY ");
    push_key(&mut q);
    let dir = if desc { " DESC" } else { " ASC" };
    q.push(dir).push(", t.id").push(dir);
    q.push(" LIMIT ").push_bind(i64::from(filter.limit) + 1);
    let mut rows: Vec<TaskRow> = q.build_query_as().fetch_all(&pools.read).await?;
    let next = if rows.len() > filter.limit as usize {
        rows.truncate(filter.limit as usize);
        rows.last().map(|last| last.cursor(filter.sort))
    } else {
        None
    };
    // Rows were valid when written: show them without parsing them again.
    let tasks = rows.into_iter().map(TaskRow::into_task).collect::<Result<Vec<_>>>()?;
    Ok((tasks, next))
}

/// A task's events, newest first, older than `before` (a sequence number).
pub async fn history(
    pools: &Pools,
    user: &str,
    task_id: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<HistoryRow>> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT sequence, event_id, task_id, event_type, source, user_id, occurred_at, data \
         FROM task_events WHERE user_id = ",
    );
    q.push_bind(user);
    if let Some(task_id) = task_id {
        q.push(" AND task_id = ").push_bind(task_id);
    }
    q.push(" AND sequence < ").push_bind(before.unwrap_or(i64::MAX));
    q.push(" ORDER BY sequence DESC LIMIT ").push_bind(i64::from(limit));
    let rows = q.build().fetch_all(&pools.read).await?;
    rows.into_iter()
        .map(|row| {
            let Json(body): Json<TaskEventBody> = row.try_get("data")?;
            Ok(HistoryRow {
                sequence: row.try_get("sequence")?,
                event_id: row.try_get("event_id")?,
                task_id: row.try_get("task_id")?,
                event_type: row.try_get("event_type")?,
                source: row.try_get("source")?,
                user_id: row.try_get("user_id")?,
                occurred_at: row.try_get("occurred_at")?,
                changes: body.changes,
            })
        })
        .collect()
}

/// The user's tags with the number of tasks carrying each, alphabetically.
pub async fn tags(pools: &Pools, user: &str) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT tag, COUNT(*) FROM task_tags WHERE user_id = $1 GROUP BY tag ORDER BY tag",
    )
    .bind(user)
    .fetch_all(&pools.read)
    .await?)
}

/// The oldest events not yet handed to the transport, in sequence order.
pub async fn unpublished(pools: &Pools, limit: u32) -> Result<Vec<OutboxRow>> {
    let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
        "SELECT sequence, event_id, user_id, task_id, event_type, source, occurred_at, data, traceparent \
         FROM task_events WHERE published_at IS NULL {SETTLED} ORDER BY sequence LIMIT $1"
    ))
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?;
    Ok(rows)
}

/// The user's events after sequence `after`, oldest first (SSE replay).
pub async fn events_after(pools: &Pools, user: &str, after: i64, limit: u32) -> Result<Vec<OutboxRow>> {
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "SELECT sequence, event_id, user_id, task_id, event_type, source, occurred_at, data, traceparent \
         FROM task_events WHERE user_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
    )
    .bind(user)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?;
    Ok(rows)
}

/// The highest sequence number written so far (0 for none).
/// (sequence, user, task) of every committed event after `after`, oldest
/// first.
pub async fn events_since(pools: &Pools, after: i64, limit: u32) -> Result<Vec<(i64, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT sequence, user_id, task_id FROM task_events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?)
}

pub async fn last_sequence(pools: &Pools) -> Result<i64> {
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(sequence) FROM task_events")
        .fetch_one(&pools.read)
        .await?;
    Ok(last.unwrap_or(0))
}

/// Records that these events have been handed to the transport.
pub async fn mark_published(pools: &Pools, sequences: &[i64], at: DateTime<Utc>) -> Result<()> {
    for chunk in sequences.chunks(500) {
        let mut q = QueryBuilder::<Db>::new("UPDATE task_events SET published_at = ");
        q.push_bind(at).push(" WHERE sequence IN (");
        let mut list = q.separated(", ");
        for sequence in chunk {
            list.push_bind(*sequence);
        }
        q.push(")");
        q.build().execute(&pools.write).await?;
    }
    Ok(())
}

/// How many events wait for the relay, and when the oldest was written.
pub async fn lag(pools: &Pools) -> Result<(i64, Option<DateTime<Utc>>)> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM task_events WHERE published_at IS NULL")
        .fetch_one(&pools.read)
        .await?;
    let oldest: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT occurred_at FROM task_events WHERE published_at IS NULL ORDER BY sequence LIMIT 1",
    )
    .fetch_optional(&pools.read)
    .await?;
    Ok((count, oldest))
}

/// Records that `consumer` handled `event_id`; false if it had before (the
/// caller then does nothing: the delivery is a repeat).
async fn first_delivery(tx: &mut Tx, consumer: &str, event_id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let recorded = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(recorded.rows_affected() == 1)
}

/// Handles one delivery of a completion event for `consumer`, once: records
/// (consumer, event id) and, if `next` says so, creates the next occurrence
/// with its `created` event, all in one transaction. Returns the new task, or
/// None when the event was seen before or nothing is to be created.
#[allow(clippy::too_many_arguments)] // one flat call per delivery; a struct would only rename these
pub async fn next_occurrence(
    pools: &Pools,
    consumer: &str,
    event_id: Uuid,
    user: &str,
    task_id: i64,
    now: DateTime<Utc>,
    next: impl FnOnce(&Stored) -> Option<Stored>,
) -> Result<Option<Task>> {
    let mut tx = begin(pools, user).await?;
    if !first_delivery(&mut tx, consumer, event_id, now).await? {
        return Ok(None);
    }
    let already: Option<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE previous_id = $1")
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?;
    let task = match (already, find(&mut tx, user, task_id).await?) {
        (None, Some(current)) => next(&current),
        _ => None,
    };
    let Some(mut task) = task else {
        tx.commit().await?;
        return Ok(None);
    };
    task.id = insert(&mut tx, &task).await?;
    write_tags(&mut tx, &task, false).await?;
    let view = task.task();
    append_event(&mut tx, user, Source::Worker, TaskEventType::Created, None, Some(&view), now).await?;
    tx.commit().await?;
    Ok(Some(view))
}

const NOTIFICATION_COLUMNS: &str = "id, task_id, kind, text, created_at, read_at";

/// The user's notifications, newest first, below `before` (an id).
pub async fn notifications(
    pools: &Pools,
    user: &str,
    unread_only: bool,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<NotificationRow>> {
    let mut q = QueryBuilder::<Db>::new(format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = "));
    q.push_bind(user);
    if unread_only {
        q.push(" AND read_at IS NULL");
    }
    if let Some(before) = before {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
    Ok(q.build_query_as().fetch_all(&pools.read).await?)
}

/// Marks one notification read (keeping the first read time); false if the
/// user has no such notification.
pub async fn mark_read(pools: &Pools, user: &str, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3")
        .bind(now)
        .bind(id)
        .bind(user)
        .execute(&pools.write)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks every unread notification of the user read; returns how many.
pub async fn mark_all_read(pools: &Pools, user: &str, now: DateTime<Utc>) -> Result<u64> {
    let done = sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now)
        .bind(user)
        .execute(&pools.write)
        .await?;
    Ok(done.rows_affected())
}

/// How many of the user's notifications are unread.
pub async fn unread_count(pools: &Pools, user: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user)
        .fetch_one(&pools.read)
        .await?)
}

/// Records a notification for `consumer`'s delivery of event `event_id`,
/// once: a repeat delivery returns None.
#[allow(clippy::too_many_arguments)] // one flat call per delivery
pub async fn record_notification(
    pools: &Pools,
    consumer: &str,
    event_id: Uuid,
    user: &str,
    task_id: i64,
    kind: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Option<NotificationRow>> {
    let mut tx = begin(pools, user).await?;
    if !first_delivery(&mut tx, consumer, event_id, now).await? {
        return Ok(None);
    }
    let row: NotificationRow = sqlx::query_as(&format!(
        "INSERT INTO notifications (user_id, task_id, kind, text, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING {NOTIFICATION_COLUMNS}"
    ))
    .bind(user)
    .bind(task_id)
    .bind(kind)
    .bind(text)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// A task whose reminder or overdue instant came, as the claim returns it.
#[derive(Debug, sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    user_id: String,
    title: String,
    due_at: Option<DateTime<Utc>>,
    /// The instant that came: remind_at or deadline_at.
    instant: DateTime<Utc>,
}

/// Claims up to `limit` reminders and `limit` overdue notices whose instant is
/// at or before `now` and records each (task, kind, instant) with its message
/// in `reminder_dispatches`, in one transaction; returns the dispatches
/// recorded for the first time. A conditional UPDATE claims each task, so
/// concurrent schedulers never both win one.
pub async fn claim_due_reminders(pools: &Pools, now: DateTime<Utc>, limit: u32) -> Result<Vec<DispatchRow>> {
    let mut tx = pools.write.begin().await?;
    let reminders: Vec<ClaimedRow> = sqlx::query_as(
        "UPDATE tasks SET reminded_for = remind_at \
         WHERE id IN (SELECT id FROM tasks WHERE NOT completed AND remind_at IS NOT NULL \
                      AND reminded_for IS DISTINCT FROM remind_at AND remind_at <= $1 \
                      ORDER BY remind_at LIMIT $2) \
           AND NOT completed AND reminded_for IS DISTINCT FROM remind_at \
         RETURNING id, user_id, title, due_at, remind_at AS instant",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    // A snooze holds the overdue notice too, until it ends.
    let overdue: Vec<ClaimedRow> = sqlx::query_as(
        "UPDATE tasks SET overdue_for = deadline_at \
         WHERE id IN (SELECT id FROM tasks WHERE NOT completed AND deadline_at IS NOT NULL \
                      AND overdue_for IS DISTINCT FROM deadline_at AND deadline_at <= $1 \
                      AND (snoozed_until IS NULL OR snoozed_until <= $1) \
                      ORDER BY deadline_at LIMIT $2) \
           AND NOT completed AND overdue_for IS DISTINCT FROM deadline_at \
         RETURNING id, user_id, title, due_at, deadline_at AS instant",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let claimed = reminders
        .into_iter()
        .map(|row| (ReminderKind::ReminderDue, row))
        .chain(overdue.into_iter().map(|row| (ReminderKind::TaskOverdue, row)));
    let mut fired = Vec::new();
    for (kind, row) in claimed {
        let message = Json(serde_json::to_value(ReminderMessage {
            kind,
            user_id: row.user_id.clone(),
            task_id: row.id,
            title: row.title,
            due_at: row.due_at,
            fire_at: row.instant,
        })?);
        // Once per (task, kind, instant): an instant moved away and back has
        // already fired.
        let first: Option<DispatchRow> = sqlx::query_as(
            "INSERT INTO reminder_dispatches (task_id, kind, due_at, fired_at, user_id, message) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING \
             RETURNING task_id, kind, due_at, fired_at, user_id, message",
        )
        .bind(row.id)
        .bind(dispatch_kind(kind))
        .bind(row.instant)
        .bind(now)
        .bind(&row.user_id)
        .bind(message)
        .fetch_optional(&mut *tx)
        .await?;
        fired.extend(first);
    }
    tx.commit().await?;
    Ok(fired)
}

/// The `reminder_dispatches.kind` of a reminder kind.
fn dispatch_kind(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::ReminderDue => "reminder",
        ReminderKind::TaskOverdue => "overdue",
    }
}

/// The earliest instant at which a reminder or overdue notice will be due,
/// after `now` for overdue notices (a snoozed past deadline waits for the
/// snooze's end, which is the task's remind_at).
pub async fn next_reminder_instant(pools: &Pools, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let reminder: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT MIN(remind_at) FROM tasks WHERE NOT completed AND remind_at IS NOT NULL \
         AND reminded_for IS DISTINCT FROM remind_at",
    )
    .fetch_one(&pools.read)
    .await?;
    let overdue: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT MIN(deadline_at) FROM tasks WHERE NOT completed AND deadline_at IS NOT NULL \
         AND overdue_for IS DISTINCT FROM deadline_at AND deadline_at > $1",
    )
    .bind(now)
    .fetch_one(&pools.read)
    .await?;
    Ok(reminder.into_iter().chain(overdue).min())
}

/// Dispatches recorded at or before `fired_before` and not yet published.
pub async fn unpublished_dispatches(pools: &Pools, fired_before: DateTime<Utc>, limit: u32) -> Result<Vec<DispatchRow>> {
    Ok(sqlx::query_as(
        "SELECT task_id, kind, due_at, fired_at, user_id, message FROM reminder_dispatches \
         WHERE published_at IS NULL AND fired_at <= $1 ORDER BY fired_at LIMIT $2",
    )
    .bind(fired_before)
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?)
}

/// Marks one dispatch published.
pub async fn mark_dispatch_published(
    pools: &Pools,
    task_id: i64,
    kind: &str,
    due_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE reminder_dispatches SET published_at = $1 \
         WHERE task_id = $2 AND kind = $3 AND due_at = $4",
    )
    .bind(at)
    .bind(task_id)
    .bind(kind)
    .bind(due_at)
    .execute(&pools.write)
    .await?;
    Ok(())
}

/// Starts a conversation.
pub async fn create_conversation(
    pools: &Pools,
    user: &str,
    title: &str,
    now: DateTime<Utc>,
) -> Result<ConversationRow> {
    Ok(sqlx::query_as(
        "INSERT INTO conversations (user_id, title, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         RETURNING id, title, created_at, updated_at",
    )
    .bind(user)
    .bind(title)
    .bind(now)
    .fetch_one(&pools.write)
    .await?)
}

/// One of the user's conversations.
pub async fn conversation(pools: &Pools, user: &str, id: i64) -> Result<Option<ConversationRow>> {
    Ok(sqlx::query_as(
        "SELECT id, title, created_at, updated_at FROM conversations WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&pools.read)
    .await?)
}

/// The user's conversations, newest first, before id `before`.
pub async fn conversations(
    pools: &Pools,
    user: &str,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<ConversationRow>> {
    Ok(sqlx::query_as(
        "SELECT id, title, created_at, updated_at FROM conversations \
         WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(user)
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?)
}

/// The last `limit` messages of a conversation, oldest first.
pub async fn messages(pools: &Pools, conversation: i64, limit: u32) -> Result<Vec<MessageRow>> {
    let mut rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT id, role, content, data, created_at FROM messages \
         WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(conversation)
    .bind(i64::from(limit))
    .fetch_all(&pools.read)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Appends messages to one of the user's conversations, in one
/// transaction; false if the user has no such conversation.
pub async fn append_messages(
    pools: &Pools,
    user: &str,
    conversation: i64,
    messages: &[(&str, &str, Option<&serde_json::Value>)],
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = pools.write.begin().await?;
    let found = sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2 AND user_id = $3")
        .bind(now)
        .bind(conversation)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    if found.rows_affected() != 1 {
        return Ok(false);
    }
    for (role, content, data) in messages {
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, data, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(conversation)
        .bind(*role)
        .bind(*content)
        .bind(data.map(Json))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Deletes one of the user's conversations with its messages; false if
/// there is none.
pub async fn delete_conversation(pools: &Pools, user: &str, id: i64) -> Result<bool> {
    let mut tx = pools.write.begin().await?;
    let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM conversations WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?;
    if owned.is_none() {
        return Ok(false);
    }
    sqlx::query("DELETE FROM messages WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM conversations WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

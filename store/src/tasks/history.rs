//! A task's history and the user's recent activity: the outbox read back,
//! newest first, a page at a time. Works for deleted tasks too.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use taskflow_events::{
    Change, ChangePage, EventActor, HistoryEntry, HistoryPage, ListEventType, Source,
    TaskEventBody, TaskEventType,
};
use uuid::Uuid;

use crate::database::Query;
use crate::outbox::{self, Body, OutboxEvent};
use crate::tasks::check_user;
use taskflow_core::Invalid;

use crate::{Error, Result, TaskService};

/// The default and the largest page of a task's history.
const HISTORY_LIMITS: (u32, u32) = (50, 200);
/// The default and the largest page of the changes feed.
const CHANGES_LIMITS: (u32, u32) = (200, 1000);

impl TaskService {
    /// A task's changes, newest first; `before` is the `next_before` of the
    /// previous page. Works for deleted tasks too.
    pub async fn history(
        &self,
        user: &str,
        id: i64,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        check_user(user)?;
        let limit = history_limit(limit)?;
        let page = self.events_page(user, Some(id), before, limit).await?;
        if page.entries.is_empty() && before.is_none() {
            return Err(Error::NotFound);
        }
        Ok(page)
    }

    /// The changes to every task the user reaches, newest first: what they,
    /// the members of their shared lists and the workers acting for them
    /// did recently, on any surface.
    pub async fn activity(
        &self,
        user: &str,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        check_user(user)?;
        let limit = history_limit(limit)?;
        self.events_page(user, None, before, limit).await
    }

    /// The changes the user may see after sequence `since`, oldest first:
    /// the changes feed. It reads what SSE replays (committed in order, so
    /// a change never lands below a cursor already handed out). A cursor
    /// behind the retention horizon, or one this server never issued, is
    /// [`Error::CursorExpired`]: read everything again.
    pub async fn changes(
        &self,
        user: &str,
        since: Option<i64>,
        limit: Option<u32>,
    ) -> Result<ChangePage> {
        check_user(user)?;
        let limit = page_limit(limit, CHANGES_LIMITS)?;
        let since = since.unwrap_or(0);
        if since < 0 {
            return Err(Invalid::new("since", "since is a sequence number, 0 or more").into());
        }
        if since > 0 && since < self.db.pruned_through().await? {
            return Err(Error::CursorExpired {
                oldest: self.db.first_sequence().await?,
                latest: self.db.last_sequence().await?,
            });
        }
        let mut events = self.db.events_after(user, since, limit + 1).await?;
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        if events.is_empty() {
            let latest = self.db.last_sequence().await?;
            if since > latest {
                return Err(Error::CursorExpired {
                    oldest: self.db.first_sequence().await?,
                    latest,
                });
            }
        }
        Ok(ChangePage {
            next: events.last().map_or(since, |e| e.sequence),
            changes: events.iter().filter_map(feed_change).collect(),
            has_more,
        })
    }

    async fn events_page(
        &self,
        user: &str,
        task: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<HistoryPage> {
        let rows = history(&self.db, user, task, before, limit + 1).await?;
        let more = rows.len() > limit as usize;
        let entries = rows
            .into_iter()
            .take(limit as usize)
            .map(|row| {
                let unknown = |what: &str| {
                    Error::Internal(format!("event {} has an unknown {what}", row.sequence))
                };
                Ok(HistoryEntry {
                    sequence: row.sequence,
                    task_id: row.task_id,
                    event_id: row.event_id.to_string(),
                    event_type: TaskEventType::parse(&row.event_type)
                        .ok_or_else(|| unknown("type"))?,
                    source: Source::parse(&row.source).ok_or_else(|| unknown("source"))?,
                    actor: EventActor::of(
                        row.actor_id.clone(),
                        row.actor_name.unwrap_or(row.actor_id),
                        row.agent_id
                            .map(|id| (id, row.agent_name.unwrap_or_default())),
                    ),
                    occurred_at: row.occurred_at,
                    changes: row.data.0.changes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next_before = if more {
            entries.last().map(|e| e.sequence)
        } else {
            None
        };
        Ok(HistoryPage {
            entries,
            next_before,
        })
    }
}

/// A history row as read from `task_events`.
#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    sequence: i64,
    event_id: Uuid,
    task_id: i64,
    event_type: String,
    source: String,
    actor_id: String,
    actor_name: Option<String>,
    agent_id: Option<i64>,
    agent_name: Option<String>,
    occurred_at: DateTime<Utc>,
    data: Json<TaskEventBody>,
}

/// The events of tasks the user reaches (of one task, or all), newest
/// first, older than `before` (a sequence number): those of their own
/// lists and those of lists shared with them, each branch read newest
/// first in its own index and limited, in one statement, merged here.
async fn history(
    db: &crate::Database,
    user: &str,
    task_id: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<EventRow>> {
    let mut q = Query::build("");
    for shared in [false, true] {
        q.push(if shared {
            ") AS own UNION ALL SELECT * FROM ("
        } else {
            "SELECT * FROM ("
        });
        q.push(&format!(
            "SELECT e.sequence, e.event_id, e.task_id, e.event_type, e.source, \
             COALESCE(e.actor_id, e.user_id) AS actor_id, u.display_name AS actor_name, \
             e.agent_id, ag.name AS agent_name, e.occurred_at, e.data FROM {} WHERE ",
            outbox::READ_FROM
        ));
        outbox::push_reached(&mut q, user, shared);
        if let Some(task_id) = task_id {
            q.push(" AND e.task_id = ").push_bind(task_id);
        }
        // The outbox holds reminders and notices too; the history is changes.
        q.push(" AND e.event_type IN (")
            .push(&outbox::task_kinds())
            .push(")");
        q.push(" AND e.sequence < ")
            .push_bind(before.unwrap_or(i64::MAX));
        q.push(" ORDER BY e.sequence DESC LIMIT ")
            .push_bind(i64::from(limit));
    }
    q.push(") AS shared");
    let mut rows: Vec<EventRow> = q.fetch_all(&mut db.read().await?).await?;
    if !rows.is_sorted_by(|a, b| a.sequence > b.sequence) {
        rows.sort_by_key(|row| std::cmp::Reverse(row.sequence));
    }
    // A given list's events are in both branches of the giver (before
    // the transfer: theirs, and a member's) or of its owner (after: theirs,
    // and of a list given to them): read once.
    rows.dedup_by_key(|row| row.sequence);
    rows.truncate(limit as usize);
    Ok(rows)
}

/// A task's or a list's change as the feed shows it (None: a reminder or
/// a notice, which the feed passes by).
fn feed_change(event: &OutboxEvent) -> Option<Change> {
    let (event_type, task_id, task, list) = match &event.body {
        Body::Task { event_type, change } => (
            event_type.cloud_event_type(),
            Some(event.task_id),
            (*event_type != TaskEventType::Deleted).then(|| change.task_data.clone()),
            None,
        ),
        Body::List { event_type, change } => (
            event_type.cloud_event_type(),
            None,
            None,
            (*event_type != ListEventType::Deleted).then(|| change.list_data.clone()),
        ),
        Body::Reminder(_) | Body::NotificationCreated { .. } => return None,
    };
    Some(Change {
        sequence: event.sequence,
        event_type,
        task_id,
        list_id: event.list_id,
        task,
        list,
    })
}

/// A history page size, checked.
fn history_limit(limit: Option<u32>) -> Result<u32> {
    page_limit(limit, HISTORY_LIMITS)
}

/// A page size (`limits.0` by default, 1 to `limits.1`), checked as every
/// page is.
fn page_limit(limit: Option<u32>, limits: (u32, u32)) -> Result<u32> {
    Ok(taskflow_core::ops::id_page(limit, None, limits)?.0)
}

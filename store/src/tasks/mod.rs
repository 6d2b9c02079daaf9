//! Tasks: the [`TaskService`] through which every surface (REST, MCP, chat,
//! workers) changes them. Each operation parses its input into domain values,
//! then runs one transaction that changes the task and appends its event to
//! the outbox. Read `columns.rs` (the table, defined once), then `sql.rs`
//! (the statements) and `batch.rs` (group-committed creates).

pub(crate) mod batch;
pub(crate) mod columns;
mod cursor;
mod history;
mod links;
mod list;
pub(crate) mod sql;
mod transfer;

pub use transfer::ImportInto;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use taskflow_core::{
    CreateTask, Due, Invalid, ListRef, MoveTask, Reminder, SnoozeTask, Spot, TagCount, Task,
    TaskFields, UpdateTask,
};
use taskflow_events::{Source, TaskEventType};
use uuid::Uuid;

use crate::idempotency::IdempotentCreate;
use crate::memo::Memo;
use crate::outbox::Receipt;
use crate::{Audience, Clock, Database, Error, Result, SystemClock};
use columns::StoredTask;
pub(crate) use sql::Placement;

/// The longest user id and idempotency key.
pub(crate) const MAX_ID_LEN: usize = 255;

/// Who asks for a change, and through which surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user (the JWT `sub`).
    pub user: String,
    /// The surface the change came through.
    pub source: Source,
    /// The agent acting for the user, if one is.
    pub agent: Option<i64>,
}

impl Actor {
    /// `user` acting through `source`.
    pub fn new(user: impl Into<String>, source: Source) -> Self {
        Self {
            user: user.into(),
            source,
            agent: None,
        }
    }

    /// The same, through `agent` (None: the user themself).
    pub fn through(mut self, agent: Option<i64>) -> Self {
        self.agent = agent;
        self
    }
}

/// What an operation does to a loaded task.
#[derive(Debug)]
pub(crate) enum Change {
    Unchanged,
    Update {
        task: Box<StoredTask>,
        event: TaskEventType,
    },
    Delete,
}

/// Every task operation, on one database.
#[derive(Debug, Clone)]
pub struct TaskService {
    pub(crate) db: Database,
    pub(crate) clock: Arc<dyn Clock>,
    /// Each user's Inbox id, once known (an Inbox is never deleted).
    inboxes: Memo<i64>,
    /// The users known to have their `users` row.
    pub(crate) seen: Memo<()>,
    /// Who hears of each list's changes (for this process's live views).
    audience: Audience,
    /// Webhooks may go to `http://` and loopback (development only).
    pub(crate) insecure_webhooks: bool,
}

impl TaskService {
    /// A service on `db` using the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, Arc::new(SystemClock))
    }

    /// A service on `db` reading time from `clock`.
    pub fn with_clock(db: Database, clock: Arc<dyn Clock>) -> Self {
        Self {
            audience: Audience::new(db.clone()),
            db,
            clock,
            inboxes: Memo::default(),
            seen: Memo::default(),
            insecure_webhooks: false,
        }
    }

    /// The same service letting webhooks go to `http://` and loopback
    /// addresses (`--webhooks-allow-insecure`, for development).
    pub fn with_insecure_webhooks(mut self, allow: bool) -> Self {
        self.insecure_webhooks = allow;
        self
    }

    /// Who hears of each list's changes, shared by this service's clones.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// The user's Inbox id, if this service has seen it.
    pub(crate) fn cached_inbox(&self, user: &str) -> Option<i64> {
        self.inboxes.get(user)
    }

    pub(crate) fn remember_inbox(&self, user: &str, id: i64) {
        self.inboxes.remember(user, id);
    }

    /// A new subtask of task `parent` (in its list, which `list`, if given,
    /// must be).
    async fn subtask_of(
        &self,
        actor: &Actor,
        parent: i64,
        list: Option<&ListRef>,
        fields: TaskFields,
    ) -> Result<StoredTask> {
        self.inbox(actor).await?;
        let mut conn = self.db.read().await?;
        let above = sql::check_parent(&mut conn, &actor.user, parent, None).await?;
        if above.depth >= sql::MAX_TASK_DEPTH {
            return Err(Invalid::new(
                "parent",
                format!("subtasks nest at most {} levels deep", sql::MAX_TASK_DEPTH),
            )
            .into());
        }
        let lists = crate::lists::Lists::load(&mut conn, &actor.user).await?;
        let target = lists.writable(&ListRef::Id(above.list_id), "parent")?;
        if let Some(named) = list
            && lists.find(named, "list")?.id != target.id
        {
            return Err(Invalid::new(
                "parent",
                format!("task {parent} is in another list; a subtask stays in its parent's list"),
            )
            .into());
        }
        let mut task = StoredTask::new(&target.user_id, target.id, fields, self.clock.now());
        task.parent_id = Some(parent);
        task.relations.parent_title = Some(above.title);
        Ok(task)
    }

    /// The list a create names (or the Inbox), checked writable, and its
    /// owner (who owns the task too).
    async fn list_for(&self, actor: &Actor, named: Option<&ListRef>) -> Result<(i64, String)> {
        let inbox = self.inbox(actor).await?;
        let Some(named) = named else {
            return Ok((inbox, actor.user.clone()));
        };
        if *named == ListRef::Id(inbox) {
            return Ok((inbox, actor.user.clone()));
        }
        let lists = crate::lists::Lists::load(&mut self.db.read().await?, &actor.user).await?;
        let list = lists.writable(named, "list")?;
        Ok((list.id, list.user_id.clone()))
    }

    /// The current time of the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The database behind the service.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Creates a task. With an idempotency key, repeating the same request
    /// returns the first result; the same key with another request fails.
    /// A create whose list changes owner meanwhile is placed again, under
    /// the new owner (twice at most, then `owner_changed`).
    pub async fn create(
        &self,
        actor: &Actor,
        input: &CreateTask,
        idempotency_key: Option<&str>,
    ) -> Result<Task> {
        check_user(&actor.user)?;
        let idempotency = idempotency_key
            .map(|key| IdempotentCreate::new(key, input))
            .transpose()?;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.create_once(actor, input, idempotency.as_ref()).await {
                Err(Error::Refused {
                    code: "owner_changed",
                    ..
                }) if tries < 3 => continue,
                created => return created,
            }
        }
    }

    /// One try of [`TaskService::create`].
    async fn create_once(
        &self,
        actor: &Actor,
        input: &CreateTask,
        idempotency: Option<&IdempotentCreate>,
    ) -> Result<Task> {
        let fields = input.parse()?;
        let assignees = taskflow_core::parse_assignees(&input.assignees)?;
        // Assignees are checked against the list in the write transaction.
        let batched = idempotency.is_none() && fields.recurrence.is_none() && assignees.is_empty();
        let mut task = match input.parent {
            Some(parent) => {
                self.subtask_of(actor, parent, input.list.as_ref(), fields)
                    .await?
            }
            // An Inbox not known yet is found (or made) by the batch.
            None if batched && input.list.is_none() && self.cached_inbox(&actor.user).is_none() => {
                let task = StoredTask::new(&actor.user, 0, fields, self.clock.now());
                let created = batch::create(&self.db, actor, task, batch::Place::NewInbox).await?;
                self.remember_inbox(&actor.user, created.list_id);
                return Ok(created);
            }
            None => {
                let (list, owner) = self.list_for(actor, input.list.as_ref()).await?;
                StoredTask::new(&owner, list, fields, self.clock.now())
            }
        };
        task.assignees = assignees;
        if batched {
            let into = match self.cached_inbox(&actor.user) == Some(task.list_id) {
                true => batch::Place::Inbox,
                false => batch::Place::List,
            };
            return batch::create(&self.db, actor, task, into).await;
        }
        sql::create(&self.db, actor, task, idempotency).await
    }

    /// One of the user's tasks.
    pub async fn get(&self, user: &str, id: i64) -> Result<Task> {
        check_user(user)?;
        let stored = sql::find(&mut self.db.read().await?, user, id).await?;
        Ok(stored.ok_or(Error::NotFound)?.task())
    }

    /// Changes some fields of a task. With `expected_version`, the change is
    /// refused if the task has changed since.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        patch: &UpdateTask,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let placement = (patch.list.is_some() || patch.parent.is_some()).then_some(Placement {
            list: patch.list.as_ref(),
            parent: patch.parent,
            spot: Spot::Bottom,
            only_if_moved: true,
        });
        let assignees = patch
            .assignees
            .as_deref()
            .map(taskflow_core::parse_assignees)
            .transpose()?;
        self.mutate(actor, id, expected_version, placement, false, |old, _| {
            let fields = patch.apply(&old.fields)?;
            let assignees = assignees.unwrap_or_else(|| old.assignees.clone());
            if fields == old.fields && assignees == old.assignees {
                return Ok(Change::Unchanged);
            }
            let mut task = old.clone();
            task.assignees = assignees;
            task.anchor = anchor_after(old, &fields);
            if fields.recurrence.is_some() && task.series_id.is_none() {
                task.series_id = Some(old.id);
            }
            task.fields = fields;
            Ok(Change::Update {
                task: Box::new(task),
                event: TaskEventType::Updated,
            })
        })
        .await
    }

    /// Marks a task done. Completing a completed task changes nothing. A
    /// task with open subtasks is refused (`open_subtasks`) unless
    /// `cascade`, which completes them with it, each with its own event.
    /// A blocked task can be completed; it shows `blocked` still.
    pub async fn complete(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        cascade: bool,
    ) -> Result<Task> {
        self.mutate(actor, id, expected_version, None, cascade, |old, now| {
            if old.completed_at.is_some() {
                return Ok(Change::Unchanged);
            }
            let mut task = old.clone();
            task.completed_at = Some(now);
            Ok(Change::Update {
                task: Box::new(task),
                event: TaskEventType::Completed,
            })
        })
        .await
    }

    /// Marks a completed task open again. Reopening an open task changes nothing.
    pub async fn reopen(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        self.mutate(actor, id, expected_version, None, false, |old, _| {
            if old.completed_at.is_none() {
                return Ok(Change::Unchanged);
            }
            let mut task = old.clone();
            task.completed_at = None;
            Ok(Change::Update {
                task: Box::new(task),
                event: TaskEventType::Reopened,
            })
        })
        .await
    }

    /// Deletes a task; returns it as it was. Its history stays readable.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        self.mutate(actor, id, expected_version, None, false, |_, _| {
            Ok(Change::Delete)
        })
        .await
    }

    /// Moves a task to another list and/or among its list's tasks: one row
    /// written, whatever the list's size.
    pub async fn move_task(
        &self,
        actor: &Actor,
        id: i64,
        input: &MoveTask,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let placement = Placement {
            list: input.list.as_ref(),
            parent: input.parent,
            spot: input.place().spot(Spot::Bottom)?,
            only_if_moved: false,
        };
        self.mutate(
            actor,
            id,
            expected_version,
            Some(placement),
            false,
            |_, _| Ok(Change::Unchanged),
        )
        .await
    }

    /// Holds a task's reminders until a later time.
    pub async fn snooze(&self, actor: &Actor, id: i64, input: &SnoozeTask) -> Result<Task> {
        self.mutate(actor, id, None, None, false, |old, now| {
            if old.completed_at.is_some() {
                return Err(
                    Invalid::new("id", "the task is completed; reopen it before snoozing").into(),
                );
            }
            let mut task = old.clone();
            task.snoozed_until = Some(input.until(now)?);
            Ok(Change::Update {
                task: Box::new(task),
                event: TaskEventType::Updated,
            })
        })
        .await
    }

    /// The user's tags, alphabetically, with how many tasks carry each.
    pub async fn tags(&self, user: &str) -> Result<Vec<TagCount>> {
        check_user(user)?;
        let rows = sql::tags(&self.db, user).await?;
        Ok(rows
            .into_iter()
            .map(|(tag, count)| TagCount { tag, count })
            .collect())
    }

    /// Creates the next occurrence of a completed recurring task, once per
    /// completion event for `consumer`, however often the event is delivered,
    /// and at most once per occurrence (reopening and completing again does
    /// not make a second). Returns the new task, or None when there is
    /// nothing to create: a repeat delivery, a task that is open again or
    /// gone, a task without a rule, or a series ended by COUNT or UNTIL.
    pub async fn next_occurrence(
        &self,
        consumer: &str,
        event_id: Uuid,
        user: &str,
        task_id: i64,
    ) -> Result<Option<Task>> {
        check_user(user)?;
        let now = self.clock.now();
        let next = |current: &StoredTask| next_occurrence_of(current, now);
        let receipt = Receipt {
            consumer,
            event_id,
            at: now,
        };
        sql::next_occurrence(&self.db, &receipt, user, task_id, next).await
    }

    async fn mutate(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        placement: Option<Placement<'_>>,
        cascade: bool,
        change: impl FnOnce(&StoredTask, DateTime<Utc>) -> Result<Change>,
    ) -> Result<Task> {
        let now = self.clock.now();
        let change = |old: &StoredTask| change(old, now);
        self.mutate_with(
            actor,
            id,
            expected_version,
            placement,
            cascade,
            None,
            now,
            change,
        )
        .await
    }

    /// [`TaskService::mutate`] at `now`, writing the task's CalDAV row
    /// (`ical`) with an update, in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn mutate_with(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        placement: Option<Placement<'_>>,
        cascade: bool,
        ical: Option<&crate::caldav::IcalWrite>,
        now: DateTime<Utc>,
        change: impl FnOnce(&StoredTask) -> Result<Change>,
    ) -> Result<Task> {
        let inbox = self.inbox(actor).await?;
        sql::mutate(
            &self.db,
            actor,
            id,
            expected_version,
            now,
            inbox,
            placement,
            cascade,
            ical,
            change,
        )
        .await
    }
}

/// The task that follows a completed occurrence: same fields, the next due
/// of the series, an absolute reminder moved by as much as the due moved.
fn next_occurrence_of(current: &StoredTask, now: DateTime<Utc>) -> Option<StoredTask> {
    current.completed_at?;
    let rule = current.fields.recurrence.as_ref()?;
    let due = current.fields.due?;
    let anchor = current.anchor.unwrap_or(due);
    let next_due = rule.next_after(&anchor, &due)?;
    let mut fields = current.fields.clone();
    fields.due = Some(next_due);
    if let Some(Reminder::At { at }) = fields.reminder {
        fields.reminder = Some(Reminder::At {
            at: at + (next_due.instant() - due.instant()),
        });
    }
    Some(StoredTask {
        series_id: current.series_id.or(Some(current.id)),
        previous_id: Some(current.id),
        anchor: Some(anchor),
        assignees: current.assignees.clone(),
        ..StoredTask::new(&current.user_id, current.list_id, fields, now)
    })
}

/// The anchor of a series after an update. Moving one occurrence keeps the
/// series (and its COUNT) where it was, as calendars do for "this event
/// only"; a new or changed rule, or a new zone, starts a series at the due.
pub(crate) fn anchor_after(old: &StoredTask, fields: &TaskFields) -> Option<Due> {
    let (rule, due) = (fields.recurrence.as_ref()?, fields.due?);
    let same_series = old.fields.recurrence.as_ref() == Some(rule)
        && old.anchor.is_some_and(|a| a.zone() == due.zone());
    if same_series { old.anchor } else { Some(due) }
}

pub(crate) fn check_user(user: &str) -> Result<(), Invalid> {
    if user.is_empty() || user.len() > MAX_ID_LEN || user.chars().any(char::is_control) {
        return Err(Invalid::new(
            "user",
            format!("the user id must be 1 to {MAX_ID_LEN} bytes without control characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

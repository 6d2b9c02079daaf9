//! Taskflow's wire contracts: the topics and the payloads of the events every
//! task change produces. The store writes these into its outbox in the same
//! transaction as the change; transports and handlers read them back.
//!
//! It also holds the one publishing interface with its two transports (Dapr
//! HTTP and the in-process bus), the handler trait, and the Dapr subscription
//! plumbing. This crate knows no SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumCount, EnumString, IntoStaticStr, VariantArray};
use taskflow_core::{FieldChange, List, Task};

pub mod bus;
pub mod dapr;
pub mod fanout;
pub mod handler;
pub mod messages;
pub mod subscribe;
pub mod trace;
pub mod transport;

pub use bus::InProcessBus;
pub use dapr::{DaprConfig, DaprPublisher};
pub use fanout::PerUser;
pub use handler::{Delivery, ErasedHandler, Handler, Outcome};
pub use messages::{
    CloudEvent, ListEventMessage, NOTIFICATION_CREATED_TYPE, ReminderKind, ReminderMessage,
    TASK_UPDATE_TYPE, TaskEventMessage, TaskUpdate, UpdateKind, derived_id,
};
pub use subscribe::Subscriptions;
pub use transport::{Backoff, Message, Publisher, Stopped};

/// The topic of full task change events (snapshot and changed fields).
pub const TASK_EVENTS: &str = "task-events";
/// The topic of lightweight change notices for live views (SSE).
pub const TASK_UPDATES: &str = "task-updates";
/// The topic of reminder and overdue instants that have been reached.
pub const REMINDERS: &str = "reminders";
/// Every topic Taskflow publishes.
pub const TOPICS: [&str; 3] = [TASK_EVENTS, TASK_UPDATES, REMINDERS];

// The doc comment is the JSON-schema description: a contract. strum's
// names (`as_str`, `parse`) are the serde names, by the same rule.
/// What happened to a task.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    EnumCount,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum TaskEventType {
    Created,
    Updated,
    Completed,
    Reopened,
    Deleted,
    /// Moved to another list or parent, or to another place among its
    /// siblings.
    Moved,
    /// Linked to another task (`changes` names the link).
    Linked,
    /// A link to another task removed.
    Unlinked,
    /// A comment added (`changes.comment` holds it; CloudEvents type
    /// `taskflow.comment.created.v1`).
    #[serde(rename = "comment_created")]
    #[strum(serialize = "comment_created")]
    CommentCreated,
    /// A comment edited (`changes.comment`: before and after).
    #[serde(rename = "comment_updated")]
    #[strum(serialize = "comment_updated")]
    CommentUpdated,
    /// A comment deleted (`changes.comment`: as it was).
    #[serde(rename = "comment_deleted")]
    #[strum(serialize = "comment_deleted")]
    CommentDeleted,
}

impl TaskEventType {
    /// Every type, in declaration order.
    pub const ALL: [TaskEventType; <TaskEventType as EnumCount>::COUNT] =
        match Self::VARIANTS.first_chunk() {
            Some(all) => *all,
            None => unreachable!(),
        };

    /// The short name stored in `task_events.event_type` and sent as `event_type`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the short name.
    pub fn parse(name: &str) -> Option<TaskEventType> {
        name.parse().ok()
    }

    /// The versioned CloudEvents type, such as `taskflow.task.created.v1`
    /// (a comment's: `taskflow.comment.created.v1`).
    pub fn cloud_event_type(self) -> String {
        match self.comment_change() {
            Some(change) => format!("{COMMENT_EVENT_PREFIX}{change}.v1"),
            None => format!("{TASK_EVENT_PREFIX}{}.v1", self.as_str()),
        }
    }

    /// For a comment's event: created, updated or deleted.
    pub fn comment_change(self) -> Option<&'static str> {
        match self {
            TaskEventType::CommentCreated => Some("created"),
            TaskEventType::CommentUpdated => Some("updated"),
            TaskEventType::CommentDeleted => Some("deleted"),
            _ => None,
        }
    }
}

/// The CloudEvents type prefix of task changes on `task-events`; a consumer
/// of task changes takes only these.
pub const TASK_EVENT_PREFIX: &str = "taskflow.task.";
/// The CloudEvents type prefix of comments on `task-events` (a task's
/// timeline, but not a change of the task: task consumers pass them by).
pub const COMMENT_EVENT_PREFIX: &str = "taskflow.comment.";
/// The CloudEvents type prefix of list changes on `task-events`.
pub const LIST_EVENT_PREFIX: &str = "taskflow.list.";

/// What happened to a list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    EnumCount,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ListEventType {
    Created,
    Updated,
    /// Moved to another parent or place.
    Moved,
    Archived,
    Unarchived,
    Deleted,
    /// Someone accepted an invitation: `changes.member.new` says who, as
    /// what.
    #[serde(rename = "member_added")]
    #[strum(serialize = "member_added")]
    MemberAdded,
    /// A member's role changed (`changes.member`, old and new).
    #[serde(rename = "member_changed")]
    #[strum(serialize = "member_changed")]
    MemberChanged,
    /// A member was removed or left (`changes.member.old`).
    #[serde(rename = "member_removed")]
    #[strum(serialize = "member_removed")]
    MemberRemoved,
    /// The list (with the lists in it and their tasks) changed owner:
    /// `changes.owner` says from whom to whom, and `changes.member` that the
    /// one who gave it stays as an admin. Sent in the new owner's order.
    Transferred,
}

impl ListEventType {
    /// Every type, in declaration order.
    pub const ALL: [ListEventType; <ListEventType as EnumCount>::COUNT] =
        match Self::VARIANTS.first_chunk() {
            Some(all) => *all,
            None => unreachable!(),
        };

    /// The name sent as `event_type`, such as `created`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The name stored in `task_events.event_type`, such as `list_created`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListEventType::Created => "list_created",
            ListEventType::Updated => "list_updated",
            ListEventType::Moved => "list_moved",
            ListEventType::Archived => "list_archived",
            ListEventType::Unarchived => "list_unarchived",
            ListEventType::Deleted => "list_deleted",
            ListEventType::MemberAdded => "list_member_added",
            ListEventType::MemberChanged => "list_member_changed",
            ListEventType::MemberRemoved => "list_member_removed",
            ListEventType::Transferred => "list_transferred",
        }
    }

    /// Parses the stored name.
    pub fn parse(stored: &str) -> Option<ListEventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == stored)
    }

    /// The versioned CloudEvents type, such as `taskflow.list.created.v1`.
    pub fn cloud_event_type(self) -> String {
        format!("{LIST_EVENT_PREFIX}{}.v1", self.name())
    }
}

/// The body of a list event as the outbox stores it: the list after the
/// change (as it was, for a deletion) and every changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListEventBody {
    pub list_data: List,
    pub changes: BTreeMap<String, FieldChange>,
}

// strum's names are the serde names, by the same rule.
/// Which surface made a change; recorded with every event for the history.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Source {
    Api,
    Mcp,
    Chat,
    Worker,
    Cli,
    Caldav,
}

impl Source {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<Source> {
        name.parse().ok()
    }
}

/// What kind of principal made a change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A person (a token's subject).
    #[default]
    User,
    /// An assistant acting for a person (an app they connected, or a
    /// token minted for one).
    Agent,
}

/// Who made a change: every event, and every history entry, names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventActor {
    pub kind: ActorKind,
    /// The user id (the token's `sub`); an agent's id, for an agent.
    pub id: String,
    /// Their display name, as it is when the event is read; an agent's
    /// name as its person sees it under Connected apps.
    pub name: String,
    /// For an agent: the person it acted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<ActingFor>,
}

/// The person an agent acted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActingFor {
    /// The user id.
    pub id: String,
    /// Their display name, as it is when the event is read.
    pub name: String,
}

impl EventActor {
    /// The actor of a change `user` (named `name`) made, through `agent`
    /// (its id and name) if one acted for them.
    pub fn of(user: String, name: String, agent: Option<(i64, String)>) -> Self {
        match agent {
            None => EventActor {
                kind: ActorKind::User,
                id: user,
                name,
                on_behalf_of: None,
            },
            Some((id, agent)) => EventActor {
                kind: ActorKind::Agent,
                id: id.to_string(),
                name: agent,
                on_behalf_of: Some(ActingFor { id: user, name }),
            },
        }
    }

    /// The person whose change it is: the user, or the one the agent
    /// acted for.
    pub fn user(&self) -> &str {
        self.on_behalf_of.as_ref().map_or(&self.id, |p| &p.id)
    }
}

/// The body of a task event as the outbox stores it: the task as it is after
/// the change (as it was, for a deletion) and every changed field with its
/// old and new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskEventBody {
    /// The task after the change; for `deleted`, the task as it was.
    pub task_data: Task,
    /// Changed fields by API name, with old and new values.
    pub changes: BTreeMap<String, FieldChange>,
}

/// One change in a task's history, as `GET /api/tasks/{id}/history` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// The event's place in the global order (also its SSE event id).
    pub sequence: i64,
    /// The task changed.
    pub task_id: i64,
    /// The CloudEvent id.
    pub event_id: String,
    pub event_type: TaskEventType,
    /// Who made the change.
    pub actor: EventActor,
    /// Through which surface.
    pub source: Source,
    pub occurred_at: DateTime<Utc>,
    /// Changed fields with old and new values.
    pub changes: BTreeMap<String, FieldChange>,
}

/// One page of a task's history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Pass as `before` to get older entries; null on the last page.
    pub next_before: Option<i64>,
}

/// Every CloudEvents type on `task-events`: task, comment and list
/// changes (what a webhook endpoint may ask for), in declaration order.
pub fn change_types() -> Vec<String> {
    TaskEventType::ALL
        .into_iter()
        .map(TaskEventType::cloud_event_type)
        .chain(
            ListEventType::ALL
                .into_iter()
                .map(ListEventType::cloud_event_type),
        )
        .collect()
}

/// One change in the changes feed (`GET /api/changes`): a task's or a
/// list's, with what it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// Its place in the global order: pass the last one seen as `since`.
    pub sequence: i64,
    /// The CloudEvents type, such as `taskflow.task.completed.v1` (the
    /// `type` of the webhook delivery of the same event).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The task changed; null for a list's change.
    pub task_id: Option<i64>,
    /// The task's list, or the list changed.
    pub list_id: Option<i64>,
    /// The task after the change; null when it was deleted (a tombstone)
    /// and for a list's change.
    pub task: Option<Task>,
    /// The list after the change, for a list's change; null when it was
    /// deleted and for a task's change.
    pub list: Option<List>,
}

/// One page of the changes feed, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Pass as `since` for the next page (the `since` given when nothing
    /// came; keep it and ask again later).
    pub next: i64,
    /// Whether more changes are waiting after `next`.
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_short_names_are_the_serde_names_and_parse_back() {
        for t in TaskEventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            assert_eq!(TaskEventType::parse(t.as_str()), Some(t));
        }
        for s in Source::VARIANTS.iter().copied() {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(TaskEventType::ALL.len(), 11);
        assert_eq!(
            TaskEventType::CommentCreated.cloud_event_type(),
            "taskflow.comment.created.v1"
        );
        for t in ListEventType::ALL {
            assert_eq!(ListEventType::parse(t.as_str()), Some(t));
            assert!(t.cloud_event_type().starts_with(LIST_EVENT_PREFIX));
        }
        assert_eq!(TaskEventType::parse("Created"), None);
        assert_eq!(Source::parse("API"), None);
    }
}

//! Agent context: which of a user's resources changed: of their own lists,
//! and of lists shared with them at that moment (see [`Audience`]). Fed by
//! `task-events`
//! (the in-process bus under `serve`, a Dapr subscription in a cluster, or a
//! tail of the outbox table where another process writes the same SQLite
//! file); read by subscribed MCP sessions.

use std::time::Duration;

use serde::Deserialize;
use taskflow_events::{Delivery, Handler, Outcome, PerUser, TASK_EVENTS};
use taskflow_store::{Audience, Database};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Changes buffered per user before a slow session misses some (it then
/// re-reads everything it watches).
const BUFFER: usize = 256;

/// A change to one of a user's tasks or lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A task changed, in these lists (two for a move between lists).
    Task { id: i64, lists: [Option<i64>; 2] },
    /// A list changed (created, renamed, archived, ...).
    List(i64),
    /// Changes were missed: everything may have changed.
    Unknown,
}

impl Change {
    /// The resource URIs this change may have updated (for `Unknown`,
    /// every fixed one; a session re-reads what it watches).
    pub fn uris(self) -> Vec<String> {
        let mut uris = vec![
            crate::resources::TODAY.to_owned(),
            crate::resources::OVERDUE.to_owned(),
            crate::resources::ACTIVITY.to_owned(),
        ];
        match self {
            Change::Task { id, lists } => {
                uris.push(crate::resources::task_uri(id));
                uris.extend(lists.into_iter().flatten().map(crate::resources::list_uri));
            }
            Change::List(id) => uris = vec![crate::resources::list_uri(id)],
            Change::Unknown => {}
        }
        uris
    }
}

/// What the watch reads of a `task-events` message, a task's or a list's.
#[derive(Debug, Clone, Deserialize)]
pub struct Touched {
    user_id: String,
    #[serde(default)]
    task_id: Option<i64>,
    /// A list event's list.
    #[serde(default)]
    list_id: Option<i64>,
    #[serde(default)]
    task_data: Option<InList>,
    /// The list a task moved from.
    #[serde(default)]
    from_list_id: Option<i64>,
    /// A membership event's member, as it was or is.
    #[serde(default)]
    changes: Option<MemberChange>,
}

/// The `member` field of a membership event's changes.
#[derive(Debug, Clone, Deserialize)]
struct MemberChange {
    #[serde(default)]
    member: Option<Sides>,
}

/// A member before and after the change (null when not a member).
#[derive(Debug, Clone, Deserialize)]
struct Sides {
    old: Option<Member>,
    new: Option<Member>,
}

#[derive(Debug, Clone, Deserialize)]
struct Member {
    user_id: String,
}

/// A task snapshot's list.
#[derive(Debug, Clone, Deserialize)]
struct InList {
    #[serde(default)]
    list_id: Option<i64>,
}

/// Fan-out of task changes to MCP sessions: to the owner, and to the
/// members of the list. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Watch {
    users: PerUser<Change>,
    audience: Audience,
}

impl Watch {
    /// A watch asking `audience` who hears of a list's changes.
    pub fn new(audience: Audience) -> Self {
        Watch {
            users: PerUser::new(BUFFER),
            audience,
        }
    }

    /// Announces a change of `owner`'s task or list to everyone who hears
    /// of it: the owner, the list's members now (for a change of the list
    /// itself, also those before it) and the `member` a membership change
    /// is about. The owner hears first, before the members are looked up
    /// (a list new to this process costs a read).
    pub async fn changed(
        &self,
        owner: &str,
        change: Change,
        member: Option<&str>,
    ) -> taskflow_store::Result<()> {
        self.users.send(owner, change);
        let hearing = match change {
            Change::Task { lists, .. } => self.audience.hearing(owner, lists, false, None).await?,
            Change::List(list) => {
                self.audience
                    .hearing(owner, [Some(list), None], true, member)
                    .await?
            }
            Change::Unknown => Vec::new(),
        };
        for user in &hearing {
            self.users.send(user, change);
        }
        Ok(())
    }

    /// The user's changes from now on.
    pub fn subscribe(&self, user: &str) -> broadcast::Receiver<Change> {
        self.users.subscribe(user)
    }

    /// Follows the outbox table from its end until `stop`, announcing each
    /// new event: for processes that share a SQLite file with the one whose
    /// relay publishes (SQLite commits in sequence order, so nothing is
    /// skipped). Polls four times a second.
    pub async fn tail(self, db: Database, stop: CancellationToken) {
        let mut after = match db.last_sequence().await {
            Ok(last) => last,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the outbox; MCP resource updates are off");
                return;
            }
        };
        loop {
            match db.events_since(after, 500).await {
                Ok(events) => {
                    let mut announced = 0;
                    for (sequence, user, task_id, list_id) in &events {
                        let change = match task_id {
                            0 => Change::List(list_id.unwrap_or_default()),
                            id => Change::Task {
                                id: *id,
                                lists: [*list_id, None],
                            },
                        };
                        if let Err(err) = self.changed(user, change, None).await {
                            // Tried again from this event after the pause.
                            tracing::warn!(error = %err, "cannot read who hears of a change");
                            break;
                        }
                        after = after.max(*sequence);
                        announced += 1;
                    }
                    if announced == 500 {
                        continue;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "reading the outbox for MCP updates failed")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }
}

impl Handler for Watch {
    type Payload = Touched;
    const TOPIC: &'static str = TASK_EVENTS;
    const NAME: &'static str = "mcp";

    async fn handle(&self, delivery: Delivery<Touched>) -> Outcome {
        let touched = delivery.data;
        let change = match (touched.task_id, touched.list_id) {
            (Some(id), _) => Change::Task {
                id,
                lists: [
                    touched.task_data.and_then(|t| t.list_id),
                    touched.from_list_id,
                ],
            },
            (None, Some(list)) => Change::List(list),
            (None, None) => return Outcome::Success,
        };
        let member = touched
            .changes
            .and_then(|changes| changes.member)
            .and_then(|sides| sides.new.or(sides.old))
            .map(|member| member.user_id);
        match self
            .changed(&touched.user_id, change, member.as_deref())
            .await
        {
            Ok(()) => Outcome::Success,
            // Sessions that had it re-read a resource once more: harmless.
            Err(err) => {
                tracing::warn!(error = %err, "cannot read who hears of a change; retrying");
                Outcome::Retry
            }
        }
    }
}

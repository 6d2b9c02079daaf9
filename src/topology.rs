//! Who consumes which topic, declared once. `taskflow serve` delivers every
//! subscription on the in-process bus; each cluster role subscribes to its
//! own through Dapr, on `/api/events/<topic>`, in its consumer group. The
//! drift test holds `dapr/` (and, through `.ci/deploy-check`, the chart) to
//! this table.

use std::sync::Arc;

use taskflow_api::stream::Hub;
use taskflow_events::{ErasedHandler, Handler};
use taskflow_mcp::watch::Watch;
use taskflow_store::TaskService;
use taskflow_workers::notifications::Notifications;
use taskflow_workers::recurrence::Recurrence;
use taskflow_workers::reminders::Reminders;
use taskflow_workers::webhooks::WebhookConsumer;

use crate::cluster::Role;

/// A consumer of events (its handler's `NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// Creates the next occurrence of completed recurring tasks.
    Recurrence,
    /// Wakes the reminder scheduler: an instant may have moved.
    Reminders,
    /// Records a notification for each reminder that fired.
    Notifications,
    /// Pushes updates to open SSE streams.
    Sse,
    /// Tells subscribed MCP sessions which resources changed.
    Mcp,
    /// Writes a delivery for each webhook endpoint that takes a change.
    Webhooks,
}

/// Which replicas of a role see a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// One consumer group per role: each message is handled once, by one
    /// replica (the `pubsub` component).
    Shared,
    /// One consumer group per replica: every replica sees every message,
    /// for the streams and sessions it holds (the `pubsub-broadcast`
    /// component).
    PerReplica,
}

impl Group {
    /// The Dapr pub/sub component of the group.
    pub fn pubsub(self) -> &'static str {
        match self {
            Group::Shared => "pubsub",
            Group::PerReplica => "pubsub-broadcast",
        }
    }
}

impl Consumer {
    /// The topic it consumes (its handler's `TOPIC`).
    pub fn topic(self) -> &'static str {
        match self {
            Consumer::Recurrence => Recurrence::TOPIC,
            Consumer::Reminders => Reminders::TOPIC,
            Consumer::Notifications => Notifications::TOPIC,
            Consumer::Sse => Hub::TOPIC,
            Consumer::Mcp => Watch::TOPIC,
            Consumer::Webhooks => WebhookConsumer::TOPIC,
        }
    }

    /// Its name (its handler's `NAME`, the key of its processed events).
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Recurrence => Recurrence::NAME,
            Consumer::Reminders => Reminders::NAME,
            Consumer::Notifications => Notifications::NAME,
            Consumer::Sse => Hub::NAME,
            Consumer::Mcp => Watch::NAME,
            Consumer::Webhooks => WebhookConsumer::NAME,
        }
    }
}

/// One subscription: a consumer, the role that runs it, and who among that
/// role's replicas sees each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub consumer: Consumer,
    pub role: Role,
    pub group: Group,
}

impl Subscription {
    /// The topic it consumes.
    pub fn topic(&self) -> &'static str {
        self.consumer.topic()
    }

    /// Its Dapr delivery route.
    pub fn route(&self) -> String {
        format!("/api/events/{}", self.topic())
    }
}

/// Every subscription.
pub const TOPOLOGY: [Subscription; 6] = [
    Subscription {
        consumer: Consumer::Recurrence,
        role: Role::Recurrence,
        group: Group::Shared,
    },
    Subscription {
        consumer: Consumer::Reminders,
        role: Role::Reminders,
        group: Group::Shared,
    },
    Subscription {
        consumer: Consumer::Notifications,
        role: Role::Reminders,
        group: Group::Shared,
    },
    Subscription {
        consumer: Consumer::Sse,
        role: Role::Sse,
        group: Group::PerReplica,
    },
    Subscription {
        consumer: Consumer::Mcp,
        role: Role::Mcp,
        group: Group::PerReplica,
    },
    Subscription {
        consumer: Consumer::Webhooks,
        role: Role::Webhooks,
        group: Group::Shared,
    },
];

/// The subscriptions of `role`.
pub fn of(role: Role) -> impl Iterator<Item = &'static Subscription> {
    TOPOLOGY.iter().filter(move |s| s.role == role)
}

/// The consumers' handlers in one process.
#[derive(Debug, Clone)]
pub struct Consumers {
    pub tasks: TaskService,
    pub reminders: Reminders,
    pub hub: Hub,
    pub watch: Watch,
}

impl Consumers {
    /// The handler of `consumer`.
    pub fn handler(&self, consumer: Consumer) -> Arc<dyn ErasedHandler> {
        match consumer {
            Consumer::Recurrence => Arc::new(Recurrence::new(self.tasks.clone())),
            Consumer::Reminders => Arc::new(self.reminders.clone()),
            Consumer::Notifications => Arc::new(Notifications::new(self.tasks.clone())),
            Consumer::Sse => Arc::new(self.hub.clone()),
            Consumer::Mcp => Arc::new(self.watch.clone()),
            Consumer::Webhooks => Arc::new(WebhookConsumer::new(self.tasks.clone())),
        }
    }

    /// The handlers of `subscriptions`.
    pub fn handlers<'a>(
        &self,
        subscriptions: impl Iterator<Item = &'a Subscription>,
    ) -> Vec<Arc<dyn ErasedHandler>> {
        subscriptions.map(|s| self.handler(s.consumer)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_role_consumes_each_topic_once_in_one_group() {
        for role in Role::ALL {
            let subscriptions: Vec<_> = of(role).collect();
            let topics: HashSet<_> = subscriptions.iter().map(|s| s.topic()).collect();
            assert_eq!(
                topics.len(),
                subscriptions.len(),
                "{role:?}: one route per topic"
            );
            let groups: HashSet<_> = subscriptions.iter().map(|s| s.group).collect();
            assert!(
                groups.len() <= 1,
                "{role:?}: one pub/sub component per role"
            );
        }
        let names: HashSet<_> = TOPOLOGY.iter().map(|s| s.consumer.name()).collect();
        assert_eq!(names.len(), TOPOLOGY.len(), "one subscription per consumer");
    }
}

//! The in-process transport for `taskflow serve`: publishing a message runs
//! every handler of its topic, in the caller's task, with the same semantics
//! as Dapr delivery — at least once, Success / Retry / Drop, retries with
//! backoff, a bounded number of attempts (then the event is logged as dead
//! and skipped, as Dapr moves it to the dead-letter topic). The relay
//! publishes each user's events one after another, so order per user holds.
//!
//! A run of messages published together goes to each handler as one batch
//! (as Dapr's bulk subscribe would), and the handlers of a topic take it
//! side by side: they are independent consumers.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::CloudEvent;
use crate::handler::{ErasedHandler, Outcome};
use crate::transport::{Backoff, Message, Publisher, Stopped, pause};

/// Delivers messages to in-process handlers.
#[derive(Debug, Clone)]
pub struct InProcessBus {
    handlers: Vec<Arc<dyn ErasedHandler>>,
    retry: Backoff,
    max_attempts: u32,
}

impl InProcessBus {
    /// A bus delivering to `handlers`, retrying a handler that asks for it up
    /// to `max_attempts` times in all.
    pub fn new(handlers: Vec<Arc<dyn ErasedHandler>>, retry: Backoff, max_attempts: u32) -> Self {
        Self {
            handlers,
            retry,
            max_attempts: max_attempts.max(1),
        }
    }

    /// Delivers a run to one handler: all of it at once, then, from the first
    /// event the handler asked to retry, one event at a time in order (a
    /// later event it had already handled is only handled again).
    async fn deliver_run(
        &self,
        handler: &dyn ErasedHandler,
        events: &[&CloudEvent<Value>],
        stop: &CancellationToken,
    ) -> Result<(), Stopped> {
        let outcomes = handler.deliver_all(events, stop).await;
        for (event, outcome) in events.iter().zip(&outcomes) {
            if *outcome == Outcome::Drop {
                tracing::warn!(consumer = handler.name(), event_id = %event.id, "handler dropped the event");
            }
        }
        let Some(first) = outcomes.iter().position(|o| *o == Outcome::Retry) else {
            return Ok(());
        };
        for (i, event) in events[first..].iter().enumerate() {
            // The first of them has had its first attempt.
            self.deliver(handler, event, stop, u32::from(i == 0))
                .await?;
        }
        Ok(())
    }

    /// Delivers one event, from attempt number `from` on.
    async fn deliver(
        &self,
        handler: &dyn ErasedHandler,
        event: &CloudEvent<Value>,
        stop: &CancellationToken,
        from: u32,
    ) -> Result<(), Stopped> {
        for attempt in from..self.max_attempts {
            if attempt > 0 {
                tracing::debug!(consumer = handler.name(), event_id = %event.id, attempt, "handler asked for a retry");
                pause(stop, self.retry.delay(attempt - 1)).await?;
            }
            match handler.deliver(event, stop).await {
                Outcome::Success => return Ok(()),
                Outcome::Drop => {
                    tracing::warn!(consumer = handler.name(), event_id = %event.id, "handler dropped the event");
                    return Ok(());
                }
                Outcome::Retry => {}
            }
        }
        tracing::error!(
            consumer = handler.name(),
            event_id = %event.id,
            attempts = self.max_attempts,
            "handler kept failing; the event is dead-lettered for this consumer"
        );
        Ok(())
    }
}

impl Publisher for InProcessBus {
    fn publish<'a>(
        &'a self,
        message: &'a Message,
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>> {
        self.publish_all(std::slice::from_ref(message), stop)
    }

    fn publish_all<'a>(
        &'a self,
        messages: &'a [Message],
        stop: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<(), Stopped>> {
        async move {
            let runs = self.handlers.iter().filter_map(|handler| {
                let events: Vec<_> = messages
                    .iter()
                    .filter(|m| m.topic == handler.topic())
                    .map(|m| &m.event)
                    .collect();
                (!events.is_empty()).then_some(async move {
                    self.deliver_run(handler.as_ref(), &events, stop).await
                })
            });
            join_all(runs).await.into_iter().collect()
        }
        .boxed()
    }
}

//! The in-process transport for `taskflow serve`: publishing a message runs
//! every handler of its topic, in the caller's task, with the same semantics
//! as Dapr delivery — at least once, Success / Retry / Drop, retries with
//! backoff, a bounded number of attempts (then the event is logged as dead
//! and skipped, as Dapr moves it to the dead-letter topic). The relay
//! publishes each user's events one after another, so order per user holds.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

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

    async fn deliver(
        &self,
        handler: &dyn ErasedHandler,
        message: &Message,
        stop: &CancellationToken,
    ) -> Result<(), Stopped> {
        for attempt in 0..self.max_attempts {
            match handler.deliver(&message.event, stop).await {
                Outcome::Success => return Ok(()),
                Outcome::Drop => {
                    tracing::warn!(consumer = handler.name(), event_id = %message.event.id, "handler dropped the event");
                    return Ok(());
                }
                Outcome::Retry if attempt + 1 < self.max_attempts => {
                    tracing::debug!(consumer = handler.name(), event_id = %message.event.id, attempt, "handler asked for a retry");
                    pause(stop, self.retry.delay(attempt)).await?;
                }
                Outcome::Retry => {}
            }
        }
        tracing::error!(
            consumer = handler.name(),
            event_id = %message.event.id,
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
        async move {
            for handler in self.handlers.iter().filter(|h| h.topic() == message.topic) {
                self.deliver(handler.as_ref(), message, stop).await?;
            }
            Ok(())
        }
        .boxed()
    }
}

//! Per-user fan-out to live subscribers (SSE streams, MCP sessions): one
//! bounded broadcast channel per user with someone listening, so a user's
//! updates never reach anyone else and a slow subscriber lags alone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

/// Per-user broadcast of `T`. Cheap to clone; clones share the channels.
#[derive(Debug)]
pub struct PerUser<T> {
    users: Arc<RwLock<HashMap<String, broadcast::Sender<T>>>>,
    capacity: usize,
}

impl<T> Clone for PerUser<T> {
    fn clone(&self) -> Self {
        Self {
            users: self.users.clone(),
            capacity: self.capacity,
        }
    }
}

impl<T: Clone> PerUser<T> {
    /// Channels holding `capacity` items per user before a subscriber lags.
    pub fn new(capacity: usize) -> Self {
        Self {
            users: Arc::default(),
            capacity,
        }
    }

    /// Sends `item` to the user's subscribers, if any; returns how many.
    pub fn send(&self, user: &str, item: T) -> usize {
        let Ok(users) = self.users.read() else {
            return 0;
        };
        users
            .get(user)
            .and_then(|sender| sender.send(item).ok())
            .unwrap_or(0)
    }

    /// The user's items from now on.
    pub fn subscribe(&self, user: &str) -> broadcast::Receiver<T> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        // Forget users whose subscribers have all gone.
        users.retain(|_, sender| sender.receiver_count() > 0);
        users
            .entry(user.to_owned())
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }
}

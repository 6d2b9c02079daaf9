//! A bounded memory of facts that never change once true (a user's Inbox
//! id, a user seen before), kept so a hot path skips a database read. Past
//! [`KEPT`] entries it starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many entries are kept before the memory starts over.
const KEPT: usize = 100_000;

/// Facts about users, by user id.
#[derive(Debug, Clone)]
pub(crate) struct Memo<V>(Arc<Mutex<HashMap<String, V>>>);

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<V: Copy> Memo<V> {
    /// What is remembered about `user`.
    pub fn get(&self, user: &str) -> Option<V> {
        self.0.lock().ok()?.get(user).copied()
    }

    /// Remembers `value` for `user`.
    pub fn remember(&self, user: &str, value: V) {
        if let Ok(mut known) = self.0.lock() {
            if known.len() >= KEPT {
                known.clear();
            }
            known.insert(user.to_owned(), value);
        }
    }
}

//! Who hears of a change: a list's owner and the members it is shared with
//! now. Live views (the SSE hub, MCP sessions) get every change and ask
//! here who besides the owner may see it. Each process remembers the
//! members of the lists it has been asked about, read from `list_access` on
//! a miss; a change to a list or its members (a list event, which travels
//! in the owner's order before any later change of theirs) forgets what it
//! knew of that owner's lists, so a removed member hears nothing after their
//! removal, and no message costs a database read once its list is known.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::database::query;
use crate::{Database, Result};

/// How many lists' members are kept before the memory starts over.
const KEPT: usize = 100_000;

/// The members of lists, as far as this process knows them. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Audience(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    db: Database,
    known: RwLock<Known>,
    /// Bumped by every forgetting: a read that began before one does not
    /// store what it read (it may predate the change).
    generation: AtomicU64,
}

#[derive(Debug, Default)]
struct Known {
    /// Each list's members (not its owner), by list.
    lists: HashMap<i64, Arc<[String]>>,
    /// The lists known, by owner (what a change of theirs forgets).
    owners: HashMap<String, Vec<i64>>,
}

impl Audience {
    /// An empty memory of `db`'s lists.
    pub fn new(db: Database) -> Self {
        Audience(Arc::new(Inner {
            db,
            known: RwLock::default(),
            generation: AtomicU64::new(0),
        }))
    }

    /// Who besides `owner` is to hear of a change in `lists` (a task's
    /// list, and the one it left): their members now. For a change of the
    /// list itself (`list_changed`), which may change who they are, also
    /// those its members were before, as far as this process knew them,
    /// and the `member` a membership notice names (even one it removes);
    /// what was known of the owner's lists and the member's is forgotten
    /// (a list given to another owner was known under the one who gave it).
    pub async fn hearing(
        &self,
        owner: &str,
        lists: [Option<i64>; 2],
        list_changed: bool,
        member: Option<&str>,
    ) -> Result<Vec<String>> {
        let mut hearing: Vec<String> = Vec::new();
        if list_changed {
            for list in lists.iter().flatten() {
                if let Some(before) = self.known(*list) {
                    hearing.extend(before.iter().cloned());
                }
            }
            self.forget(owner);
            // Known under another owner too (an older message of the one
            // who gave the list away, arriving late): forgotten all the same.
            self.forget_lists(&lists);
            if let Some(member) = member {
                self.forget(member);
                hearing.push(member.to_owned());
            }
        }
        for list in lists.iter().flatten() {
            hearing.extend(self.members(owner, *list).await?.iter().cloned());
        }
        hearing.sort_unstable();
        hearing.dedup();
        hearing.retain(|user| user != owner);
        Ok(hearing)
    }

    /// Forgets what is known of `owner`'s lists.
    pub fn forget(&self, owner: &str) {
        let mut known = self.0.known.write().unwrap_or_else(|e| e.into_inner());
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(lists) = known.owners.remove(owner) {
            for list in lists {
                known.lists.remove(&list);
            }
        }
    }

    /// Forgets what is known of `lists`, whoever it was known under.
    fn forget_lists(&self, lists: &[Option<i64>]) {
        let mut known = self.0.known.write().unwrap_or_else(|e| e.into_inner());
        self.0.generation.fetch_add(1, Ordering::SeqCst);
        for list in lists.iter().flatten() {
            known.lists.remove(list);
        }
    }

    fn known(&self, list: i64) -> Option<Arc<[String]>> {
        let known = self.0.known.read().unwrap_or_else(|e| e.into_inner());
        known.lists.get(&list).cloned()
    }

    /// The members of `owner`'s list `list`, remembered or read.
    async fn members(&self, owner: &str, list: i64) -> Result<Arc<[String]>> {
        if let Some(members) = self.known(list) {
            return Ok(members);
        }
        let generation = self.0.generation.load(Ordering::SeqCst);
        let members: Vec<(String,)> =
            query("SELECT user_id FROM list_access WHERE list_id = $1 ORDER BY user_id")
                .bind(list)
                .fetch_all(&mut self.0.db.read().await?)
                .await?;
        let members: Arc<[String]> = members.into_iter().map(|(user,)| user).collect();
        let mut known = self.0.known.write().unwrap_or_else(|e| e.into_inner());
        if self.0.generation.load(Ordering::SeqCst) == generation {
            if known.lists.len() >= KEPT {
                *known = Known::default();
            }
            known.lists.insert(list, members.clone());
            known.owners.entry(owner.to_owned()).or_default().push(list);
        }
        Ok(members)
    }
}

//! Lists (projects): every task is in one. Each user has an Inbox, made on
//! first use, for tasks given no list. A list nests in another at most
//! [`MAX_LIST_DEPTH`] deep; an archived list (or one inside an archived
//! list) is read-only and hidden from default listings. Each change appends
//! its `taskflow.list.*` event in its transaction, like a task's.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use taskflow_core::{
    CreateList, DeleteList, INBOX_TITLE, Leftovers, List, ListFields, ListRef, ListSummary,
    ListsQuery, MAX_LIST_DEPTH, MoveList, Role, Spot, UpdateList, position,
};
use taskflow_events::{ListEventType, TaskEventType};

use crate::database::{Executor, Query, Tx, query};
use crate::outbox::{self, NewEvent};
use crate::tasks::columns::{SELECT, StoredTask, TaskRow};
use crate::tasks::{Actor, check_user};
use crate::{Error, Result, TaskService};

/// The columns of a [`ListRow`].
const LIST_COLUMNS: &str = "id, user_id, title, description, color, parent_id, position, \
                            is_inbox, archived_at, version, created_at, updated_at";

/// A list as stored, with the reader's access to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ListRow {
    pub id: i64,
    /// The owner.
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub color: Option<String>,
    pub parent_id: Option<i64>,
    pub position: String,
    pub is_inbox: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The reader's role when it is a member's (None: the owner's, or a
    /// row read for a write).
    #[sqlx(default)]
    pub granted: Option<String>,
    /// For a member: whether it is archived, itself or through a list it is
    /// in (which the member may not see).
    #[sqlx(default)]
    pub archived_above: Option<bool>,
    /// For a member: whether its parent is a list they do not reach (shown
    /// at the top of their lists).
    #[sqlx(default)]
    pub parent_hidden: Option<bool>,
}

impl ListRow {
    /// The list as every surface shows it.
    pub fn list(&self) -> List {
        List {
            id: self.id,
            title: self.title.clone(),
            description: self.description.clone(),
            color: self.color.clone(),
            parent_id: self.parent_id.filter(|_| self.parent_hidden != Some(true)),
            inbox: self.is_inbox,
            archived_at: self.archived_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The reader's role.
    pub fn role(&self) -> Role {
        self.granted
            .as_deref()
            .map_or(Role::Owner, |r| Role::parse(r).unwrap_or(Role::Viewer))
    }

    fn fields(&self) -> Result<ListFields> {
        Ok(ListFields {
            title: taskflow_core::Title::parse(&self.title)?,
            description: taskflow_core::Description::parse(
                self.description.as_deref().unwrap_or_default(),
            )?,
            color: taskflow_core::Color::parse(self.color.as_deref().unwrap_or_default())?,
        })
    }
}

/// The lists a user reaches, held in memory while a rule of nesting,
/// archiving or access is checked (a person has tens of lists, not
/// thousands): their own, then those shared with them.
#[derive(Debug, Clone)]
pub(crate) struct Lists(pub(crate) Vec<ListRow>);

impl Lists {
    /// Every list `user` reaches, in sidebar order: their Inbox first, their
    /// lists by position, then the lists shared with them.
    pub async fn load(on: &mut impl Executor, user: &str) -> Result<Lists> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let shared = LIST_COLUMNS
                .split(", ")
                .map(|c| format!("l.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {LIST_COLUMNS}, NULL AS granted, NULL AS archived_above, \
                 NULL AS parent_hidden, 0 AS shared FROM lists WHERE user_id = $1 \
                 UNION ALL SELECT {shared}, a.role, a.archived, \
                 l.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM list_access p \
                 WHERE p.user_id = $1 AND p.list_id = l.parent_id), 1 \
                 FROM list_access a JOIN lists l ON l.id = a.list_id WHERE a.user_id = $1 \
                 ORDER BY shared, is_inbox DESC, position, id"
            )
        });
        let rows = query(&SQL).bind(user).fetch_all(on).await?;
        Ok(Lists(rows))
    }

    pub fn get(&self, id: i64) -> Option<&ListRow> {
        self.0.iter().find(|l| l.id == id)
    }

    /// The list `named` (by id, or by exact title in any case), or a 404
    /// naming `field`. A title names the user's own list before a shared
    /// one; two lists of one title are refused as ambiguous.
    pub fn find(&self, named: &ListRef, field: &'static str) -> Result<&ListRow> {
        match named {
            ListRef::Id(id) => self.get(*id).ok_or(Error::NoSuchList { field }),
            ListRef::Title(title) => {
                let title = title.trim().to_lowercase();
                let titled = |own: bool| {
                    self.0
                        .iter()
                        .filter(move |l| l.granted.is_none() == own)
                        .filter(|l| l.title.to_lowercase() == title)
                        .collect::<Vec<_>>()
                };
                let (own, shared) = (titled(true), titled(false));
                let found = if own.is_empty() { shared } else { own };
                match found.as_slice() {
                    [list] => Ok(list),
                    [] => Err(Error::NoSuchList { field }),
                    _ => Err(taskflow_core::Invalid::new(
                        field,
                        format!("more than one list is called `{title}`; give the list's id"),
                    )
                    .into()),
                }
            }
        }
    }

    /// The list `named`, if the reader may do what `needed` allows there: a
    /// 404 naming `field` when they do not reach it, 403 when their role is
    /// lower.
    pub fn with_role(
        &self,
        named: &ListRef,
        needed: Role,
        field: &'static str,
    ) -> Result<&ListRow> {
        let list = self.find(named, field)?;
        if list.role() < needed {
            return Err(Error::Forbidden { needed });
        }
        Ok(list)
    }

    /// The list and its ancestors, nearest first.
    fn lineage(&self, id: i64) -> impl Iterator<Item = &ListRow> {
        let mut next = self.get(id);
        std::iter::from_fn(move || {
            let list = next?;
            next = list.parent_id.and_then(|p| self.get(p));
            Some(list)
        })
        .take(MAX_LIST_DEPTH + 1)
    }

    /// Whether the list, or a list it is in, is archived.
    pub fn archived(&self, id: i64) -> bool {
        self.lineage(id)
            .any(|l| l.archived_at.is_some() || l.archived_above == Some(true))
    }

    /// The list `named`, if a task may be written in it: a 404 naming
    /// `field` when the reader does not reach it, 403 when they may only
    /// read it, 409 `list_archived` when it is archived.
    pub fn writable(&self, named: &ListRef, field: &'static str) -> Result<&ListRow> {
        let list = self.with_role(named, Role::Editor, field)?;
        if self.archived(list.id) {
            return Err(archived(list, field));
        }
        Ok(list)
    }

    /// How deep the list is: 1 at the top.
    fn depth(&self, id: i64) -> usize {
        self.lineage(id).count()
    }

    /// The list and every list nested in it, parents before children.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while let Some(&at) = out.get(i) {
            out.extend(
                self.0
                    .iter()
                    .filter(|l| l.parent_id == Some(at))
                    .map(|l| l.id),
            );
            i += 1;
        }
        out
    }

    /// How many levels the list's subtree spans (1: no nested lists).
    fn height(&self, id: i64) -> usize {
        let children: Vec<i64> = self
            .0
            .iter()
            .filter(|l| l.parent_id == Some(id))
            .map(|l| l.id)
            .collect();
        1 + children
            .into_iter()
            .map(|c| self.height(c))
            .max()
            .unwrap_or(0)
    }

    /// Checks that `parent` can hold a list whose subtree is `height`
    /// levels high (and is not inside `moving`, the list being moved).
    fn check_parent(&self, parent: i64, moving: Option<i64>, height: usize) -> Result<&ListRow> {
        let list = self.writable(&ListRef::Id(parent), "parent_id")?;
        if let Some(moving) = moving
            && self.lineage(parent).any(|l| l.id == moving)
        {
            return Err(taskflow_core::Invalid::new(
                "parent_id",
                "a list cannot be moved into itself or a list nested in it",
            )
            .into());
        }
        if self.depth(parent) + height > MAX_LIST_DEPTH {
            return Err(taskflow_core::Invalid::new(
                "parent_id",
                format!("lists nest at most {MAX_LIST_DEPTH} levels deep"),
            )
            .into());
        }
        Ok(list)
    }

    /// The last position among the lists in `parent` (but `except`).
    pub(crate) fn last_position(&self, parent: Option<i64>, except: Option<i64>) -> Option<&str> {
        self.siblings(parent, except)
            .last()
            .map(|l| l.position.as_str())
    }

    /// The lists in `parent` but `except`, in order (the Inbox stays first).
    fn siblings(&self, parent: Option<i64>, except: Option<i64>) -> Vec<&ListRow> {
        let mut out: Vec<&ListRow> = self
            .0
            .iter()
            .filter(|l| l.parent_id == parent && Some(l.id) != except && !l.is_inbox)
            .collect();
        out.sort_by(|a, b| (a.position.as_str(), a.id).cmp(&(b.position.as_str(), b.id)));
        out
    }

    /// The position of a list put at `spot` among the lists of `parent`.
    pub(crate) fn place(&self, parent: Option<i64>, moving: i64, spot: Spot) -> Result<String> {
        let siblings = self.siblings(parent, Some(moving));
        let at = |id: i64, field: &'static str| {
            siblings.iter().position(|l| l.id == id).ok_or_else(|| {
                Error::from(taskflow_core::Invalid::new(
                    field,
                    format!("list {id} is not beside this one; give a list of the same parent"),
                ))
            })
        };
        let key = |i: usize| siblings.get(i).map(|l| l.position.as_str());
        Ok(match spot {
            Spot::Top => position::between(None, key(0)),
            Spot::Bottom => position::between(siblings.last().map(|l| l.position.as_str()), None),
            Spot::Before(id) => {
                let i = at(id, "before_id")?;
                position::between(i.checked_sub(1).and_then(key), key(i))
            }
            Spot::After(id) => {
                let i = at(id, "after_id")?;
                position::between(key(i), key(i + 1))
            }
        })
    }
}

/// A list operation's view of the lists: under the owner's write lock, the
/// owner's tree (where the rules of nesting and archiving are checked) and
/// the caller's own view (where their role is).
pub(crate) struct Locked {
    pub tx: Tx,
    /// The lists as the owner reaches them.
    pub tree: Lists,
    /// The lists as the caller reaches them.
    pub visible: Lists,
    pub owner: String,
}

impl Locked {
    /// Under the lock of the owner of list `id`, if the caller's role there
    /// is at least `needed` (404 naming `field` if they do not reach it).
    pub async fn take(
        db: &crate::Database,
        user: &str,
        id: i64,
        needed: Role,
        field: &'static str,
    ) -> Result<Locked> {
        let mut tx = db.begin_for(user).await?;
        let visible = Lists::load(&mut tx, user).await?;
        let owner = visible
            .with_role(&ListRef::Id(id), needed, field)?
            .user_id
            .clone();
        if owner == user {
            let tree = visible.clone();
            return Ok(Locked {
                tx,
                tree,
                visible,
                owner,
            });
        }
        // A member's change is serialised with the owner's changes; their
        // role is read again under the lock, and the owner too: a list
        // given away meanwhile is taken under its new owner's lock.
        drop(tx);
        let mut owner = owner;
        for _ in 0..3 {
            let mut tx = db.begin_for(&owner).await?;
            let visible = Lists::load(&mut tx, user).await?;
            let now_owner = visible
                .with_role(&ListRef::Id(id), needed, field)?
                .user_id
                .clone();
            if now_owner != owner {
                owner = now_owner;
                continue;
            }
            let tree = Lists::load(&mut tx, &owner).await?;
            return Ok(Locked {
                tx,
                tree,
                visible,
                owner,
            });
        }
        Err(owner_moving())
    }

    /// The list `to` of the caller's view, if tasks or lists of this owner
    /// may go there with the caller's role `needed`.
    pub fn target(&self, to: i64, needed: Role, field: &'static str) -> Result<&ListRow> {
        let list = self.visible.with_role(&ListRef::Id(to), needed, field)?;
        if list.user_id != self.owner {
            return Err(Error::refused(
                "other_owner",
                field,
                "lists and tasks move only among the lists of one owner",
            ));
        }
        self.tree.find(&ListRef::Id(to), field)
    }
}

/// The Inbox of each of `users`, read or made on `on` (a transaction, or a
/// batch's connection). Every user has an Inbox from the start as far as
/// any surface can tell, so making its row on first use is bookkeeping, not
/// a change: it has no event. The unique index on a user's Inbox makes the
/// insert safe to race: the loser's row is not made and both read the one.
pub(crate) async fn ensure_inboxes(
    on: &mut impl Executor,
    users: &[&str],
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let mut insert = Query::build(
        "INSERT INTO lists (user_id, title, title_key, position, is_inbox, created_at, \
         updated_at) VALUES ",
    );
    let position = position::between(None, None);
    for (i, user) in users.iter().enumerate() {
        insert.push(if i == 0 { "(" } else { ", (" });
        insert.push_bind(*user).push(", ");
        insert.push_bind(INBOX_TITLE).push(", ");
        insert.push_bind(INBOX_TITLE.to_lowercase()).push(", ");
        insert.push_bind(position.clone()).push(", ");
        insert.push_bind(true).push(", ");
        insert.push_bind(now).push(", ");
        insert.push_bind(now).push(")");
    }
    insert.push(" ON CONFLICT DO NOTHING");
    insert.execute(&mut *on).await?;
    let mut found = Query::build("SELECT user_id, id FROM lists WHERE is_inbox = ");
    found.push_bind(true).push(" AND user_id IN (");
    found.push_binds(users.iter().copied());
    found.push(")");
    let rows: Vec<(String, i64)> = found.fetch_all(&mut *on).await?;
    Ok(rows.into_iter().collect())
}

/// Whether `user` reaches the list `id` (owns it, or it is shared with
/// them).
pub(crate) async fn exists(on: &mut impl Executor, user: &str, id: i64) -> Result<bool> {
    let found: Option<i64> = query(
        "SELECT id FROM lists WHERE id = $1 AND (user_id = $2 \
         OR id IN (SELECT list_id FROM list_access WHERE user_id = $2))",
    )
    .bind(id)
    .bind(user)
    .scalar_optional(on)
    .await?;
    Ok(found.is_some())
}

/// The user's Inbox, read or made in `tx`.
pub(crate) async fn ensure_inbox(tx: &mut Tx, user: &str, now: DateTime<Utc>) -> Result<i64> {
    ensure_inboxes(tx, &[user], now)
        .await?
        .remove(user)
        .ok_or_else(|| Error::Internal(format!("the Inbox of {user} was not made")))
}

/// A list about to be made.
pub(crate) struct New<'a> {
    pub fields: &'a ListFields,
    pub parent_id: Option<i64>,
    pub position: String,
    pub archived_at: Option<DateTime<Utc>>,
}

/// Inserts a list of `owner` with its `created` event in `tx`.
pub(crate) async fn insert(
    tx: &mut Tx,
    owner: &str,
    by: &Actor,
    new: New<'_>,
    now: DateTime<Utc>,
) -> Result<List> {
    let fields = new.fields;
    let row: ListRow = query(&format!(
        "INSERT INTO lists (user_id, title, title_key, description, color, parent_id, \
         position, is_inbox, archived_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {LIST_COLUMNS}"
    ))
    .bind(owner)
    .bind(fields.title.as_str())
    .bind(fields.title.as_str().to_lowercase())
    .bind(fields.description.as_ref().map(|d| d.as_str()))
    .bind(fields.color.as_ref().map(|c| c.as_str()))
    .bind(new.parent_id)
    .bind(new.position)
    .bind(false)
    .bind(new.archived_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let list = row.list();
    let event = NewEvent::list_change(owner, by, ListEventType::Created, None, Some(&list), now)?;
    outbox::append(tx, &event)?;
    Ok(list)
}

/// Gives the user's Inbox `fields` (with its `updated` event) in `tx`,
/// unless it has them already.
pub(crate) async fn set_inbox_fields(
    tx: &mut Tx,
    by: &Actor,
    fields: &ListFields,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = ensure_inbox(tx, &by.user, now).await?;
    let lists = Lists::load(&mut *tx, &by.user).await?;
    let old = lists.find(&ListRef::Id(id), "id")?;
    let mut new = old.clone();
    new.title = fields.title.as_str().to_owned();
    new.description = fields.description.as_ref().map(|d| d.as_str().to_owned());
    new.color = fields.color.as_ref().map(|c| c.as_str().to_owned());
    let before = old.list();
    if new.list() == before {
        return Ok(());
    }
    new.version = old.version + 1;
    new.updated_at = now;
    save(tx, &new, old.version).await?;
    let after = new.list();
    let event = NewEvent::list_change(
        &by.user,
        by,
        ListEventType::Updated,
        Some(&before),
        Some(&after),
        now,
    )?;
    outbox::append(tx, &event)?;
    Ok(())
}

/// Writes a list's changed row if it is still at `old_version`.
async fn save(tx: &mut Tx, list: &ListRow, old_version: i64) -> Result<()> {
    let done = query(
        "UPDATE lists SET title = $1, title_key = $2, description = $3, color = $4, \
         parent_id = $5, position = $6, archived_at = $7, version = $8, updated_at = $9 \
         WHERE id = $10 AND user_id = $11 AND version = $12",
    )
    .bind(list.title.as_str())
    .bind(list.title.to_lowercase())
    .bind(list.description.as_deref())
    .bind(list.color.as_deref())
    .bind(list.parent_id)
    .bind(list.position.as_str())
    .bind(list.archived_at)
    .bind(list.version)
    .bind(list.updated_at)
    .bind(list.id)
    .bind(list.user_id.as_str())
    .bind(old_version)
    .execute(tx)
    .await?;
    if done == 1 {
        Ok(())
    } else {
        Err(Error::Conflict {
            current: old_version,
        })
    }
}

/// Refuses what the Inbox cannot do.
fn not_inbox(list: &ListRow, what: &str) -> Result<()> {
    if list.is_inbox {
        return Err(Error::refused(
            "inbox_protected",
            "id",
            format!("the Inbox cannot be {what}; it holds tasks given no list"),
        ));
    }
    Ok(())
}

/// Refuses a change when the list is no longer at `expected`.
fn check_version(list: &ListRow, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(expected) if expected != list.version => Err(Error::Conflict {
            current: list.version,
        }),
        _ => Ok(()),
    }
}

impl TaskService {
    /// The id of the user's Inbox, made on first use.
    pub async fn inbox(&self, actor: &Actor) -> Result<i64> {
        check_user(&actor.user)?;
        if let Some(id) = self.cached_inbox(&actor.user) {
            return Ok(id);
        }
        let found = query("SELECT id FROM lists WHERE user_id = $1 AND is_inbox = $2")
            .bind(&actor.user)
            .bind(true)
            .scalar_optional(&mut self.db.read().await?)
            .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let mut tx = self.db.begin().await?;
                let id = ensure_inbox(&mut tx, &actor.user, self.clock.now()).await?;
                tx.commit().await?;
                id
            }
        };
        self.remember_inbox(&actor.user, id);
        Ok(id)
    }

    /// The user's lists with their task counts, Inbox first, then in the
    /// manual order (nested lists after their parent's siblings: `parent_id`
    /// builds the tree); archived ones only when asked.
    pub async fn lists(&self, actor: &Actor, query_: &ListsQuery) -> Result<Vec<ListSummary>> {
        self.inbox(actor).await?;
        let mut conn = self.db.read().await?;
        let lists = Lists::load(&mut conn, &actor.user).await?;
        let counts = counts(&mut conn, &actor.user).await?;
        let archived = query_.archived.unwrap_or(false);
        Ok(lists
            .0
            .iter()
            .filter(|l| archived || !lists.archived(l.id))
            .map(|l| summary(l, &counts))
            .collect())
    }

    /// One of the user's lists with its counts.
    pub async fn get_list(&self, actor: &Actor, id: i64) -> Result<ListSummary> {
        check_user(&actor.user)?;
        let mut conn = self.db.read().await?;
        let lists = Lists::load(&mut conn, &actor.user).await?;
        let list = lists.find(&ListRef::Id(id), "id")?;
        let counts = counts(&mut conn, &actor.user).await?;
        Ok(summary(list, &counts))
    }

    /// Creates a list, at the bottom of its parent's lists.
    pub async fn create_list(&self, actor: &Actor, input: &CreateList) -> Result<List> {
        check_user(&actor.user)?;
        let fields = input.parse()?;
        let now = self.clock.now();
        // In a shared list, an admin makes a list of its owner's.
        let (mut tx, lists, owner) = match input.parent_id {
            Some(parent) => {
                let mut locked =
                    Locked::take(&self.db, &actor.user, parent, Role::Admin, "parent_id").await?;
                locked.target(parent, Role::Admin, "parent_id")?;
                locked.tree.check_parent(parent, None, 1)?;
                ensure_inbox(&mut locked.tx, &actor.user, now).await?;
                (locked.tx, locked.tree, locked.owner)
            }
            None => {
                let mut tx = self.db.begin_for(&actor.user).await?;
                ensure_inbox(&mut tx, &actor.user, now).await?;
                let lists = Lists::load(&mut tx, &actor.user).await?;
                (tx, lists, actor.user.clone())
            }
        };
        let position = position::between(lists.last_position(input.parent_id, None), None);
        let made = New {
            fields: &fields,
            parent_id: input.parent_id,
            position,
            archived_at: None,
        };
        let list = insert(&mut tx, &owner, actor, made, now).await?;
        crate::members::refresh_access(&mut tx, &owner, actor, now).await?;
        tx.commit().await?;
        Ok(list)
    }

    /// Renames a list or changes its notes or colour. The Inbox can be
    /// renamed too (it stays the Inbox).
    pub async fn update_list(
        &self,
        actor: &Actor,
        id: i64,
        patch: &UpdateList,
        expected_version: Option<i64>,
    ) -> Result<List> {
        self.change_list(actor, id, expected_version, |lists, _, old| {
            if lists.archived(old.id) {
                return Err(archived(old, "id"));
            }
            let fields = patch.apply(&old.fields()?)?;
            let mut new = old.clone();
            new.title = fields.title.as_str().to_owned();
            new.description = fields.description.map(|d| d.as_str().to_owned());
            new.color = fields.color.map(|c| c.as_str().to_owned());
            Ok(Some((new, ListEventType::Updated)))
        })
        .await
    }

    /// Archives a list: it and the lists in it become read-only and leave
    /// default listings. Archiving an archived list changes nothing.
    pub async fn archive_list(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
    ) -> Result<List> {
        let now = self.clock.now();
        self.change_list(actor, id, expected_version, |_, _, old| {
            not_inbox(old, "archived")?;
            if old.archived_at.is_some() {
                return Ok(None);
            }
            let mut new = old.clone();
            new.archived_at = Some(now);
            Ok(Some((new, ListEventType::Archived)))
        })
        .await
    }

    /// Makes an archived list active again.
    pub async fn unarchive_list(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
    ) -> Result<List> {
        self.change_list(actor, id, expected_version, |_, _, old| {
            if old.archived_at.is_none() {
                return Ok(None);
            }
            let mut new = old.clone();
            new.archived_at = None;
            Ok(Some((new, ListEventType::Unarchived)))
        })
        .await
    }

    /// Moves a list into another (or to the top level) and among its
    /// siblings: one row written.
    pub async fn move_list(&self, actor: &Actor, id: i64, input: &MoveList) -> Result<List> {
        let spot = input.place().spot(Spot::Bottom)?;
        self.change_list(actor, id, None, |lists, visible, old| {
            not_inbox(old, "moved")?;
            if lists.archived(old.id) {
                return Err(archived(old, "id"));
            }
            let parent = input.parent_id.unwrap_or(old.parent_id);
            if let Some(parent) = parent {
                visible.with_role(&ListRef::Id(parent), Role::Admin, "parent_id")?;
                lists.check_parent(parent, Some(old.id), lists.height(old.id))?;
                if lists.get(parent).is_some_and(|p| p.user_id != old.user_id) {
                    return Err(Error::refused(
                        "other_owner",
                        "parent_id",
                        "lists move only among the lists of one owner",
                    ));
                }
            }
            let mut new = old.clone();
            new.parent_id = parent;
            new.position = lists.place(parent, old.id, spot)?;
            Ok(Some((new, ListEventType::Moved)))
        })
        .await
    }

    /// Deletes a list and the lists nested in it. One that holds tasks or
    /// lists is refused (`list_not_empty`) unless `how` deletes its tasks
    /// too or moves them (each with its own event) to another list.
    pub async fn delete_list(
        &self,
        actor: &Actor,
        id: i64,
        how: &DeleteList,
        expected_version: Option<i64>,
    ) -> Result<List> {
        check_user(&actor.user)?;
        let leftovers = how.leftovers()?;
        let now = self.clock.now();
        let mut locked = Locked::take(&self.db, &actor.user, id, Role::Admin, "id").await?;
        let owner = locked.owner.clone();
        let user = owner.as_str();
        let lists = &locked.tree;
        let list = lists.find(&ListRef::Id(id), "id")?;
        check_version(list, expected_version)?;
        not_inbox(list, "deleted")?;
        let doomed = lists.subtree(id);
        let tasks = tasks_in(&mut locked.tx, user, &doomed).await?;
        match leftovers {
            Leftovers::Refuse if !tasks.is_empty() || doomed.len() > 1 => {
                return Err(Error::refused(
                    "list_not_empty",
                    "cascade",
                    format!(
                        "the list holds {} task(s) and {} nested list(s); pass cascade=delete to delete them too, or move_to=<list id> to keep its tasks",
                        tasks.len(),
                        doomed.len() - 1
                    ),
                ));
            }
            Leftovers::Refuse => {}
            Leftovers::Delete => {
                for task in &tasks {
                    crate::tasks::sql::delete_in(&mut locked.tx, actor, task, now).await?;
                }
            }
            Leftovers::MoveTo(to) => {
                if doomed.contains(&to) {
                    return Err(taskflow_core::Invalid::new(
                        "move_to",
                        "the tasks cannot move to the list being deleted or one nested in it",
                    )
                    .into());
                }
                locked.target(to, Role::Editor, "move_to")?;
                let target = lists.writable(&ListRef::Id(to), "move_to")?.id;
                for task in tasks {
                    let mut moved = task.clone();
                    moved.list_id = target;
                    moved.position = crate::tasks::sql::bottom_of(
                        &mut locked.tx,
                        target,
                        task.parent_id,
                        task.id,
                    )
                    .await?;
                    crate::tasks::sql::save_with_event(
                        &mut locked.tx,
                        actor,
                        &task,
                        moved,
                        TaskEventType::Moved,
                        now,
                    )
                    .await?;
                }
            }
        }
        let shown = list.list();
        for doomed_id in doomed.iter().rev() {
            let Some(row) = lists.get(*doomed_id) else {
                continue;
            };
            query("DELETE FROM lists WHERE id = $1 AND user_id = $2")
                .bind(row.id)
                .bind(user)
                .execute(&mut locked.tx)
                .await?;
            let event = NewEvent::list_change(
                user,
                actor,
                ListEventType::Deleted,
                Some(&row.list()),
                None,
                now,
            )?;
            outbox::append(&mut locked.tx, &event)?;
        }
        locked.tx.commit().await?;
        Ok(shown)
    }

    /// Under the owner's lock, if the caller is an admin of list `id`, lets
    /// `change` decide about it (seeing the owner's lists and the caller's)
    /// and writes the new row with its event.
    async fn change_list(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        change: impl FnOnce(&Lists, &Lists, &ListRow) -> Result<Option<(ListRow, ListEventType)>>,
    ) -> Result<List> {
        check_user(&actor.user)?;
        let now = self.clock.now();
        let Locked {
            mut tx,
            tree: lists,
            visible,
            owner,
        } = Locked::take(&self.db, &actor.user, id, Role::Admin, "id").await?;
        let old = lists.find(&ListRef::Id(id), "id")?;
        check_version(old, expected_version)?;
        let Some((mut new, event_type)) = change(&lists, &visible, old)? else {
            return Ok(visible.find(&ListRef::Id(id), "id")?.list());
        };
        let (before, mut after) = (old.list(), new.list());
        if before == after && new.position == old.position {
            return Ok(before);
        }
        new.version = old.version + 1;
        new.updated_at = now;
        after.version = new.version;
        after.updated_at = now;
        save(&mut tx, &new, old.version).await?;
        let event =
            NewEvent::list_change(&owner, actor, event_type, Some(&before), Some(&after), now)?;
        outbox::append(&mut tx, &event)?;
        // Nesting and archiving decide what members reach.
        crate::members::refresh_access(&mut tx, &owner, actor, now).await?;
        tx.commit().await?;
        // As the caller sees it: a list whose parent they do not reach is
        // at the top of their lists.
        let hidden = visible.get(id).is_some_and(|l| l.granted.is_some())
            && after.parent_id.is_some_and(|p| visible.get(p).is_none());
        if hidden {
            after.parent_id = None;
        }
        Ok(after)
    }
}

/// The refusal of a change to a list that keeps changing owner under it.
pub(crate) fn owner_moving() -> Error {
    Error::refused(
        "owner_changed",
        "id",
        "the list changed owner while this was being done; try again",
    )
}

/// The refusal of a write in an archived list, naming `field`.
fn archived(list: &ListRow, field: &'static str) -> Error {
    Error::refused(
        "list_archived",
        field,
        format!(
            "list {} is archived and read-only; unarchive it first",
            list.id
        ),
    )
}

/// (open, all) tasks per list the user reaches.
async fn counts(on: &mut impl Executor, user: &str) -> Result<HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = query(
        "SELECT list_id, SUM(CASE WHEN completed THEN 0 ELSE 1 END), COUNT(*) \
         FROM tasks WHERE user_id = $1 \
         OR list_id IN (SELECT list_id FROM list_access WHERE user_id = $1) GROUP BY list_id",
    )
    .bind(user)
    .fetch_all(on)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, open, all)| (id, (open, all)))
        .collect())
}

fn summary(list: &ListRow, counts: &HashMap<i64, (i64, i64)>) -> ListSummary {
    let (open_count, task_count) = counts.get(&list.id).copied().unwrap_or_default();
    ListSummary {
        list: list.list(),
        open_count,
        task_count,
        role: list.role(),
    }
}

/// Every task of the user in `lists`, oldest first.
async fn tasks_in(tx: &mut Tx, user: &str, lists: &[i64]) -> Result<Vec<StoredTask>> {
    let mut q = crate::database::Query::build(format!(
        "SELECT {} FROM tasks t WHERE t.user_id = ",
        *SELECT
    ));
    q.push_bind(user).push(" AND t.list_id IN (");
    q.push_binds(lists.iter().copied());
    q.push(") ORDER BY t.id");
    let rows: Vec<TaskRow> = q.fetch_all(tx).await?;
    rows.into_iter().map(StoredTask::try_from).collect()
}

//! CalDAV's reads: each list a person reaches is a calendar, each task in
//! it a resource named by the client's href (`task_ical.href`) or
//! `taskflow-task-{id}.ics`, tagged `"{id}-{version}"`. A calendar's sync
//! token is its newest change (see `calendar_feeds.rs`), and the changes
//! since a token are read off the outbox by the list's two indexes (events
//! filed under it, moves out of it): their cost follows the changes, not
//! the list. A token older than what retention still holds of the list is
//! refused, and the client reads the calendar again.

use std::collections::HashMap;
use std::sync::LazyLock;

use taskflow_core::calendar::CalendarItem;

use crate::calendar_feeds::{ITEM_COLUMNS, ItemRow};
use sqlx::types::Json;

use crate::database::{Query, query};

mod write;

use crate::lists::Lists;
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};
use write::own_uid_id;
pub use write::{DavRefusal, Preconditions, PutOutcome};
pub(crate) use write::{IcalWrite, write_ical};

/// The most changes one sync report answers; the rest come with its token.
pub const MAX_SYNC_CHANGES: usize = 1_000;

/// The event kinds that change what a task's resource shows.
const RESOURCE_EVENTS: &str = "'created', 'updated', 'completed', 'reopened', 'deleted', 'moved'";

/// A list, as a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavCalendar {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub color: Option<String>,
    /// Whether the reader may write its tasks (an editor or more, and the
    /// list not archived).
    pub writable: bool,
    /// Whether it is the reader's own list (not one shared with them).
    pub own: bool,
    /// Whether the reader may rename it (its owner or an admin, and the
    /// list not archived).
    pub administrable: bool,
    /// Its place in the reader's sidebar.
    pub order: usize,
}

/// A task's resource in a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavObject {
    pub task_id: i64,
    /// The last segment of its URL, decoded.
    pub href: String,
    /// Its strong entity tag, quoted.
    pub etag: String,
    /// What it shows, when asked for.
    pub body: Option<DavBody>,
}

/// What a resource shows: the task and what a client gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavBody {
    pub item: CalendarItem,
    /// The UID a client gave it (None: Taskflow's own).
    pub uid: Option<String>,
    /// The UID a client gave its parent (None: Taskflow's own), or, for a
    /// task without one, the parent UID it named that is not applied (not
    /// there yet, or in another list).
    pub parent_uid: Option<String>,
    /// What the client sent that Taskflow does not model.
    pub extra: serde_json::Value,
}

/// The changes of a calendar since a sync token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavChanges {
    /// Resources changed or added, with their tags.
    pub changed: Vec<DavObject>,
    /// Hrefs of resources gone (deleted, or moved out).
    pub gone: Vec<String>,
    /// The token to send next time.
    pub token: i64,
    /// Whether more changes wait (the client asks again with `token`).
    pub truncated: bool,
}

/// The entity tag of a task's resource: its version, qualified by its id,
/// so that an href made anew never repeats a tag.
pub fn dav_etag(task_id: i64, version: i64) -> String {
    format!("\"{task_id}-{version}\"")
}

/// The resource name a task has until a client names it.
pub fn default_href(task_id: i64) -> String {
    format!("taskflow-task-{task_id}.ics")
}

/// The task a default resource name names.
pub(crate) fn default_href_id(href: &str) -> Option<i64> {
    href.strip_prefix("taskflow-task-")?
        .strip_suffix(".ics")?
        .parse()
        .ok()
        .filter(|id| *id > 0)
}

#[derive(Debug, sqlx::FromRow)]
struct TagRow {
    id: i64,
    version: i64,
    href: Option<String>,
}

impl TagRow {
    fn object(self) -> DavObject {
        DavObject {
            href: self.href.unwrap_or_else(|| default_href(self.id)),
            etag: dav_etag(self.id, self.version),
            task_id: self.id,
            body: None,
        }
    }
}

/// A [`TagRow`] with the task's list.
#[derive(Debug, sqlx::FromRow)]
struct ListedTagRow {
    #[sqlx(flatten)]
    tag: TagRow,
    list_id: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct BodyRow {
    #[sqlx(flatten)]
    item: ItemRow,
    href: Option<String>,
    uid: Option<String>,
    extra: Option<Json<serde_json::Value>>,
    parent_uid: Option<String>,
}

/// The columns of a [`BodyRow`] of `tasks t`.
static BODY_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let item = ITEM_COLUMNS
        .split(',')
        .map(|c| format!("t.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{item}, i.href, i.uid, i.extra, COALESCE((SELECT p.uid FROM task_ical p \
         WHERE p.task_id = t.parent_id AND p.deleted_at IS NULL), i.pending_parent) AS parent_uid"
    )
});

impl TaskService {
    /// The lists `user` reaches, as calendars, in sidebar order.
    pub async fn dav_calendars(&self, user: &str) -> Result<Vec<DavCalendar>> {
        check_user(user)?;
        let lists = Lists::load(&mut self.db.read().await?, user).await?;
        Ok(calendars(&lists))
    }

    /// One list `user` reaches, as a calendar.
    pub async fn dav_calendar(&self, user: &str, list: i64) -> Result<Option<DavCalendar>> {
        check_user(user)?;
        let lists = Lists::load(&mut self.db.read().await?, user).await?;
        Ok(calendars(&lists).into_iter().find(|c| c.id == list))
    }

    /// The sync tokens of `lists`, by list. Read them before the tasks:
    /// newer content under an older token is reported twice, never missed.
    pub async fn dav_tokens(&self, lists: &[i64]) -> Result<HashMap<i64, i64>> {
        let mut conn = self.db.read().await?;
        let mut tokens = HashMap::with_capacity(lists.len());
        for list in lists {
            tokens.insert(*list, self.newest_change(&mut conn, &[*list]).await?);
        }
        Ok(tokens)
    }

    /// The resources of a list the caller reaches (checked by the caller),
    /// by task id, with what they show if `bodies`.
    pub async fn dav_objects(&self, list: i64, bodies: bool) -> Result<Vec<DavObject>> {
        let mut conn = self.db.read().await?;
        match bodies {
            false => {
                let rows: Vec<TagRow> = query(
                    "SELECT t.id, t.version, i.href FROM tasks t \
                     LEFT JOIN task_ical i ON i.task_id = t.id WHERE t.list_id = $1 ORDER BY t.id",
                )
                .bind(list)
                .fetch_all(&mut conn)
                .await?;
                Ok(rows.into_iter().map(TagRow::object).collect())
            }
            true => {
                let mut q = Query::build(format!(
                    "SELECT {} FROM tasks t LEFT JOIN task_ical i ON i.task_id = t.id \
                     WHERE t.list_id = ",
                    *BODY_COLUMNS
                ));
                q.push_bind(list).push(" ORDER BY t.id");
                with_bodies(q.fetch_all(&mut conn).await?)
            }
        }
    }

    /// The resources of a list named by `hrefs` (decoded last segments),
    /// with what they show if `bodies`; a name no resource has is left out.
    pub async fn dav_named(
        &self,
        list: i64,
        hrefs: &[&str],
        bodies: bool,
    ) -> Result<Vec<DavObject>> {
        if hrefs.is_empty() {
            return Ok(Vec::new());
        }
        // Two branches, each found by its names rather than through the
        // list (whose index would make the cost follow the list): the
        // client's names by the owner's name index, Taskflow's by id.
        let mut q = Query::build(format!(
            "SELECT {} FROM task_ical i JOIN tasks t ON t.id = i.task_id \
             WHERE i.user_id = (SELECT user_id FROM lists WHERE id = ",
            *BODY_COLUMNS
        ));
        q.push_bind(list)
            .push(") AND i.deleted_at IS NULL AND i.href IN (");
        q.push_binds(hrefs.iter().map(|h| h.to_string()));
        q.push(") AND t.list_id = ").push_bind(list);
        let ids: Vec<i64> = hrefs.iter().filter_map(|h| default_href_id(h)).collect();
        if !ids.is_empty() {
            q.push(&format!(
                " UNION ALL SELECT {} FROM tasks t LEFT JOIN task_ical i ON i.task_id = t.id \
                 WHERE t.id IN (",
                *BODY_COLUMNS
            ));
            q.push_binds(ids);
            // `+`: the list is checked on the rows found by id, not used
            // to find them (SQLite would walk the list's index).
            q.push(") AND i.task_id IS NULL AND +t.list_id = ")
                .push_bind(list);
        }
        let mut objects = with_bodies(q.fetch_all(&mut self.db.read().await?).await?)?;
        objects.sort_unstable_by_key(|object| object.task_id);
        if !bodies {
            for object in &mut objects {
                object.body = None;
            }
        }
        Ok(objects)
    }

    /// What changed in `list` after sync token `since` (None: everything
    /// it holds now), at most `limit` resources; [`Error::CursorExpired`]
    /// when the list's events after `since` are no longer all held.
    pub async fn dav_changes(
        &self,
        list: i64,
        since: Option<i64>,
        limit: usize,
    ) -> Result<DavChanges> {
        let mut conn = self.db.read().await?;
        let newest = self.newest_change(&mut conn, &[list]).await?;
        let Some(since) = since else {
            drop(conn);
            let changed = self.dav_objects(list, false).await?;
            return Ok(DavChanges {
                changed,
                gone: Vec::new(),
                token: newest,
                truncated: false,
            });
        };
        // Refused: a token from before the list's pruned events, or from
        // before it changed owner (the names of its tasks may have changed
        // with no event of theirs: the client syncs it anew).
        let (pruned, transferred): (Option<i64>, Option<i64>) = query(
            "SELECT (SELECT sequence FROM list_pruned_marks WHERE list_id = $1), \
             (SELECT MAX(sequence) FROM task_events WHERE list_id = $1 AND sequence > $2 \
             AND event_type = 'list_transferred')",
        )
        .bind(list)
        .bind(since)
        .fetch_one(&mut conn)
        .await?;
        if since > newest || pruned.is_some_and(|mark| since < mark) || transferred.is_some() {
            return Err(Error::CursorExpired {
                oldest: pruned.unwrap_or(0),
                latest: newest,
            });
        }
        let changed: Vec<(i64, i64)> = query(&format!(
            "SELECT task_id, MAX(sequence) AS m FROM (\
             SELECT task_id, sequence FROM task_events WHERE list_id = $1 AND sequence > $2 \
             AND sequence <= $3 AND event_type IN ({RESOURCE_EVENTS}) \
             UNION ALL SELECT task_id, sequence FROM task_events WHERE from_list_id = $1 \
             AND sequence > $2 AND sequence <= $3 AND event_type IN ({RESOURCE_EVENTS})\
             ) c GROUP BY task_id ORDER BY m LIMIT $4"
        ))
        .bind(list)
        .bind(since)
        .bind(newest)
        .bind(limit as i64 + 1)
        .fetch_all(&mut conn)
        .await?;
        let truncated = changed.len() > limit;
        let changed = &changed[..changed.len().min(limit)];
        let token = match truncated {
            true => changed.last().map_or(since, |(_, m)| *m),
            false => newest,
        };
        if changed.is_empty() {
            return Ok(DavChanges {
                changed: Vec::new(),
                gone: Vec::new(),
                token,
                truncated,
            });
        }
        let ids = changed.iter().map(|(id, _)| *id);
        // By id, then by list here: a filter on the list would let the
        // planner walk the list's index, whose cost follows the list.
        let mut q = Query::build(
            "SELECT t.id, t.version, i.href, t.list_id FROM tasks t \
             LEFT JOIN task_ical i ON i.task_id = t.id WHERE t.id IN (",
        );
        q.push_binds(ids.clone());
        q.push(") ORDER BY t.id");
        let found: Vec<ListedTagRow> = q.fetch_all(&mut conn).await?;
        let present: Vec<TagRow> = found
            .into_iter()
            .filter(|row| row.list_id == list)
            .map(|row| row.tag)
            .collect();
        let mut absent: Vec<i64> = ids
            .filter(|id| present.iter().all(|row| row.id != *id))
            .collect();
        let mut gone = Vec::with_capacity(absent.len());
        if !absent.is_empty() {
            // Their names, if a client named them (kept after a deletion).
            let mut q = Query::build("SELECT task_id, href FROM task_ical WHERE task_id IN (");
            q.push_binds(absent.iter().copied());
            q.push(")");
            let named: Vec<(i64, String)> = q.fetch_all(&mut conn).await?;
            absent.sort_unstable();
            for id in absent {
                gone.push(
                    named
                        .iter()
                        .find(|(task, _)| *task == id)
                        .map_or_else(|| default_href(id), |(_, href)| href.clone()),
                );
            }
        }
        // The names these tasks had in this list before a rename, unless a
        // live task of the list holds one again.
        let mut q = Query::build("SELECT href FROM task_ical_retired WHERE task_id IN (");
        q.push_binds(changed.iter().map(|(id, _)| *id));
        q.push(") AND list_id = ").push_bind(list);
        // (By the owner's name index: the list's owner owns its tasks.)
        q.push(
            " AND NOT EXISTS (SELECT 1 FROM task_ical i JOIN tasks t ON t.id = i.task_id \
             WHERE i.user_id = (SELECT user_id FROM lists WHERE id = ",
        )
        .push_bind(list)
        .push(
            ") AND i.href = task_ical_retired.href AND i.deleted_at IS NULL \
             AND t.list_id = ",
        )
        .push_bind(list)
        .push(")");
        let retired: Vec<(String,)> = q.fetch_all(&mut conn).await?;
        gone.extend(retired.into_iter().map(|(href,)| href));
        gone.sort_unstable();
        gone.dedup();
        let changed: Vec<DavObject> = present.into_iter().map(TagRow::object).collect();
        // A name deleted and then given to a new task is that task's now.
        gone.retain(|href| changed.iter().all(|object| &object.href != href));
        Ok(DavChanges {
            changed,
            gone,
            token,
            truncated,
        })
    }
}

/// Every list of `lists` as a calendar.
fn calendars(lists: &Lists) -> Vec<DavCalendar> {
    use taskflow_core::Role;
    lists
        .0
        .iter()
        .enumerate()
        .map(|(order, list)| {
            let (role, archived) = (list.role(), lists.archived(list.id));
            DavCalendar {
                id: list.id,
                title: list.title.clone(),
                description: list.description.clone(),
                color: list.color.clone(),
                own: list.granted.is_none(),
                writable: role >= Role::Editor && !archived,
                administrable: role >= Role::Admin && !archived,
                order,
            }
        })
        .collect()
}

fn with_bodies(rows: Vec<BodyRow>) -> Result<Vec<DavObject>> {
    let mut zones = HashMap::new();
    rows.into_iter()
        .map(|row| {
            let item = row.item.item(&mut zones)?;
            // A row may hold Taskflow's own UID of a task (its host is the
            // HTTP side's): shown as Taskflow's own.
            let own = |uid: &Option<String>, id: Option<i64>| {
                uid.clone()
                    .filter(|uid| id.is_none() || own_uid_id(uid) != id)
            };
            let (uid, parent_uid) = (
                own(&row.uid, Some(item.id)),
                own(&row.parent_uid, item.parent_id),
            );
            Ok(DavObject {
                task_id: item.id,
                href: row.href.unwrap_or_else(|| default_href(item.id)),
                etag: dav_etag(item.id, item.version),
                body: Some(DavBody {
                    item,
                    uid,
                    parent_uid,
                    extra: row.extra.map_or_else(|| serde_json::json!({}), |e| e.0),
                }),
            })
        })
        .collect()
}

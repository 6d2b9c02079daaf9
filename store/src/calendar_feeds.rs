//! Calendar feeds: each person's subscription URLs, and what a fetch reads.
//!
//! A fetch reads the feed by its token's hash, resolves its lists against
//! what the person reaches now (a removed member loses a shared list at
//! once), and probes each list's newest change: the `ETag` is a hash of
//! those, so a conditional fetch answers 304 after three small statements
//! and renders nothing. The newest change of a list is the highest
//! sequence of its events (those filed under it, and moves out of it) or,
//! once pruned, the last pruned one (`list_pruned_marks`): it rises with
//! every change a feed shows and never falls.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use taskflow_core::calendar::{
    AllLists, CalendarFeed, CalendarFeedWithUrl, CalendarItem, CreateCalendarFeed, FeedComponent,
    FeedLists, MAX_FEED_LISTS, MAX_FEEDS, RENDER_VERSION,
};
use taskflow_core::task::MAX_TITLE;
use taskflow_core::{Due, Invalid, ListRef, Priority, Title, Zone};

use crate::agents::{hash, random_token};
use crate::database::{Executor, Param, Query, query};
use crate::lists::Lists;
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// What every feed token starts with.
pub const FEED_TOKEN_PREFIX: &str = "cal_";
/// How often `last_fetched_at` is written at most.
const FETCH_RECORDED_EVERY: Duration = Duration::hours(1);

const FEED_COLUMNS: &str = "id, user_id, token_hint, name, list_ids, component, \
     include_completed, created_at, last_fetched_at";

#[derive(Debug, sqlx::FromRow)]
struct FeedRow {
    id: i64,
    user_id: String,
    token_hint: String,
    name: String,
    list_ids: Option<Json<Vec<i64>>>,
    component: String,
    include_completed: bool,
    created_at: DateTime<Utc>,
    last_fetched_at: Option<DateTime<Utc>>,
}

impl FeedRow {
    fn component(&self) -> FeedComponent {
        self.component.parse().unwrap_or_default()
    }

    fn view(&self) -> CalendarFeed {
        CalendarFeed {
            id: self.id,
            name: self.name.clone(),
            lists: match &self.list_ids {
                Some(ids) => FeedLists::Ids(ids.0.clone()),
                None => FeedLists::All(AllLists::All),
            },
            component: self.component(),
            include_completed: self.include_completed,
            url_hint: self.token_hint.clone(),
            created_at: self.created_at,
            last_fetched_at: self.last_fetched_at,
        }
    }
}

/// A feed found by its token, with its lists as they are now.
#[derive(Debug, Clone)]
pub struct OpenedFeed {
    pub id: i64,
    pub name: String,
    pub component: FeedComponent,
    pub include_completed: bool,
    /// The lists it shows now, by id.
    pub lists: Vec<i64>,
    /// The colour of its one list, if it shows one list that has one.
    pub color: Option<String>,
    /// The newest change of any of its lists.
    pub newest: i64,
    /// Whether a fetch should be recorded (the last is an hour old).
    pub record_fetch: bool,
    /// The strong `ETag` of what it shows now, quoted.
    pub etag: String,
}

impl TaskService {
    /// Makes a feed of `user`'s lists; its URL (under `public_url`) is in
    /// the answer and nowhere else.
    pub async fn create_calendar_feed(
        &self,
        user: &str,
        input: &CreateCalendarFeed,
        public_url: &str,
    ) -> Result<CalendarFeedWithUrl> {
        check_user(user)?;
        let lists = Lists::load(&mut self.db.read().await?, user).await?;
        // The lists first: one the caller does not reach is "not found",
        // whatever else is wrong.
        let ids = match &input.lists {
            FeedLists::All(_) => None,
            FeedLists::Ids(ids) => {
                if ids.is_empty() || ids.len() > MAX_FEED_LISTS {
                    return Err(Invalid::new(
                        "lists",
                        format!("name 1 to {MAX_FEED_LISTS} lists, or \"all\""),
                    )
                    .into());
                }
                let mut found = Vec::with_capacity(ids.len());
                for id in ids {
                    found.push(lists.find(&ListRef::Id(*id), "lists")?.id);
                }
                found.sort_unstable();
                found.dedup();
                Some(found)
            }
        };
        let name = match (&input.name, ids.as_deref()) {
            (Some(name), _) => feed_name(name)?,
            (None, Some([one])) => lists
                .get(*one)
                .map_or("Taskflow".into(), |l| l.title.clone()),
            (None, _) => "Taskflow".into(),
        };
        let token = format!("{FEED_TOKEN_PREFIX}{}", random_token());
        let hint = token[token.len() - 4..].to_owned();
        let mut tx = self.db.begin().await?;
        let count: i64 = query("SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1")
            .bind(user)
            .scalar(&mut tx)
            .await?;
        if count >= MAX_FEEDS as i64 {
            return Err(Error::refused(
                "too_many_feeds",
                "lists",
                format!("you have {count} calendar feeds, the most there may be; delete one first"),
            ));
        }
        let row: FeedRow = query(&format!(
            "INSERT INTO calendar_feeds (user_id, token_hash, token_hint, name, list_ids, \
             component, include_completed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {FEED_COLUMNS}"
        ))
        .bind(user)
        .bind(hash(&token))
        .bind(&hint)
        .bind(&name)
        .bind(match &ids {
            Some(ids) => Param::json(ids)?,
            None => Param::Json(None),
        })
        .bind(input.component.as_str())
        .bind(input.include_completed)
        .bind(self.now())
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        let url = format!("{public_url}/feeds/{token}.ics");
        let webcal_url = format!(
            "webcal://{}",
            url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)
        );
        Ok(CalendarFeedWithUrl {
            feed: row.view(),
            url,
            webcal_url,
        })
    }

    /// The user's feeds, oldest first.
    pub async fn calendar_feeds(&self, user: &str) -> Result<Vec<CalendarFeed>> {
        check_user(user)?;
        let rows: Vec<FeedRow> = query(&format!(
            "SELECT {FEED_COLUMNS} FROM calendar_feeds WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user)
        .fetch_all(&mut self.db.read().await?)
        .await?;
        Ok(rows.iter().map(FeedRow::view).collect())
    }

    /// Deletes one of the user's feeds: its URL stops working at once
    /// ([`Error::NotFound`] for anyone else's).
    pub async fn delete_calendar_feed(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let deleted = query("DELETE FROM calendar_feeds WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut self.db.write().await?)
            .await?;
        if deleted == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// The feed a token opens, with its lists as the person reaches them
    /// now and its `ETag` (None for a token no feed has).
    pub async fn open_calendar_feed(
        &self,
        token: &str,
        public_url: &str,
    ) -> Result<Option<OpenedFeed>> {
        let mut conn = self.db.read().await?;
        let row: Option<FeedRow> = query(&format!(
            "SELECT {FEED_COLUMNS} FROM calendar_feeds WHERE token_hash = $1"
        ))
        .bind(hash(token))
        .fetch_optional(&mut conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let reached = Lists::load(&mut conn, &row.user_id).await?;
        let mut lists: Vec<i64> = match &row.list_ids {
            // Asked for by id: shown while reached, archived or not.
            Some(ids) => ids
                .0
                .iter()
                .copied()
                .filter(|id| reached.get(*id).is_some())
                .collect(),
            None => reached
                .0
                .iter()
                .filter(|l| !reached.archived(l.id))
                .map(|l| l.id)
                .collect(),
        };
        lists.sort_unstable();
        let newest = self.newest_change(&mut conn, &lists).await?;
        let color = match lists.as_slice() {
            [one] => reached.get(*one).and_then(|l| l.color.clone()),
            _ => None,
        };
        let component = row.component();
        let etag = hash(&format!(
            "{RENDER_VERSION}\n{}\n{}\n{}\n{}\n{public_url}\n{lists:?}\n{color:?}\n{newest}",
            row.id,
            component.as_str(),
            row.include_completed,
            row.name
        ));
        Ok(Some(OpenedFeed {
            id: row.id,
            name: row.name,
            component,
            include_completed: row.include_completed,
            lists,
            color,
            newest,
            record_fetch: row
                .last_fetched_at
                .is_none_or(|at| self.now() - at >= FETCH_RECORDED_EVERY),
            etag: format!("\"{}\"", &etag[..32]),
        }))
    }

    /// The highest sequence that changed any of `lists` (see the module).
    pub(crate) async fn newest_change(
        &self,
        conn: &mut impl Executor,
        lists: &[i64],
    ) -> Result<i64> {
        if lists.is_empty() {
            return Ok(0);
        }
        let mut q = Query::build("");
        for (i, list) in lists.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT (SELECT MAX(sequence) FROM task_events WHERE list_id = ")
                .push_bind(*list)
                .push(") UNION ALL SELECT (SELECT MAX(sequence) FROM task_events WHERE from_list_id = ")
                .push_bind(*list)
                .push(") UNION ALL SELECT (SELECT sequence FROM list_pruned_marks WHERE list_id = ")
                .push_bind(*list)
                .push(")");
        }
        let found: Vec<(Option<i64>,)> = q.fetch_all(conn).await?;
        Ok(found.into_iter().filter_map(|(s,)| s).max().unwrap_or(0))
    }

    /// Records that the feed was fetched (at most hourly; see
    /// [`OpenedFeed::record_fetch`]).
    pub async fn calendar_feed_fetched(&self, id: i64) -> Result<()> {
        query("UPDATE calendar_feeds SET last_fetched_at = $1 WHERE id = $2")
            .bind(self.now())
            .bind(id)
            .execute(&mut self.db.write().await?)
            .await?;
        Ok(())
    }

    /// What the feed shows of its lists' tasks, by id: open ones (and
    /// completed ones if it includes them); for events, dated ones only.
    pub async fn calendar_feed_items(&self, feed: &OpenedFeed) -> Result<Vec<CalendarItem>> {
        if feed.lists.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::build(format!(
            "SELECT {ITEM_COLUMNS} FROM tasks WHERE list_id IN ("
        ));
        q.push_binds(feed.lists.iter().copied());
        q.push(")");
        if !feed.include_completed {
            q.push(" AND NOT completed");
        }
        if feed.component == FeedComponent::Events {
            q.push(" AND due_local IS NOT NULL");
        }
        q.push(" ORDER BY id");
        let rows: Vec<ItemRow> = q.fetch_all(&mut self.db.read().await?).await?;
        let mut zones: HashMap<String, Zone> = HashMap::new();
        rows.into_iter().map(|row| row.item(&mut zones)).collect()
    }
}

/// A feed's name: a title's rules, named `name`.
fn feed_name(text: &str) -> Result<String> {
    Title::parse(text)
        .map(|title| title.as_str().to_owned())
        .map_err(|_| {
            Invalid::new(
                "name",
                format!("the name must be 1 to {MAX_TITLE} characters on one line"),
            )
            .into()
        })
}

/// The columns of an [`ItemRow`].
pub(crate) const ITEM_COLUMNS: &str = "id, parent_id, title, description, completed_at, priority, \
     tags, due_local, timezone, recurrence, anchor_local, reminder_minutes, reminder_at, version, \
     created_at, updated_at";

/// What a calendar shows of a task, as read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ItemRow {
    id: i64,
    parent_id: Option<i64>,
    title: String,
    description: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    priority: String,
    tags: Json<Vec<String>>,
    due_local: Option<String>,
    timezone: Option<String>,
    recurrence: Option<String>,
    anchor_local: Option<String>,
    reminder_minutes: Option<i32>,
    reminder_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ItemRow {
    /// The item, read from a row written from parsed values; each zone is
    /// parsed once per fetch.
    pub(crate) fn item(self, zones: &mut HashMap<String, Zone>) -> Result<CalendarItem> {
        let corrupt = |what: &str, err: Invalid| {
            Error::Internal(format!("task {} has an unreadable {what}: {err}", self.id))
        };
        let zone = match self.timezone.as_deref() {
            None => Zone::UTC,
            Some(name) => match zones.get(name) {
                Some(zone) => *zone,
                None => {
                    let zone = Zone::parse(name, "timezone").map_err(|e| corrupt("timezone", e))?;
                    zones.insert(name.to_owned(), zone);
                    zone
                }
            },
        };
        let due = |text: &Option<String>, what| {
            text.as_deref()
                .map(|t| Due::parse(t, zone))
                .transpose()
                .map_err(|e| corrupt(what, e))
        };
        Ok(CalendarItem {
            id: self.id,
            parent_id: self.parent_id,
            priority: self
                .priority
                .parse::<Priority>()
                .map_err(|e| corrupt("priority", e))?,
            due: due(&self.due_local, "due")?,
            anchor: due(&self.anchor_local, "anchor")?,
            recurrence: self
                .recurrence
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| corrupt("recurrence", e))?,
            reminder: crate::tasks::columns::reminder_of(self.reminder_minutes, self.reminder_at),
            title: self.title,
            description: self.description,
            completed_at: self.completed_at,
            tags: self.tags.0,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

//! Export and import (`core::transfer`). An export reads everything the
//! user owns. An import checks the whole document first, then writes it in
//! one transaction, every list, task, link and comment with its own event
//! (so live views, webhooks and the changes feed see it as it lands), as
//! the importing user, with new ids. A dry run rehearses the same writes
//! and rolls them back.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use taskflow_core::{
    EXPORT_FORMAT, EXPORT_VERSION, Export, ExportComment, ExportLink, ExportList, ExportTask,
    ImportPlan, ImportReport, LinkKind, MAX_LIST_DEPTH, MAX_TASK_DEPTH, PlannedHome, position,
};

use crate::database::{Tx, query};
use crate::lists::{self, Lists};
use crate::tasks::columns::{SELECT, StoredTask, TaskRow};
use crate::tasks::{Actor, batch, check_user, links, sql};
use crate::{Error, Result, TaskService};

/// Where an import goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportInto {
    /// A restore: into an account that owns nothing yet but an empty
    /// Inbox, which takes the document's Inbox.
    EmptyAccount,
    /// Beside what the user has: the document's lists are added (it may
    /// hold no Inbox and no task in one).
    NewLists,
}

impl TaskService {
    /// Everything `user` owns: their lists (shared ones too, with the
    /// tasks members made in them), tasks, links and comments.
    pub async fn export(&self, user: &str) -> Result<Export> {
        // Every user has an Inbox, as far as any surface can tell.
        self.inbox(&Actor::new(user, taskflow_events::Source::Api))
            .await?;
        let mut conn = self.db.read().await?;
        let lists: Vec<ExportList> = Lists::load(&mut conn, user)
            .await?
            .0
            .into_iter()
            .filter(|l| l.user_id == user)
            .map(|l| ExportList {
                id: l.id,
                title: l.title,
                description: l.description,
                color: l.color,
                parent_id: l.parent_id,
                inbox: l.is_inbox,
                archived_at: l.archived_at,
            })
            .collect();
        let lists = parents_first(lists, |l| (l.id, l.parent_id));
        let rows: Vec<TaskRow> = query(&format!(
            "SELECT {} FROM tasks t WHERE t.user_id = $1 ORDER BY t.list_id, t.position, t.id",
            *SELECT
        ))
        .bind(user)
        .fetch_all(&mut conn)
        .await?;
        let stored = rows
            .into_iter()
            .map(StoredTask::try_from)
            .collect::<Result<Vec<_>>>()?;
        // Each read is its own snapshot: a task made in (or moved to) a
        // list made after the lists were read, or under such a task, is
        // left out, so the document always reads back.
        let tasks: Vec<ExportTask> = stored.iter().map(exported).collect();
        let mut tasks = parents_first(tasks, |t| (t.id, t.parent_id));
        let listed: HashSet<i64> = lists.iter().map(|l| l.id).collect();
        let mut held = HashSet::new();
        tasks.retain(|t| {
            let kept = t.list_id.is_some_and(|l| listed.contains(&l))
                && t.parent_id.is_none_or(|p| held.contains(&p));
            if kept {
                held.insert(t.id);
            }
            kept
        });
        let links: Vec<(i64, String, i64)> = query(
            "SELECT task_id, kind, other_id FROM task_links WHERE user_id = $1 \
             ORDER BY task_id, kind, other_id",
        )
        .bind(user)
        .fetch_all(&mut conn)
        .await?;
        let comments: Vec<(i64, String, String, DateTime<Utc>)> = query(
            "SELECT c.task_id, c.author, c.body, c.created_at FROM comments c \
             JOIN tasks t ON t.id = c.task_id WHERE t.user_id = $1 ORDER BY c.id",
        )
        .bind(user)
        .fetch_all(&mut conn)
        .await?;
        // Each read is its own snapshot: leave out what a change between
        // them made (a comment on a task made after the tasks were read).
        Ok(Export {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            exported_at: Some(self.clock.now()),
            user: Some(user.to_owned()),
            lists,
            links: links
                .into_iter()
                .filter(|(from, _, to)| held.contains(from) && held.contains(to))
                .map(|(task_id, kind, other_id)| ExportLink {
                    task_id,
                    kind,
                    other_id,
                })
                .collect(),
            comments: comments
                .into_iter()
                .filter(|(task, ..)| held.contains(task))
                .map(|(task_id, author, body, created_at)| ExportComment {
                    task_id,
                    author: Some(author),
                    body,
                    created_at: Some(created_at),
                })
                .collect(),
            tasks,
        })
    }

    /// Writes `doc` into the user's account (see [`ImportInto`]) in one
    /// transaction, or, with `dry_run`, rehearses it and writes nothing.
    /// A document at fault is refused whole, naming every bad entry.
    pub async fn import(
        &self,
        actor: &Actor,
        doc: &Export,
        into: ImportInto,
        dry_run: bool,
    ) -> Result<ImportReport> {
        check_user(&actor.user)?;
        let plan = doc.plan().map_err(Error::ImportInvalid)?;
        let now = self.clock.now();
        let mut tx = self.db.begin_for(&actor.user).await?;
        let inbox = lists::ensure_inbox(&mut tx, &actor.user, now).await?;
        match into {
            ImportInto::EmptyAccount => check_empty(&mut tx, &actor.user).await?,
            ImportInto::NewLists => check_no_inbox(&plan)?,
        }
        let mut report = write(&mut tx, actor, &plan, inbox, now).await?;
        report.dry_run = dry_run;
        if !dry_run {
            tx.commit().await?;
        }
        Ok(report)
    }
}

/// `items` with every parent before what is in it, each level in the
/// order given; `link` is an item's (id, parent id). A chain longer than
/// anything nests (a corrupt loop) stops counting rather than spin.
fn parents_first<T>(items: Vec<T>, link: impl Fn(&T) -> (i64, Option<i64>)) -> Vec<T> {
    let parent: HashMap<i64, Option<i64>> = items.iter().map(&link).collect();
    let depth = |mut id: i64| {
        let mut depth = 0;
        while let Some(Some(up)) = parent.get(&id) {
            depth += 1;
            id = *up;
            if depth > MAX_LIST_DEPTH.max(MAX_TASK_DEPTH) {
                break;
            }
        }
        depth
    };
    let mut items: Vec<(usize, T)> = items.into_iter().map(|t| (depth(link(&t).0), t)).collect();
    items.sort_by_key(|(depth, _)| *depth);
    items.into_iter().map(|(_, item)| item).collect()
}

/// A stored task as a document holds it.
fn exported(t: &StoredTask) -> ExportTask {
    let mut task = ExportTask::of(&t.task(), t.parent_id);
    task.series_start = t
        .anchor
        .filter(|anchor| t.fields.recurrence.is_some() && Some(*anchor) != t.fields.due)
        .map(|anchor| anchor.local_text());
    task
}

/// Task `id` as stored now.
async fn current(tx: &mut Tx, user: &str, id: i64) -> Result<StoredTask> {
    sql::find(tx, user, id).await?.ok_or(Error::NotFound)
}

/// Refuses an import into an account that owns anything but an empty Inbox.
async fn check_empty(tx: &mut Tx, user: &str) -> Result<()> {
    let owned: i64 = query(
        "SELECT (SELECT COUNT(*) FROM tasks WHERE user_id = $1) \
         + (SELECT COUNT(*) FROM lists WHERE user_id = $1 AND is_inbox = $2)",
    )
    .bind(user)
    .bind(false)
    .scalar(tx)
    .await?;
    if owned > 0 {
        return Err(Error::refused(
            "account_not_empty",
            "user",
            "an export is restored into an account that has no lists or tasks yet; \
             delete them first, or import a Todoist CSV, which adds a new list",
        ));
    }
    Ok(())
}

/// Refuses a document that would write into the user's Inbox.
fn check_no_inbox(plan: &ImportPlan) -> Result<()> {
    let in_inbox = plan.tasks.iter().any(|t| t.home == PlannedHome::Inbox);
    if plan.inbox.is_some() || in_inbox {
        return Err(taskflow_core::Invalid::new(
            "lists",
            "this import adds new lists; it cannot write into the Inbox",
        )
        .into());
    }
    Ok(())
}

/// Writes a checked document: lists, then tasks (parents first), links and
/// comments, each with its event.
async fn write(
    tx: &mut Tx,
    by: &Actor,
    plan: &ImportPlan,
    inbox: i64,
    now: DateTime<Utc>,
) -> Result<ImportReport> {
    let user = by.user.as_str();
    let mut report = ImportReport::default();
    if let Some(planned) = &plan.inbox {
        lists::set_inbox_fields(tx, by, &planned.fields, now).await?;
        report.list_ids.insert(planned.id, inbox);
    }
    let existing = Lists::load(&mut *tx, user).await?;
    let mut last: HashMap<Option<i64>, String> = HashMap::new();
    let mut list_ids = Vec::with_capacity(plan.lists.len());
    for list in &plan.lists {
        let parent_id = list.parent.map(|p| match p {
            PlannedHome::Inbox => inbox,
            PlannedHome::List(i) => list_ids[i],
        });
        let low = last
            .get(&parent_id)
            .map(String::as_str)
            .or_else(|| existing.last_position(parent_id, None));
        let position = position::between(low, None);
        last.insert(parent_id, position.clone());
        let new = lists::New {
            fields: &list.fields,
            parent_id,
            position,
            archived_at: list.archived_at,
        };
        let made = lists::insert(tx, user, by, new, now).await?;
        list_ids.push(made.id);
        report.list_ids.insert(list.id, made.id);
    }
    let ids = batch::new_ids(tx, plan.tasks.len()).await?;
    let mut tasks: Vec<StoredTask> = Vec::with_capacity(plan.tasks.len());
    for (planned, id) in plan.tasks.iter().zip(ids) {
        let list = match planned.home {
            PlannedHome::Inbox => inbox,
            PlannedHome::List(i) => list_ids[i],
        };
        let mut task = StoredTask::new(user, list, planned.fields.clone(), now);
        task.with_id(id);
        task.created_at = planned.created_at.unwrap_or(now);
        task.completed_at = planned.completed_at;
        if planned.series_start.is_some() {
            task.anchor = planned.series_start;
        }
        if let Some(parent) = planned.parent {
            task.parent_id = Some(tasks[parent].id);
            task.relations.parent_title = Some(tasks[parent].fields.title.as_str().to_owned());
        }
        report.task_ids.insert(planned.id, task.id);
        tasks.push(task);
    }
    batch::insert_new(tx, by, &mut tasks).await?;
    for link in &plan.links {
        let kind = match link.blocks {
            true => LinkKind::Blocks,
            false => LinkKind::Relates,
        };
        let other = tasks[link.to].id;
        let from = current(tx, user, tasks[link.from].id).await?;
        links::write(tx, by, &from, (kind, other), true, now).await?;
    }
    for comment in &plan.comments {
        // As it is now, its subtasks and links made (the event shows it).
        let task = current(tx, user, tasks[comment.task].id).await?;
        let at = comment.created_at.unwrap_or(now);
        crate::comments::insert(tx, by, &task, &comment.body, at, now).await?;
    }
    let mut homes: Vec<i64> = list_ids.clone();
    homes.extend(
        plan.tasks
            .iter()
            .any(|t| t.home == PlannedHome::Inbox)
            .then_some(inbox),
    );
    if !homes.is_empty() {
        sql::mark_past_as_told(tx, user, &homes, now).await?;
    }
    report.lists = plan.lists.len();
    report.tasks = plan.tasks.len();
    report.links = plan.links.len();
    report.comments = plan.comments.len();
    Ok(report)
}

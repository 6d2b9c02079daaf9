//! Listing tasks: filters, search, sorts and keyset pages.

use chrono::{DateTime, Utc};
use taskflow_core::{ListQuery, ListRef, SortKey, StatusFilter, Task, TaskFilter, TaskPage};

use crate::database::Query;
use crate::lists::Lists;
use crate::tasks::check_user;
use crate::tasks::columns::{SELECT, TaskRow};
use crate::tasks::cursor::{Cursor, SortValue, undated};
use crate::{Database, Result, TaskService};

impl TaskService {
    /// A page of the user's tasks.
    pub async fn list(&self, user: &str, query: &ListQuery) -> Result<TaskPage> {
        check_user(user)?;
        let filter = query.parse()?;
        let now = self.clock.now();
        let (rows, next) = list(&self.db, user, &filter, now).await?;
        Ok(TaskPage {
            tasks: rows,
            next_cursor: next.map(|c| c.encode(&filter)),
        })
    }
}

/// Whether the listing runs from high to low: each sort has a natural
/// direction (priority high first, the others low first) and `-` reverses
/// it. The id breaks ties in the same direction, so (key, id) is a total
/// order for the cursor.
fn descending(filter: &TaskFilter) -> bool {
    (filter.sort == SortKey::Priority) != filter.reverse
}

/// The user's archived lists and the lists inside them (`hidden`), which a
/// listing of every task leaves out; nothing when lists were asked for.
fn push_hidden<'a>(q: &mut Query<'a>, user: &'a str, shown: Option<&[i64]>) {
    if shown.is_none() {
        q.push("WITH RECURSIVE hidden (id) AS (SELECT id FROM lists WHERE user_id = ")
            .push_bind(user)
            .push(
                " AND archived_at IS NOT NULL \
                   UNION ALL SELECT l.id FROM lists l JOIN hidden h ON l.parent_id = h.id) ",
            );
    }
}

/// Which tasks a branch of a listing reads.
#[derive(Debug, Clone, Copy)]
enum Branch {
    /// The user's own.
    Own,
    /// Those of lists shared with the user.
    Shared,
}

/// A row of the own branch on SQLite, saying whether the user has any
/// shared list.
#[derive(Debug, sqlx::FromRow)]
struct OwnRow {
    #[sqlx(flatten)]
    task: TaskRow,
    has_shared: bool,
}

/// One branch of a listing: its tasks that pass the filter, after the
/// cursor, in the sort's order, one more than a page (with `flag`, each
/// row also says whether any list is shared with the user).
#[allow(clippy::too_many_arguments)]
fn push_branch<'a>(
    q: &mut Query<'a>,
    branch: Branch,
    user: &'a str,
    shown: Option<&'a [i64]>,
    filter: &'a TaskFilter,
    cursor: Option<&'a Cursor>,
    now: DateTime<Utc>,
    flag: bool,
) {
    q.push(&format!("SELECT {}", *SELECT));
    if flag {
        q.push(", EXISTS (SELECT 1 FROM list_access s WHERE s.user_id = ")
            .push_bind(user)
            .push(") AS has_shared");
    }
    q.push(" FROM tasks t WHERE ");
    match branch {
        Branch::Own => {
            q.push("t.user_id = ").push_bind(user);
        }
        Branch::Shared => {
            // The statement starts from the user's shared lists (none, for
            // most), never from the tasks of the lists asked for.
            q.push("t.list_id IN (SELECT a.list_id FROM list_access a WHERE a.user_id = ")
                .push_bind(user);
            match shown {
                Some(lists) => {
                    q.push(" AND a.list_id IN (");
                    q.push_binds(lists.iter().copied());
                    q.push(")");
                }
                // Shared lists archived (or in an archived list) stay out of
                // default listings, like the user's own.
                None => {
                    q.push(" AND a.archived = ").push_bind(false);
                }
            }
            q.push(")");
        }
    }
    match (shown, branch) {
        (Some(lists), Branch::Own) => {
            q.push(" AND t.list_id IN (");
            q.push_binds(lists.iter().copied());
            q.push(")");
        }
        (None, Branch::Own) => {
            q.push(" AND (NOT EXISTS (SELECT 1 FROM lists a WHERE a.user_id = ")
                .push_bind(user)
                .push(
                    " AND a.archived_at IS NOT NULL) \
                     OR t.list_id NOT IN (SELECT id FROM hidden))",
                );
        }
        (_, Branch::Shared) => {}
    }
    if let Some(parent) = filter.parent_id {
        q.push(" AND t.parent_id = ").push_bind(parent);
    }
    if let Some(assignee) = &filter.assignee {
        let assignee = if assignee == "me" {
            user
        } else {
            assignee.as_str()
        };
        q.push(
            " AND EXISTS (SELECT 1 FROM task_assignees w WHERE w.task_id = t.id AND w.user_id = ",
        )
        .push_bind(assignee)
        .push(")");
    }
    match filter.has_parent {
        Some(true) => {
            q.push(" AND t.parent_id IS NOT NULL");
        }
        Some(false) => {
            q.push(" AND t.parent_id IS NULL");
        }
        None => {}
    }
    if filter.ready {
        q.push(" AND t.completed = ").push_bind(false);
        q.push(
            " AND (NOT t.had_links OR NOT EXISTS (\
               SELECT 1 FROM task_links k JOIN tasks b ON b.id = k.task_id \
               WHERE k.other_id = t.id AND k.kind = 'blocks' AND b.completed = FALSE))",
        );
    }
    if let Some(text) = &filter.q {
        // Every word must appear, in any order, in the title or description.
        for word in text.split_whitespace().take(16) {
            q.push(" AND t.search LIKE ")
                .push_bind(like_pattern(word))
                .push(" ESCAPE '\\'");
        }
    }
    match filter.status {
        StatusFilter::All => {}
        StatusFilter::Open => {
            q.push(" AND t.completed = ").push_bind(false);
        }
        StatusFilter::Completed => {
            q.push(" AND t.completed = ").push_bind(true);
        }
    }
    if let Some(priority) = filter.priority {
        q.push(" AND t.priority = ").push_bind(priority.as_str());
    }
    if let Some(tag) = &filter.tag {
        q.push(" AND EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = t.id AND g.tag = ")
            .push_bind(tag.as_str())
            .push(")");
    }
    if let Some(before) = filter.due_before {
        q.push(" AND t.due_at < ").push_bind(before);
    }
    if let Some(after) = filter.due_after {
        q.push(" AND t.due_at >= ").push_bind(after);
    }
    if filter.overdue {
        q.push(" AND t.completed = ").push_bind(false);
        q.push(" AND t.deadline_at < ").push_bind(now);
    }
    let key = match filter.sort {
        SortKey::Due => "COALESCE(t.due_at, ",
        SortKey::Created => "t.created_at",
        SortKey::Priority => "t.priority_rank",
        SortKey::Title => "t.title_key",
        SortKey::Position => "t.position",
    };
    let desc = descending(filter);
    let push_key = |q: &mut Query<'_>| {
        q.push(key);
        if filter.sort == SortKey::Due {
            q.push_bind(undated()).push(")");
        }
    };
    if let Some(cursor) = cursor {
        let op = if desc { " < " } else { " > " };
        for (i, cmp) in [op, " = "].into_iter().enumerate() {
            q.push(if i == 0 { " AND ((" } else { ") OR (" });
            push_key(q);
            q.push(cmp);
            match &cursor.value {
                SortValue::Time(t) => q.push_bind(*t),
                SortValue::Int(n) => q.push_bind(i32::try_from(*n).unwrap_or_default()),
                SortValue::Text(s) => q.push_bind(s.as_str()),
            };
        }
        q.push(" AND t.id").push(op).push_bind(cursor.id).push("))");
    }
    q.push(" ORDER BY ");
    push_key(q);
    let dir = if desc { " DESC" } else { " ASC" };
    q.push(dir).push(", t.id").push(dir);
    q.push(" LIMIT ").push_bind(i64::from(filter.limit) + 1);
}

/// Escapes LIKE wildcards so search text is matched literally.
fn like_pattern(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A page of the user's tasks and the cursor of the next one.
async fn list(
    db: &Database,
    user: &str,
    filter: &TaskFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<Task>, Option<Cursor>)> {
    let cursor = Cursor::decode(filter)?;
    let mut conn = db.read().await?;
    // A list asked for is shown whole, archived or not: alone, with no
    // look-up first (only an empty page asks whether it is the user's, see
    // below), or with its subtree, read from the lists. Otherwise tasks of
    // archived lists (and of lists inside them) stay out of sight, found in
    // the statement: no round trip for the lists, and the tree is walked
    // only if the user has an archived list (the first test, evaluated
    // once; SQLite builds the walk's temporary tables only when needed).
    let shown = match filter.list_id {
        Some(id) if filter.include_sublists => {
            let lists = Lists::load(&mut conn, user).await?;
            let list = lists.find(&ListRef::Id(id), "list_id")?;
            Some(lists.subtree(list.id))
        }
        Some(id) => Some(vec![id]),
        None => None,
    };
    if let Some(parent) = filter.parent_id {
        // A task the user does not reach is not found, like a missing one.
        crate::tasks::sql::find(&mut conn, user, parent)
            .await?
            .ok_or(crate::Error::NotFound)?;
    }
    // The user's own tasks are one branch, read in the sort's index order
    // as before sharing; the tasks of lists shared with them another. Each
    // is ordered and limited, and they are merged here. On PostgreSQL both
    // go in one statement (one round trip). On SQLite, in the process, the
    // own branch says (one constant subquery) whether any list is shared
    // with the user, and only then does the shared branch run: a statement
    // costs sqlx a hand-off to the connection's thread and back.
    let shown = shown.as_deref();
    let cursor = cursor.as_ref();
    let mut rows: Vec<TaskRow> = match db.kind() {
        crate::DatabaseKind::Postgres => {
            let mut q = Query::build("");
            push_hidden(&mut q, user, shown);
            q.push("SELECT * FROM (");
            push_branch(&mut q, Branch::Own, user, shown, filter, cursor, now, false);
            q.push(") AS own UNION ALL SELECT * FROM (");
            push_branch(
                &mut q,
                Branch::Shared,
                user,
                shown,
                filter,
                cursor,
                now,
                false,
            );
            q.push(") AS shared");
            q.fetch_all(&mut conn).await?
        }
        crate::DatabaseKind::Sqlite => {
            let mut own = Query::build("");
            push_hidden(&mut own, user, shown);
            push_branch(
                &mut own,
                Branch::Own,
                user,
                shown,
                filter,
                cursor,
                now,
                true,
            );
            let own: Vec<OwnRow> = own.fetch_all(&mut conn).await?;
            let shared_too = own.first().is_none_or(|row| row.has_shared);
            let mut rows: Vec<TaskRow> = own.into_iter().map(|row| row.task).collect();
            if shared_too {
                let mut shared = Query::build("");
                push_branch(
                    &mut shared,
                    Branch::Shared,
                    user,
                    shown,
                    filter,
                    cursor,
                    now,
                    false,
                );
                rows.extend(shared.fetch_all::<TaskRow>(&mut conn).await?);
            }
            rows
        }
    };
    let desc = descending(filter);
    let order = |a: &TaskRow, b: &TaskRow| {
        let order = a.order(b, filter.sort);
        if desc { order.reverse() } else { order }
    };
    // Rows of one branch alone (nearly always) are in order already.
    if !rows.is_sorted_by(|a, b| order(a, b).is_le()) {
        rows.sort_by(order);
    }
    rows.truncate(filter.limit as usize + 1);
    if let (Some(id), true) = (filter.list_id, rows.is_empty()) {
        // A page with a row of the user's in the list shows the list is
        // theirs; an empty one may be of a list that is not.
        if !crate::lists::exists(&mut conn, user, id).await? {
            return Err(crate::Error::NoSuchList { field: "list_id" });
        }
    }
    let next = if rows.len() > filter.limit as usize {
        rows.truncate(filter.limit as usize);
        rows.last().map(|last| last.cursor(filter.sort))
    } else {
        None
    };
    // Rows were valid when written: show them without parsing them again.
    let tasks = rows
        .into_iter()
        .map(TaskRow::into_task)
        .collect::<Result<Vec<_>>>()?;
    Ok((tasks, next))
}

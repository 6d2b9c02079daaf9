//! Group commit of plain creates (no recurrence, no idempotency key): the
//! batcher commits every create queued meanwhile in one transaction and one
//! round trip. A create touches a dozen B-tree pages (table, indexes, event,
//! tags); committing many together writes each page to the log once per
//! batch instead of once per create, and pays the round trip, the commit and
//! its flush once per batch (docs/decisions).
//!
//! Ids are drawn before the batch is written, so every event body is built
//! from the typed event with its task's id, like any other event's.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqlitePool;
use sqlx::{Arguments, PgPool};
use taskflow_core::Task;
use taskflow_events::{Source, TaskEventType};
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use crate::database::{Conn, Engine, Executor, Param, Tx, add_pg_array, query};
use crate::lists::ensure_inboxes;
use crate::outbox::{EVENT_COLUMNS, NewEvent, event_columns};
use crate::tasks::Actor;
use crate::tasks::columns::{self, COLUMNS, StoredTask};
use crate::tasks::sql::check_owners;
use crate::{Database, Error, Result};

/// How many creates one batch commits at most.
pub(crate) const MAX_BATCH: usize = 64;

/// Where a batched create goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Its user's Inbox, found (or made) in the batch's transaction: a new
    /// user's first create is one write, not two.
    NewInbox,
    /// Its user's Inbox, known already (an Inbox never changes owner).
    Inbox,
    /// The list it names, whose owner was read before the batch and is
    /// checked in it (see [`check_owners`]).
    List,
}

/// A plain create waiting for the batcher.
#[derive(Debug)]
pub(crate) struct Job {
    task: StoredTask,
    into: Place,
    by: Actor,
    /// The creating request's trace, captured here: the batcher runs on a
    /// task of its own.
    traceparent: Option<String>,
    reply: oneshot::Sender<Result<Task>>,
}

/// Creates `task` in the next batch, `into` its list; returns it as
/// shown.
pub(crate) async fn create(
    db: &Database,
    by: &Actor,
    mut task: StoredTask,
    into: Place,
) -> Result<Task> {
    task.made_by(&by.user);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        task,
        into,
        by: by.clone(),
        traceparent: taskflow_events::trace::current_traceparent(),
        reply,
    };
    db.queue_create(job).await?;
    answer
        .await
        .map_err(|_| Error::Unavailable(sqlx::Error::PoolClosed))?
}

/// Commits queued creates in batches until every sender is gone: one lane
/// on SQLite's single writer, two on PostgreSQL (while one waits for its
/// commit's flush, the next is written); each lane takes what has queued
/// while the others commit. Wakes the relay after each commit.
pub(crate) async fn run(engine: Engine, queue: mpsc::Receiver<Job>, committed: Arc<Notify>) {
    let lanes = match engine {
        Engine::Sqlite(_) => 1,
        Engine::Postgres(_) => 2,
    };
    let queue = Mutex::new(queue);
    let lane = || async {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            if answer(&engine, std::mem::take(&mut jobs)).await {
                committed.notify_one();
            }
            if let Engine::Sqlite(pools) = &engine {
                pools.log_grew();
            }
        }
    };
    futures::future::join_all((0..lanes).map(|_| lane())).await;
}

/// Commits one batch and answers each of its creates; true if any
/// committed.
async fn answer(engine: &Engine, batch: Vec<Job>) -> bool {
    let started = std::time::Instant::now();
    let committed = commit(engine, &batch).await;
    metrics::histogram!("taskflow_create_batch_size").record(batch.len() as f64);
    metrics::histogram!("taskflow_create_batch_seconds").record(started.elapsed().as_secs_f64());
    match committed {
        Ok(tasks) => {
            for (job, task) in batch.into_iter().zip(tasks) {
                let _ = job.reply.send(Ok(task));
            }
            true
        }
        // One bad create must not fail its neighbours: retry each alone.
        Err(_) if batch.len() > 1 => {
            let mut any = false;
            for job in batch {
                let result = commit(engine, std::slice::from_ref(&job))
                    .await
                    .and_then(|tasks| {
                        tasks
                            .into_iter()
                            .next()
                            .ok_or_else(|| Error::Internal("a batch of one created none".into()))
                    });
                any |= result.is_ok();
                let _ = job.reply.send(result);
            }
            any
        }
        Err(err) => {
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(err));
            }
            false
        }
    }
}

/// One create of a batch, with its id drawn: the task and its event.
struct Row<'a> {
    task: StoredTask,
    derived: columns::Derived,
    event: NewEvent<'a>,
    shown: Task,
}

/// Before the batch's statement, on `on`: marks the parents of its
/// subtasks and reads (or makes) the Inboxes its creates go to.
async fn prepare(on: &mut impl Executor, batch: &[Job]) -> Result<HashMap<String, i64>> {
    let mut parents: Vec<i64> = batch.iter().filter_map(|job| job.task.parent_id).collect();
    parents.sort_unstable();
    parents.dedup();
    crate::tasks::sql::mark_parents(&mut *on, &parents).await?;
    inboxes(on, batch).await
}

/// The Inboxes the creates of `batch` go to, read or made on `on`.
async fn inboxes(on: &mut impl Executor, batch: &[Job]) -> Result<HashMap<String, i64>> {
    let mut users: Vec<&str> = batch
        .iter()
        .filter(|job| job.into == Place::NewInbox)
        .map(|job| job.task.user_id.as_str())
        .collect();
    users.sort_unstable();
    users.dedup();
    let now = batch
        .first()
        .map_or_else(chrono::Utc::now, |job| job.task.created_at);
    ensure_inboxes(on, &users, now).await
}

/// The rows of `batch`, given the ids drawn for it and its Inboxes.
fn rows<'a>(batch: &'a [Job], ids: &[i64], inboxes: &HashMap<String, i64>) -> Result<Vec<Row<'a>>> {
    if ids.len() != batch.len() {
        return Err(Error::Internal("a batch drew too few ids".into()));
    }
    batch
        .iter()
        .zip(ids)
        .map(|(job, &id)| {
            let mut task = job.task.clone();
            if job.into == Place::NewInbox {
                task.list_id = *inboxes.get(&task.user_id).ok_or_else(|| {
                    Error::Internal(format!("the Inbox of {} was not made", task.user_id))
                })?;
            }
            task.with_id(id);
            let mut row = Row::new(task, &job.task.user_id, &job.by)?;
            row.event.traceparent.clone_from(&job.traceparent);
            Ok(row)
        })
        .collect()
}

impl<'a> Row<'a> {
    /// The row of `task` (its id given) of `user`, made `by` someone.
    fn new(task: StoredTask, user: &'a str, by: &'a Actor) -> Result<Self> {
        let shown = task.task();
        let event = NewEvent::change(
            user,
            by,
            TaskEventType::Created,
            None,
            Some(&shown),
            task.updated_at,
        )?;
        Ok(Row {
            derived: task.derived()?,
            task,
            event,
            shown,
        })
    }
}

/// Ids for `n` new tasks, in order, drawn in `tx`: on SQLite, those after
/// the table's sequence (the transaction holds the one writer; insert them
/// before drawing again).
pub(crate) async fn new_ids(tx: &mut Tx, n: usize) -> Result<Vec<i64>> {
    match tx.conn() {
        Conn::Sqlite(conn) => {
            let last: i64 = sqlx::query_scalar(sqlite_last_id!())
                .fetch_one(&mut *conn)
                .await?;
            Ok(ids_after(last, n))
        }
        Conn::Postgres(conn) => postgres_ids(conn, n).await,
    }
}

/// SQLite's last task id (its table's sequence); a macro so the batcher
/// can send it in one text with `BEGIN IMMEDIATE`.
macro_rules! sqlite_last_id {
    () => {
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0)"
    };
}
use sqlite_last_id;

/// The `n` ids after `last`.
fn ids_after(last: i64, n: usize) -> Vec<i64> {
    (1..).map(|k| last + k).take(n).collect()
}

/// `n` ids drawn from PostgreSQL's identity sequence, in order.
async fn postgres_ids(conn: &mut sqlx::PgConnection, n: usize) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) FROM generate_series(1, $1)",
    )
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await?;
    ids.sort_unstable();
    Ok(ids)
}

/// Inserts new tasks of one user in `tx` with the batch's statements:
/// each (its id from [`new_ids`], parents before their subtasks, no
/// assignees) with its `created` event, at its `updated_at`, and its tags.
/// A thousand tasks take a handful of statements, where one by one they
/// would take several thousand (an import).
pub(crate) async fn insert_new(tx: &mut Tx, by: &Actor, tasks: &mut [StoredTask]) -> Result<()> {
    for task in tasks.iter_mut() {
        task.made_by(&by.user);
        if task.fields.recurrence.is_some() && task.series_id.is_none() {
            task.series_id = Some(task.id);
        }
    }
    let rows = tasks
        .iter()
        .map(|task| Row::new(task.clone(), &task.user_id, by))
        .collect::<Result<Vec<_>>>()?;
    // The events queued so far (the lists these tasks go in) come first.
    tx.write_events().await?;
    for chunk in rows.chunks(MAX_BATCH) {
        match tx.conn() {
            Conn::Sqlite(_) => {
                query(sqlite_batch(chunk.len(), false)?)
                    .bind_all(sqlite_params(chunk)?)
                    .execute(&mut *tx)
                    .await?;
            }
            Conn::Postgres(conn) => {
                let written: i64 =
                    sqlx::query_scalar_with(POSTGRES_BATCH.as_str(), postgres_args(chunk)?)
                        .fetch_one(&mut *conn)
                        .await?;
                if written != i64::try_from(chunk.len()).unwrap_or(i64::MAX) {
                    return Err(crate::lists::owner_moving());
                }
            }
        }
    }
    tx.appended_events();
    let mut parents: Vec<i64> = tasks.iter().filter_map(|t| t.parent_id).collect();
    parents.sort_unstable();
    parents.dedup();
    crate::tasks::sql::mark_parents(&mut *tx, &parents).await
}

async fn commit(engine: &Engine, batch: &[Job]) -> Result<Vec<Task>> {
    match engine {
        Engine::Sqlite(pools) => commit_sqlite(&pools.write, batch).await,
        Engine::Postgres(pools) => commit_postgres(&pools.pool, batch).await,
    }
}

/// The position of column `name` among [`COLUMNS`] (0-based).
fn column(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.name == name).unwrap_or(0)
}

/// Bind parameters per create in SQLite's batch statement: the id, every
/// column, the event's.
const SQLITE_PARAMS: usize = 1 + COLUMNS.len() + EVENT_COLUMNS.len();

/// SQLite's statements for a batch of `n`: for each create, the task (its
/// id given), its event and its tags, then `COMMIT` if `commit`. sqlx binds
/// `$N` by number across the statements. One text per batch size, built
/// once.
fn sqlite_batch(n: usize, commit: bool) -> Result<&'static str> {
    static TEXTS: LazyLock<Vec<OnceLock<String>>> =
        LazyLock::new(|| (0..=MAX_BATCH).map(|_| OnceLock::new()).collect());
    let build = || {
        let names: Vec<_> = columns::names().collect();
        let mut sql = String::new();
        for i in 0..n {
            let p = |k: usize| format!("${}", i * SQLITE_PARAMS + k);
            let task: Vec<_> = (1..=1 + names.len()).map(p).collect();
            let event: Vec<_> = (2 + names.len()..=SQLITE_PARAMS).map(p).collect();
            sql.push_str(&format!(
                "INSERT INTO tasks (id, {}) VALUES ({}); \
                 INSERT INTO task_events ({}) VALUES ({}); \
                 INSERT INTO task_tags (task_id, user_id, tag) \
                   SELECT {}, {}, value FROM json_each({}); ",
                names.join(", "),
                task.join(", "),
                event_columns(),
                event.join(", "),
                p(1),
                p(2 + column("user_id")),
                p(2 + column("tags")),
            ));
        }
        sql.push_str("COMMIT;");
        sql
    };
    let text = TEXTS
        .get(n)
        .map(|text| text.get_or_init(build).as_str())
        .ok_or_else(|| Error::Internal(format!("a batch of {n} is over {MAX_BATCH}")))?;
    Ok(match commit {
        true => text,
        false => text.trim_end_matches("COMMIT;"),
    })
}

/// The values of SQLite's batch statement for `rows`.
fn sqlite_params<'r>(rows: &'r [Row<'_>]) -> Result<Vec<Param<'r>>> {
    let mut params = Vec::with_capacity(rows.len() * SQLITE_PARAMS);
    for row in rows {
        params.push(Param::from(row.task.id));
        params.extend(columns::values(&row.task, &row.derived));
        params.extend(row.event.params()?);
    }
    Ok(params)
}

/// SQLite: ids follow the table's sequence (the one writer holds the
/// transaction), then one statement writes the batch and commits.
async fn commit_sqlite(write: &SqlitePool, batch: &[Job]) -> Result<Vec<Task>> {
    let mut conn = write.acquire().await?;
    let written = async {
        let last: i64 = sqlx::query_scalar(concat!("BEGIN IMMEDIATE; ", sqlite_last_id!()))
            .fetch_one(&mut *conn)
            .await?;
        let ids = ids_after(last, batch.len());
        let inboxes = prepare(&mut conn, batch).await?;
        let named = batch.iter().filter(|job| job.into == Place::List);
        check_owners(
            &mut conn,
            named.map(|job| (job.task.list_id, job.task.user_id.as_str())),
        )
        .await?;
        let rows = rows(batch, &ids, &inboxes)?;
        query(sqlite_batch(batch.len(), true)?)
            .bind_all(sqlite_params(&rows)?)
            .execute(&mut conn)
            .await?;
        Ok(rows.into_iter().map(|row| row.shown).collect())
    }
    .await;
    if written.is_err() {
        // A statement failed inside the transaction: undo it before the
        // connection goes back to the pool (harmless if none began).
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    written
}

/// PostgreSQL's statement for a batch of any size, autocommitted: each
/// column is an array parameter with an element per create (`$1` the ids,
/// then every task column, then the event's), read with `unnest`. Events take
/// their sequence numbers in the batch's order. The lists the creates name
/// (but Inboxes, which keep their owner) are locked `FOR SHARE` and must
/// still have the owner each create read, or the statement writes nothing
/// (see [`check_owners`]): a transfer either waits for the batch and takes
/// its tasks, or went first and this sees it.
pub(crate) static POSTGRES_BATCH: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<_> = columns::names().collect();
    let events: Vec<_> = EVENT_COLUMNS.iter().map(|(name, _)| *name).collect();
    let types = std::iter::once("int8")
        .chain(COLUMNS.iter().map(|c| c.pg_type))
        .chain(EVENT_COLUMNS.iter().map(|(_, ty)| *ty));
    let arrays: Vec<_> = types
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect();
    let event_aliases: Vec<_> = events.iter().map(|e| format!("e_{e}")).collect();
    // The event's task is the row's (for a batch the same value as the
    // event's own; pgbench's literal draws the id inside the statement).
    let event_values: Vec<_> = events
        .iter()
        .map(|&e| {
            if e == "task_id" {
                "id".to_owned()
            } else {
                format!("e_{e}")
            }
        })
        .collect();
    format!(
        "WITH given AS MATERIALIZED (\
           SELECT * FROM unnest({}) WITH ORDINALITY AS i (id, {}, {}, batch_order)), \
         owner AS (\
           SELECT id, user_id FROM lists WHERE NOT is_inbox \
             AND id IN (SELECT list_id FROM given) ORDER BY id FOR SHARE), \
         input AS MATERIALIZED (\
           SELECT * FROM given WHERE NOT EXISTS (\
             SELECT 1 FROM owner o JOIN given g ON g.list_id = o.id WHERE o.user_id <> g.user_id)), \
         task AS (\
           INSERT INTO tasks (id, {names}) OVERRIDING SYSTEM VALUE SELECT id, {names} FROM input), \
         event AS (\
           INSERT INTO task_events ({events}) SELECT {} FROM input ORDER BY batch_order), \
         tag AS (\
           INSERT INTO task_tags (task_id, user_id, tag) \
           SELECT id, user_id, jsonb_array_elements_text(tags) FROM input) \
         SELECT COUNT(*) FROM input",
        arrays.join(", "),
        names.join(", "),
        event_aliases.join(", "),
        event_values.join(", "),
        names = names.join(", "),
        events = event_columns(),
    )
});

/// PostgreSQL: ids drawn from the identity sequence, then one statement.
async fn commit_postgres(pool: &PgPool, batch: &[Job]) -> Result<Vec<Task>> {
    // Both statements on one connection: one pool round trip per batch.
    let mut conn = pool.acquire().await?;
    let ids = postgres_ids(&mut conn, batch.len()).await?;
    // Autocommitted before the batch: an Inbox made for a create that then
    // fails is still that user's Inbox, and a parent marked for a subtask
    // that then fails only has a hint that looks in vain.
    let inboxes = prepare(&mut conn, batch).await?;
    let rows = rows(batch, &ids, &inboxes)?;
    let args = postgres_args(&rows)?;
    let written: i64 = sqlx::query_scalar_with(POSTGRES_BATCH.as_str(), args)
        .fetch_one(&mut *conn)
        .await?;
    if written == 0 {
        return Err(crate::lists::owner_moving());
    }
    if written != i64::try_from(batch.len()).unwrap_or(i64::MAX) {
        return Err(Error::Internal(
            "a batch wrote fewer creates than it had".into(),
        ));
    }
    Ok(rows.into_iter().map(|row| row.shown).collect())
}

/// The arguments of PostgreSQL's batch statement for `rows`: an array per
/// column.
fn postgres_args(rows: &[Row<'_>]) -> Result<PgArguments> {
    let ids: Vec<i64> = rows.iter().map(|r| r.task.id).collect();
    let mut args = PgArguments::default();
    args.add(ids.as_slice())
        .map_err(|e| Error::Internal(format!("the batch's ids cannot be encoded: {e}")))?;
    for column in COLUMNS {
        add_pg_array(
            &mut args,
            rows.iter()
                .map(|r| (column.value)(&r.task, &r.derived))
                .collect(),
        )?;
    }
    let events = rows
        .iter()
        .map(|r| r.event.params())
        .collect::<Result<Vec<_>>>()?;
    for k in 0..EVENT_COLUMNS.len() {
        add_pg_array(&mut args, events.iter().map(|e| e[k].clone()).collect())?;
    }
    Ok(args)
}

/// PostgreSQL's batch statement for a batch of one, with literal values
/// (each array of one element; the id drawn in the statement): what the
/// benchmark's pgbench limit runs (so no `:name` outside a string).
pub fn postgres_batch_of_one_literal() -> Result<String> {
    let fields = taskflow_core::CreateTask {
        title: "pgbench".into(),
        priority: Some(taskflow_core::Priority::High),
        ..taskflow_core::CreateTask::default()
    }
    .parse()?;
    let mut sample = StoredTask::new("pgbench", 0, fields, chrono::Utc::now());
    sample.position = taskflow_core::position::of_id(1);
    let derived = sample.derived()?;
    let shown = sample.task();
    let by = Actor::new("pgbench", Source::Api);
    let event = NewEvent::change(
        &sample.user_id,
        &by,
        TaskEventType::Created,
        None,
        Some(&shown),
        sample.created_at,
    )?;
    let mut values = vec!["nextval(pg_get_serial_sequence('tasks', 'id'))".to_owned()];
    values.extend(columns::values(&sample, &derived).map(|p| literal(&p)));
    values.extend(event.params()?.iter().map(literal));
    values[1 + COLUMNS.len()] = "gen_random_uuid()".into();
    // The task goes to the Inbox `POSTGRES_BENCH_SETUP` makes.
    values[1 + column("list_id")] = BENCH_INBOX.into();
    let event_list = EVENT_COLUMNS
        .iter()
        .position(|(name, _)| *name == "list_id")
        .ok_or_else(|| Error::Internal("the outbox has no list_id column".into()))?;
    values[1 + COLUMNS.len() + event_list] = BENCH_INBOX.into();
    let mut sql = POSTGRES_BATCH.clone();
    // From the last placeholder down, so `$2` never matches the start of `$29`.
    for (n, value) in values.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}::", n + 1), &format!("ARRAY[{value}]::"));
    }
    Ok(sql)
}

/// The Inbox of pgbench's user, in its statement.
const BENCH_INBOX: &str = "(SELECT id FROM lists WHERE user_id = 'pgbench' AND is_inbox)";

/// What pgbench's database needs before [`postgres_batch_of_one_literal`]
/// runs: its user's Inbox.
pub const POSTGRES_BENCH_SETUP: &str = "INSERT INTO lists \
    (user_id, title, title_key, position, is_inbox, created_at, updated_at) \
    VALUES ('pgbench', 'Inbox', 'inbox', 'V', TRUE, now(), now()) ON CONFLICT DO NOTHING";

/// A parameter as an SQL literal.
fn literal(param: &Param<'_>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let or_null = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    match param {
        Param::Bool(v) => v.to_string(),
        Param::Int(v) => or_null(v.map(|v| v.to_string())),
        Param::BigInt(v) => or_null(v.map(|v| v.to_string())),
        Param::Text(v) => or_null(v.as_deref().map(quote)),
        Param::Time(v) => or_null(v.map(|t| quote(&t.to_rfc3339()))),
        Param::Uuid(v) => quote(&v.to_string()),
        // With a space after each colon: pgbench would read `:false` as
        // a variable.
        Param::Json(v) => or_null(v.as_deref().map(|raw| {
            let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            quote(&pretty.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        })),
    }
}

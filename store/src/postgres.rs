//! The PostgreSQL edition: one pool. Writes that read before they write
//! (updates, completions, next occurrences, idempotent creates) take a
//! transaction-scoped advisory lock per user; plain creates take none. Event
//! order does not depend on it: the relay publishes only settled events
//! (`SETTLED`: written by transactions older than every running one), so no
//! lower sequence can commit after a published one.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Result;

/// The LISTEN/NOTIFY channel that announces new outbox events (notified by
/// the `task_events_notify` trigger of the migration).
pub const OUTBOX_CHANNEL: &str = "taskflow_outbox";

/// Takes the relay lock on a connection of its own, if no other relay holds
/// it. The lock lives as long as the connection: if the holder dies, its
/// connection closes and a standby's next attempt succeeds.
pub async fn try_relay_lock(pools: &Pools) -> Result<Option<sqlx::PgConnection>> {
    let mut conn = pools.write.acquire().await?.detach();
    // One lock per schema, so deployments sharing a database (in separate
    // schemas) each have their own active relay.
    let locked: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtextextended('taskflow-relay:' || current_schema(), 0))",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(locked.then_some(conn))
}

/// Subscribes to outbox announcements from every process.
pub async fn listen(pools: &Pools) -> Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(&pools.write).await?;
    listener.listen(OUTBOX_CHANNEL).await?;
    Ok(listener)
}

/// The pool of one PostgreSQL database (readers and writers share it).
#[derive(Debug, Clone)]
pub struct Pools {
    pub read: PgPool,
    pub write: PgPool,
    /// Plain creates, committed together by `sql::batcher`.
    pub creates: tokio::sync::mpsc::Sender<sql::CreateJob>,
}

/// Connects with at most `max_connections` connections.
pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<Pools> {
    // A slow or locked database answers 503 within seconds instead of
    // holding requests (and their connections) without bound.
    let options = options.options([("lock_timeout", "5s"), ("statement_timeout", "15s")]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    let (creates, queue) = tokio::sync::mpsc::channel(sql::MAX_BATCH * 16);
    tokio::spawn(sql::batcher(pool.clone(), queue, None));
    Ok(Pools {
        read: pool.clone(),
        write: pool,
        creates,
    })
}

pub mod sql {
    use super::Pools;

    type Db = sqlx::Postgres;

    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    /// Only events whose transaction is older than every running one: no
    /// lower sequence can still commit after them (see the migration).
    const SETTLED: &str = "AND xid < pg_snapshot_xmin(pg_current_snapshot())";

    async fn lock_user(tx: &mut sqlx::Transaction<'static, Db>, user: &str) -> crate::Result<()> {
        // Two 32-bit keys (a namespace and the user): a key space of its own,
        // apart from the relay's single 64-bit key.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('taskflow-user'), hashtext($1))")
            .bind(user)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    include!("sql.rs");

    /// Batches in flight at once: while one waits for its commit's flush,
    /// the next is already being written.
    const BATCHES_IN_FLIGHT: usize = 2;

    /// One statement per batch, autocommitted: each column is an array
    /// parameter with an element per create, so the text (and the prepared
    /// statement) is the same for every batch size.
    async fn commit_batch(write: &sqlx::PgPool, batch: &[CreateJob]) -> Result<Vec<i64>> {
        let derived: Vec<_> = batch.iter().map(|job| job.task.derived()).collect();
        // One array parameter: `$e` for each create, with its job, task and
        // derived columns bound to the three patterns.
        macro_rules! column {
            (|$j:pat_param, $t:pat_param, $d:pat_param| $e:expr) => {
                batch
                    .iter()
                    .zip(&derived)
                    .map(|(job, derived)| {
                        let ($j, $t, $d) = (job, &job.task, derived);
                        $e
                    })
                    .collect::<Vec<_>>()
            };
        }
        let ids: Vec<i64> = sqlx::query_scalar(super::CREATE_BATCH)
            .bind(column!(|_, t, _| t.user_id.as_str()))
            .bind(column!(|_, t, _| t.fields.title.as_str()))
            .bind(column!(|_, _, d| d.title_key.as_str()))
            .bind(column!(|_, t, _| t
                .fields
                .description
                .as_ref()
                .map(|x| x.as_str())))
            .bind(column!(|_, _, d| d.search.as_str()))
            .bind(column!(|_, t, _| t.completed_at.is_some()))
            .bind(column!(|_, t, _| t.completed_at))
            .bind(column!(|_, _, d| d.priority.as_str()))
            .bind(column!(|_, _, d| d.priority.rank()))
            .bind(column!(|_, _, d| &d.tags))
            .bind(column!(|_, _, d| d.due_local.as_deref()))
            .bind(column!(|_, _, d| d.timezone.as_deref()))
            .bind(column!(|_, _, d| d.due_at))
            .bind(column!(|_, _, d| d.deadline_at))
            .bind(column!(|_, _, d| d.recurrence.as_deref()))
            .bind(column!(|_, _, d| d.anchor_local.as_deref()))
            .bind(column!(|_, _, d| d.reminder_minutes))
            .bind(column!(|_, _, d| d.reminder_at))
            .bind(column!(|_, _, d| d.remind_at))
            .bind(column!(|_, t, _| t.snoozed_until))
            .bind(column!(|_, t, _| t.series_id))
            .bind(column!(|_, t, _| t.previous_id))
            .bind(column!(|_, t, _| t.version))
            .bind(column!(|_, t, _| t.created_at))
            .bind(column!(|_, t, _| t.updated_at))
            .bind(column!(|j, _, _| j.event_id))
            .bind(column!(|j, _, _| j.source.as_str()))
            .bind(column!(|j, _, _| Json(&j.body)))
            .bind(column!(|j, _, _| j.traceparent.as_deref()))
            .fetch_all(write)
            .await?;
        if ids.len() == batch.len() {
            Ok(ids)
        } else {
            Err(Error::Internal("a batched create returned no id".into()))
        }
    }
}

/// A batch of plain creates in one statement. `$1`–`$25` are the `tasks`
/// columns in insert order, `$26`–`$29` each event's id, source, JSON body
/// (the new id is patched in) and traceparent: one array element per
/// create. Ids are drawn first, so each row's task, event and tags share
/// one; events take their sequence numbers in the batch's order. The
/// benchmark's pgbench limit runs this same text for a batch of one.
pub const CREATE_BATCH: &str = "\
WITH input AS MATERIALIZED (\
    SELECT nextval(pg_get_serial_sequence('tasks', 'id')) AS id, i.* \
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], \
      $7::timestamptz[], $8::text[], $9::int4[], $10::jsonb[], $11::text[], $12::text[], \
      $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[], $17::int4[], \
      $18::timestamptz[], $19::timestamptz[], $20::timestamptz[], $21::int8[], $22::int8[], \
      $23::int8[], $24::timestamptz[], $25::timestamptz[], $26::uuid[], $27::text[], \
      $28::jsonb[], $29::text[]) \
    WITH ORDINALITY AS i (user_id, title, title_key, description, search, completed, \
      completed_at, priority, priority_rank, tags, due_local, timezone, due_at, deadline_at, \
      recurrence, anchor_local, reminder_minutes, reminder_at, remind_at, snoozed_until, \
      series_id, previous_id, version, created_at, updated_at, event_id, source, body, \
      traceparent, position)), \
  task AS (\
    INSERT INTO tasks (id, user_id, title, title_key, description, search, completed, \
      completed_at, priority, priority_rank, tags, due_local, timezone, due_at, deadline_at, \
      recurrence, anchor_local, reminder_minutes, reminder_at, remind_at, snoozed_until, \
      series_id, previous_id, version, created_at, updated_at) \
    OVERRIDING SYSTEM VALUE \
    SELECT id, user_id, title, title_key, description, search, completed, completed_at, \
      priority, priority_rank, tags, due_local, timezone, due_at, deadline_at, recurrence, \
      anchor_local, reminder_minutes, reminder_at, remind_at, snoozed_until, series_id, \
      previous_id, version, created_at, updated_at \
    FROM input), \
  event AS (\
    INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, \
      data, traceparent) \
    SELECT event_id, user_id, id, 'created', source, created_at, \
      jsonb_set(jsonb_set(body, '{task_data,id}', to_jsonb(id)), '{changes,id,new}', \
        to_jsonb(id)), \
      traceparent \
    FROM input ORDER BY position), \
  tag AS (\
    INSERT INTO task_tags (task_id, user_id, tag) \
    SELECT id, user_id, jsonb_array_elements_text(tags) FROM input) \
SELECT id FROM input ORDER BY position";

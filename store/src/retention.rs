//! Retention: the outbox and the ledgers beside it are pruned after a
//! horizon, a small batch per table at a time so a writer never waits long.
//! Published events older than the event horizon go oldest first (the
//! sequence they are pruned through is kept: a changes cursor or an SSE
//! `Last-Event-ID` below it is answered `cursor_expired` or `resync`), and
//! so do processed-event marks, reminder dispatches and finished webhook
//! deliveries, and the CalDAV names of deleted tasks whose events are all
//! gone; idempotency keys go after their own, shorter horizon. One
//! pruner works at a time (on PostgreSQL a transaction-scoped advisory
//! lock; SQLite has one process).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::database::{Tx, query};
use crate::{Database, DatabaseKind, Result, TaskService};

/// How long what is pruned is kept, and how much goes at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Published events, processed-event marks, reminder dispatches and
    /// finished webhook deliveries (None: kept for ever).
    pub events: Option<chrono::Duration>,
    /// Idempotency keys.
    pub idempotency: chrono::Duration,
    /// Rows deleted per table per transaction.
    pub batch: u32,
    /// The pause between rounds with nothing left to prune.
    pub idle: Duration,
    /// The pause between batches while there is more.
    pub between: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            events: Some(chrono::Duration::days(30)),
            idempotency: chrono::Duration::hours(24),
            batch: 250,
            idle: Duration::from_secs(60),
            between: Duration::from_millis(10),
        }
    }
}

/// What one round pruned, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub task_events: u64,
    pub processed_events: u64,
    pub idempotency_keys: u64,
    pub reminder_dispatches: u64,
    pub webhook_deliveries: u64,
    /// Expired OAuth codes and refresh tokens.
    pub oauth_tokens: u64,
    /// Apps registered a day ago or more that no one approved.
    pub oauth_clients: u64,
    /// App passwords expired a month ago or more.
    pub app_passwords: u64,
    /// CalDAV names of tasks deleted, or renamed, before the horizon.
    pub task_ical: u64,
}

impl Pruned {
    fn tables(&self) -> [(&'static str, u64); 9] {
        [
            ("task_events", self.task_events),
            ("processed_events", self.processed_events),
            ("idempotency_keys", self.idempotency_keys),
            ("reminder_dispatches", self.reminder_dispatches),
            ("webhook_deliveries", self.webhook_deliveries),
            ("oauth_tokens", self.oauth_tokens),
            ("oauth_clients", self.oauth_clients),
            ("app_passwords", self.app_passwords),
            ("task_ical", self.task_ical),
        ]
    }

    /// The most any table lost this round.
    fn most(&self) -> u64 {
        self.tables().iter().map(|(_, n)| *n).max().unwrap_or(0)
    }
}

/// How long an expired app password is still listed.
const EXPIRED_KEPT: chrono::Duration = chrono::Duration::days(30);

impl Database {
    /// The sequence through which events have been pruned (0: none).
    pub async fn pruned_through(&self) -> Result<i64> {
        let value: Option<i64> =
            query("SELECT value FROM retention_marks WHERE name = 'task_events'")
                .scalar_optional(&mut self.read().await?)
                .await?;
        Ok(value.unwrap_or(0))
    }

    /// When the oldest event still held was written.
    pub async fn oldest_event_at(&self) -> Result<Option<DateTime<Utc>>> {
        query("SELECT occurred_at FROM task_events ORDER BY sequence LIMIT 1")
            .scalar_optional(&mut self.read().await?)
            .await
    }

    /// One batch of each table: the large ones each in its own short
    /// transaction, the small ones together; None when another pruner
    /// holds the lock.
    pub async fn prune(&self, now: DateTime<Utc>, keep: &Retention) -> Result<Option<Pruned>> {
        let mut pruned = Pruned::default();
        let limit = i64::from(keep.batch.max(1));
        if let Some(events) = keep.events {
            let cutoff = now - events;
            let Some(n) = self.prune_events(cutoff, limit).await? else {
                return Ok(None);
            };
            pruned.task_events = n;
            pruned.processed_events = self
                .prune_by_age(
                    "DELETE FROM processed_events WHERE (consumer, event_id) IN (\
                     SELECT consumer, event_id FROM processed_events WHERE processed_at < $1 \
                     ORDER BY processed_at LIMIT $2)",
                    cutoff,
                    limit,
                )
                .await?;
            pruned.reminder_dispatches = self
                .prune_by_age(
                    "DELETE FROM reminder_dispatches WHERE (task_id, kind, due_at) IN (\
                     SELECT task_id, kind, due_at FROM reminder_dispatches WHERE fired_at < $1 \
                     ORDER BY fired_at LIMIT $2)",
                    cutoff,
                    limit,
                )
                .await?;
            pruned.webhook_deliveries = self
                .prune_by_age(
                    "DELETE FROM webhook_deliveries WHERE n IN (\
                     SELECT n FROM webhook_deliveries WHERE status <> 'pending' \
                     AND created_at < $1 ORDER BY created_at LIMIT $2)",
                    cutoff,
                    limit,
                )
                .await?;
        }
        pruned.idempotency_keys = self
            .prune_by_age(
                "DELETE FROM idempotency_keys WHERE (user_id, key) IN (\
                 SELECT user_id, key FROM idempotency_keys WHERE created_at < $1 \
                 ORDER BY created_at LIMIT $2)",
                now - keep.idempotency,
                limit,
            )
            .await?;
        // The small tables, in one transaction: a round costs the writer
        // one commit for them, not one each.
        let mut small: Vec<(&str, DateTime<Utc>)> = vec![
            // A spent token is kept until it expires, so that its reuse is
            // recognised; after that it is refused as unknown anyway.
            (
                "DELETE FROM oauth_tokens WHERE hash IN (\
                 SELECT hash FROM oauth_tokens WHERE expires_at < $1 \
                 ORDER BY expires_at LIMIT $2)",
                now,
            ),
            (
                "DELETE FROM oauth_clients WHERE id IN (\
                 SELECT id FROM oauth_clients c WHERE created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.client_id = c.id) \
                 ORDER BY created_at LIMIT $2)",
                now - crate::agents::PENDING_CLIENT_TTL,
            ),
            // Shown as expired for a while, then forgotten.
            (
                "DELETE FROM app_passwords WHERE id IN (\
                 SELECT id FROM app_passwords WHERE expires_at < $1 \
                 ORDER BY expires_at LIMIT $2)",
                now - EXPIRED_KEPT,
            ),
        ];
        if let Some(events) = keep.events {
            let cutoff = now - events;
            small.extend([
                // A deleted task's CalDAV name, once no event of it is
                // left for a sync report to name it by.
                (
                    "DELETE FROM task_ical WHERE task_id IN (\
                     SELECT task_id FROM task_ical i WHERE deleted_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = i.task_id) \
                     ORDER BY deleted_at LIMIT $2)",
                    cutoff,
                ),
                // A task's name before a rename, once no event up to the
                // rename is left (a token from before it is then refused).
                (
                    "DELETE FROM task_ical_retired WHERE (task_id, list_id, href) IN (\
                     SELECT task_id, list_id, href FROM task_ical_retired r WHERE retired_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = r.task_id \
                     AND e.occurred_at <= r.retired_at) ORDER BY retired_at LIMIT $2)",
                    cutoff,
                ),
            ]);
        }
        let deleted = self.prune_together(&small, limit).await?;
        if let [tokens, clients, passwords, ical @ ..] = deleted.as_slice() {
            (pruned.oauth_tokens, pruned.oauth_clients) = (*tokens, *clients);
            pruned.app_passwords = *passwords;
            pruned.task_ical = ical.iter().sum();
        }
        Ok(Some(pruned))
    }

    /// A write transaction holding the pruner's lock (None: another
    /// pruner has it).
    async fn pruning(&self) -> Result<Option<Tx>> {
        let mut tx = self.begin().await?;
        if self.kind() == DatabaseKind::Postgres {
            // One pruner per schema, as one relay (deployments sharing a
            // database each prune their own).
            let got: bool = query(
                "SELECT pg_try_advisory_xact_lock(\
                 hashtextextended('taskflow-pruner:' || current_schema(), 0))",
            )
            .scalar(&mut tx)
            .await?;
            if !got {
                return Ok(None);
            }
        }
        Ok(Some(tx))
    }

    /// Deletes the oldest published events written before `cutoff`, at
    /// most `limit`, in sequence order (stopping at the first that is not
    /// yet published or not yet old), and moves the pruned-through mark.
    async fn prune_events(&self, cutoff: DateTime<Utc>, limit: i64) -> Result<Option<u64>> {
        let Some(mut tx) = self.pruning().await? else {
            return Ok(None);
        };
        let head: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = query(
            "SELECT sequence, occurred_at, published_at FROM task_events \
             ORDER BY sequence LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut tx)
        .await?;
        let through = head
            .iter()
            .take_while(|(_, at, published)| *at < cutoff && published.is_some())
            .last()
            .map(|(sequence, _, _)| *sequence);
        let Some(through) = through else {
            return Ok(Some(0));
        };
        // Each list's newest change survives its events (calendar feeds'
        // ETags): filed under it, or moved out of it. `+`: the batch is read
        // by its sequences, not through a list index (all the table).
        for column in ["list_id", "from_list_id"] {
            query(&format!(
                "INSERT INTO list_pruned_marks (list_id, sequence) \
                 SELECT +{column}, MAX(sequence) FROM task_events \
                 WHERE sequence <= $1 AND +{column} IS NOT NULL GROUP BY +{column} \
                 ON CONFLICT (list_id) DO UPDATE SET sequence = excluded.sequence \
                 WHERE excluded.sequence > list_pruned_marks.sequence"
            ))
            .bind(through)
            .execute(&mut tx)
            .await?;
        }
        let deleted = query("DELETE FROM task_events WHERE sequence <= $1")
            .bind(through)
            .execute(&mut tx)
            .await?;
        query(
            "INSERT INTO retention_marks (name, value) VALUES ('task_events', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value \
             WHERE retention_marks.value < excluded.value",
        )
        .bind(through)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(Some(deleted))
    }

    /// Runs batched deletes (each: `$1` its cutoff, `$2` the batch) in one
    /// transaction; how many rows each deleted.
    async fn prune_together(
        &self,
        deletes: &[(&str, DateTime<Utc>)],
        limit: i64,
    ) -> Result<Vec<u64>> {
        let Some(mut tx) = self.pruning().await? else {
            return Ok(Vec::new());
        };
        let mut deleted = Vec::with_capacity(deletes.len());
        for (sql, cutoff) in deletes {
            deleted.push(
                query(sql)
                    .bind(*cutoff)
                    .bind(limit)
                    .execute(&mut tx)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Runs one batched delete (`$1` the cutoff, `$2` the batch).
    async fn prune_by_age(&self, sql: &str, cutoff: DateTime<Utc>, limit: i64) -> Result<u64> {
        let Some(mut tx) = self.pruning().await? else {
            return Ok(0);
        };
        let deleted = query(sql).bind(cutoff).bind(limit).execute(&mut tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Prunes until `stop`: a round of batches, again at once (after a short
/// pause) while a table had a full batch, else after the idle pause.
pub async fn run(tasks: TaskService, keep: Retention, stop: CancellationToken) {
    let db = tasks.database().clone();
    loop {
        let pause = match db.prune(tasks.now(), &keep).await {
            Ok(Some(pruned)) => {
                for (table, n) in pruned.tables() {
                    if n > 0 {
                        metrics::counter!("taskflow_retention_pruned_rows_total", "table" => table)
                            .increment(n);
                    }
                }
                if pruned.most() >= u64::from(keep.batch) {
                    keep.between
                } else {
                    keep.idle
                }
            }
            Ok(None) => keep.idle,
            Err(err) => {
                tracing::warn!(error = %err, "pruning failed; trying again later");
                keep.idle
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

-- Retention: what has been pruned. `task_events` is the sequence through
-- which published events older than the horizon were deleted: a changes
-- cursor or an SSE Last-Event-ID below it cannot be caught up (410
-- cursor_expired, or resync). No row: nothing pruned yet.
CREATE TABLE retention_marks (
    name  TEXT   PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Each pruned table is read oldest first, in small batches.
CREATE INDEX processed_events_age ON processed_events (processed_at);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
CREATE INDEX reminder_dispatches_age ON reminder_dispatches (fired_at);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (created_at) WHERE status <> 'pending';

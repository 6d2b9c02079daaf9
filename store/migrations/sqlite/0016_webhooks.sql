-- Webhook endpoints: where a user's changes (or one list's) are POSTed,
-- signed per Standard Webhooks. `secret` signs every delivery; after a
-- rotation `previous_secret` signs too, until `previous_until`.
-- `retry_at` holds the endpoint's next attempt back after a failure (its
-- deliveries go out in order, so the oldest holds back the rest), and the
-- sender holds an endpoint while it sends to it (`lease_until`).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT    NOT NULL,
    list_id         INTEGER REFERENCES lists (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    event_types     TEXT,                            -- JSON array; NULL: every type
    secret          TEXT    NOT NULL,
    previous_secret TEXT,
    previous_until  TEXT,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    failing_since   TEXT,
    retry_at        TEXT,
    lease_until     TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, id);

-- One row per (event, endpoint), written with the webhook consumer's
-- processed-event mark, so a redelivered event never makes a second one.
-- `id` is the `webhook-id` header, derived from the two. An event's body
-- is read from the outbox when it is sent; a test's is kept here.
CREATE TABLE webhook_deliveries (
    n                INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB    NOT NULL UNIQUE,           -- UUID (16 bytes)
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    sequence         INTEGER NOT NULL,                  -- the event's; 0 for a test
    event_type       TEXT    NOT NULL,
    body             TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    last_duration_ms INTEGER,
    last_attempt_at  TEXT,
    created_at       TEXT    NOT NULL
);
-- What is still to send, each endpoint's in order.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, sequence, n)
    WHERE status = 'pending';
-- An endpoint's log, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, n);

-- An endpoint Taskflow disabled (410 Gone, or failing for five days) is
-- told to its owner. SQLite cannot change a CHECK, so the table is made
-- again.
CREATE TABLE notifications_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    task_id    INTEGER,                                 -- no FK: a notification outlives its task
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue', 'invited', 'assigned', 'commented', 'completed', 'webhook_disabled')),
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    read_at    TEXT
);
INSERT INTO notifications_new (id, user_id, task_id, kind, text, created_at, read_at)
    SELECT id, user_id, task_id, kind, text, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

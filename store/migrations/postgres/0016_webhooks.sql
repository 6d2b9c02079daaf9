-- Webhook endpoints: where a user's changes (or one list's) are POSTed,
-- signed per Standard Webhooks. `secret` signs every delivery; after a
-- rotation `previous_secret` signs too, until `previous_until`.
-- `retry_at` holds the endpoint's next attempt back after a failure (its
-- deliveries go out in order, so the oldest holds back the rest), and a
-- sender holds an endpoint while it sends to it (`lease_until`), so two
-- replicas never send one endpoint's deliveries at once.
CREATE TABLE webhook_endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         TEXT        NOT NULL,
    list_id         BIGINT      REFERENCES lists (id) ON DELETE CASCADE,
    url             TEXT        NOT NULL,
    description     TEXT        NOT NULL,
    event_types     JSONB,                        -- NULL: every type
    secret          TEXT        NOT NULL,
    previous_secret TEXT,
    previous_until  TIMESTAMPTZ,
    enabled         BOOLEAN     NOT NULL,
    disabled_reason TEXT,
    failing_since   TIMESTAMPTZ,
    retry_at        TIMESTAMPTZ,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, id);

-- One row per (event, endpoint), written with the webhook consumer's
-- processed-event mark, so a redelivered event never makes a second one.
-- `id` is the `webhook-id` header, derived from the two. An event's body
-- is read from the outbox when it is sent; a test's is kept here.
CREATE TABLE webhook_deliveries (
    n                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID        NOT NULL UNIQUE,
    endpoint_id      BIGINT      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    sequence         BIGINT      NOT NULL,        -- the event's; 0 for a test
    event_type       TEXT        NOT NULL,
    body             TEXT,
    status           TEXT        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER     NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    last_duration_ms INTEGER,
    last_attempt_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL
);
-- What is still to send, each endpoint's in order.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, sequence, n)
    WHERE status = 'pending';
-- An endpoint's log, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, n);

-- An endpoint Taskflow disabled (410 Gone, or failing for five days) is
-- told to its owner.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('reminder', 'overdue', 'invited', 'assigned', 'commented', 'completed', 'webhook_disabled'));

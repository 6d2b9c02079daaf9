-- Taskflow schema, PostgreSQL edition. Same tables, columns and meaning as the
-- SQLite edition, with native types: timestamptz, jsonb, boolean, uuid.

CREATE TABLE tasks (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          TEXT        NOT NULL,
    title            TEXT        NOT NULL,
    title_key        TEXT        NOT NULL COLLATE "C",   -- derived; C collation = SQLite's BINARY order
    description      TEXT,
    search           TEXT        NOT NULL,               -- derived: lower-cased title + description
    completed        BOOLEAN     NOT NULL DEFAULT FALSE, -- derived: completed_at IS NOT NULL
    completed_at     TIMESTAMPTZ,
    priority         TEXT        NOT NULL CHECK (priority IN ('none', 'low', 'medium', 'high')),
    priority_rank    INTEGER     NOT NULL,
    tags             JSONB       NOT NULL DEFAULT '[]',
    due_local        TEXT,
    timezone         TEXT,
    due_at           TIMESTAMPTZ,
    deadline_at      TIMESTAMPTZ,
    recurrence       TEXT,
    anchor_local     TEXT,
    reminder_minutes INTEGER,
    reminder_at      TIMESTAMPTZ,
    remind_at        TIMESTAMPTZ,
    snoozed_until    TIMESTAMPTZ,
    series_id        BIGINT,
    previous_id      BIGINT,      -- a label, no FK: deleting a task never rewrites another
    version          BIGINT      NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority_rank, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id);
CREATE INDEX tasks_open_deadline ON tasks (deadline_at) WHERE NOT completed;
CREATE INDEX tasks_open_remind ON tasks (remind_at) WHERE NOT completed;
CREATE UNIQUE INDEX tasks_one_next ON tasks (previous_id) WHERE previous_id IS NOT NULL;

CREATE TABLE task_tags (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT   NOT NULL,
    tag     TEXT   NOT NULL,
    PRIMARY KEY (task_id, tag)
);
CREATE INDEX task_tags_user_tag ON task_tags (user_id, tag);

-- Sequence numbers are taken before commit, so a later sequence can commit
-- first. The relay therefore publishes only rows whose writing transaction
-- is older than every transaction still running (xid below the snapshot's
-- xmin): by then no lower sequence can still appear, and each user's events
-- go out in sequence order without serialising the writers.
CREATE TABLE task_events (
    sequence     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    user_id      TEXT        NOT NULL,
    task_id      BIGINT      NOT NULL,
    event_type   TEXT        NOT NULL,
    source       TEXT        NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    data         JSONB       NOT NULL,
    published_at TIMESTAMPTZ,
    xid          XID8        NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX task_events_user ON task_events (user_id, sequence);
CREATE INDEX task_events_task ON task_events (task_id, sequence);
CREATE INDEX task_events_unpublished ON task_events (sequence) WHERE published_at IS NULL;

-- Wake every relay when events commit (NOTIFY is delivered at commit), in the
-- inserting statement itself rather than with a round trip of its own.
CREATE FUNCTION task_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('taskflow_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER task_events_notify AFTER INSERT ON task_events
    FOR EACH STATEMENT EXECUTE FUNCTION task_events_notify();

CREATE TABLE processed_events (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT        NOT NULL,
    task_id    BIGINT,
    kind       TEXT        NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    text       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE reminder_dispatches (
    task_id  BIGINT      NOT NULL,
    kind     TEXT        NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    due_at   TIMESTAMPTZ NOT NULL,
    fired_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (task_id, kind, due_at)
);

CREATE TABLE conversations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT        NOT NULL,
    title      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, updated_at);

CREATE TABLE messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT        NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT        NOT NULL,
    data            JSONB,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE idempotency_keys (
    user_id    TEXT        NOT NULL,
    key        TEXT        NOT NULL,
    request    JSONB       NOT NULL,
    task_id    BIGINT      NOT NULL,
    response   JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);

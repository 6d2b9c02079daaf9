-- Taskflow schema, SQLite edition. The PostgreSQL edition has the same tables,
-- columns and meaning; only the types differ (timestamps are RFC 3339 TEXT
-- here, written by the application in one format so text order = time order).

-- Tasks. The settable fields are stored as the API shows them (due_local +
-- timezone); the columns marked "derived" are computed by the application on
-- every write, for searching, sorting and scheduling.
CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so "task 3" stays task 3
    user_id          TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    title_key        TEXT    NOT NULL,                  -- derived: lower-cased title, for sorting
    description      TEXT,
    search           TEXT    NOT NULL,                  -- derived: lower-cased title + description
    completed        INTEGER NOT NULL DEFAULT 0,        -- derived: completed_at IS NOT NULL
    completed_at     TEXT,
    priority         TEXT    NOT NULL CHECK (priority IN ('none', 'low', 'medium', 'high')),
    priority_rank    INTEGER NOT NULL,                  -- derived: 0 none .. 3 high
    tags             TEXT    NOT NULL DEFAULT '[]',     -- JSON array; task_tags indexes it
    due_local        TEXT,                              -- '2026-03-23' or '2026-03-23T10:00:00'
    timezone         TEXT,                              -- IANA zone of due_local
    due_at           TEXT,                              -- derived: due instant (start of day for dates)
    deadline_at      TEXT,                              -- derived: overdue from (end of day for dates)
    recurrence       TEXT,                              -- canonical RRULE
    anchor_local     TEXT,                              -- first occurrence of the series, in timezone
    reminder_minutes INTEGER,                           -- reminder: minutes before due ...
    reminder_at      TEXT,                              -- ... or an absolute instant
    remind_at        TEXT,                              -- derived: the instant the reminder fires
    snoozed_until    TEXT,
    series_id        INTEGER,                           -- first task of the series (a label, no FK)
    previous_id      INTEGER,                           -- the occurrence this one follows (a label, no FK)
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority_rank, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id);
CREATE INDEX tasks_open_deadline ON tasks (deadline_at) WHERE completed = 0;
CREATE INDEX tasks_open_remind ON tasks (remind_at) WHERE completed = 0;
-- At most one next occurrence per completed occurrence, whatever retries do.
CREATE UNIQUE INDEX tasks_one_next ON tasks (previous_id) WHERE previous_id IS NOT NULL;

-- One row per (task, tag), for tag filters and the tag list.
CREATE TABLE task_tags (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (task_id, tag)
);
CREATE INDEX task_tags_user_tag ON task_tags (user_id, tag);

-- The outbox and the audit trail: one row per change, written in the change's
-- transaction. sequence is the global order (the SSE event id); published_at
-- stays NULL until the relay has handed the event to the transport.
CREATE TABLE task_events (
    sequence     INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     BLOB    NOT NULL UNIQUE,               -- UUID (16 bytes), the CloudEvent id
    user_id      TEXT    NOT NULL,
    task_id      INTEGER NOT NULL,                      -- no FK: history outlives the task
    event_type   TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    occurred_at  TEXT    NOT NULL,
    data         TEXT    NOT NULL,                      -- JSON: task_data + changes
    published_at TEXT
);
CREATE INDEX task_events_user ON task_events (user_id, sequence);
CREATE INDEX task_events_task ON task_events (task_id, sequence);
CREATE INDEX task_events_unpublished ON task_events (sequence) WHERE published_at IS NULL;

-- Idempotent consumers: a consumer records each event it handled in the same
-- transaction as its side effects.
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     BLOB NOT NULL,                          -- UUID (16 bytes)
    processed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    task_id    INTEGER,                                 -- no FK: a notification outlives its task
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Each reminder fires once per (task, kind, instant); moving the due date
-- makes a new instant and so re-arms it.
CREATE TABLE reminder_dispatches (
    task_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    due_at     TEXT    NOT NULL,
    fired_at   TEXT    NOT NULL,
    PRIMARY KEY (task_id, kind, due_at)
);

-- Chat history, so any replica can continue any conversation.
CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL,
    title      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, updated_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         TEXT    NOT NULL,
    data            TEXT,                               -- JSON: tool calls, actions
    created_at      TEXT    NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- A retried create with the same key returns the first result.
CREATE TABLE idempotency_keys (
    user_id    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    request    TEXT    NOT NULL,                        -- canonical JSON of the request
    task_id    INTEGER NOT NULL,
    response   TEXT    NOT NULL,                        -- JSON of the task as first created
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, key)
);

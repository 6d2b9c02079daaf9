-- Generated from migrations/sqlite (the schema they end with, as SQLite
-- records it): a new database is made from this. Do not edit; run
-- `UPDATE_SCHEMAS=1 cargo test -p taskflow-store a_new_database`.
CREATE TABLE task_tags (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (task_id, tag)
);
CREATE INDEX task_tags_user_tag ON task_tags (user_id, tag);
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
, traceparent TEXT, list_id INTEGER, actor_id TEXT, agent_id INTEGER, from_list_id INTEGER);
CREATE INDEX task_events_user ON task_events (user_id, sequence);
CREATE INDEX task_events_task ON task_events (task_id, sequence);
CREATE INDEX task_events_unpublished ON task_events (sequence) WHERE published_at IS NULL;
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     BLOB NOT NULL,                          -- UUID (16 bytes)
    processed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
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
CREATE TABLE idempotency_keys (
    user_id    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    request    TEXT    NOT NULL,                        -- canonical JSON of the request
    task_id    INTEGER NOT NULL,
    response   TEXT    NOT NULL,                        -- JSON of the task as first created
    created_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE TABLE "reminder_dispatches" (
    task_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    due_at     TEXT    NOT NULL,
    fired_at   TEXT    NOT NULL,
    PRIMARY KEY (task_id, kind, due_at)
);
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    title_key   TEXT    NOT NULL,                       -- derived: lower-cased title, for look-up by name
    description TEXT,
    color       TEXT,
    parent_id   INTEGER REFERENCES lists (id),          -- nesting, at most 5 deep
    position    TEXT    NOT NULL,
    is_inbox    INTEGER NOT NULL DEFAULT 0,
    archived_at TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
, was_given INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX lists_one_inbox ON lists (user_id) WHERE is_inbox = 1;
CREATE INDEX lists_user ON lists (user_id, position, id);
CREATE INDEX lists_parent ON lists (parent_id);
CREATE TABLE "tasks" (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          TEXT    NOT NULL,
    list_id          INTEGER NOT NULL REFERENCES lists (id),
    position         TEXT    NOT NULL,                  -- manual order in the list
    title            TEXT    NOT NULL,
    title_key        TEXT    NOT NULL,
    description      TEXT,
    search           TEXT    NOT NULL,
    completed        INTEGER NOT NULL DEFAULT 0,
    completed_at     TEXT,
    priority         TEXT    NOT NULL CHECK (priority IN ('none', 'low', 'medium', 'high')),
    priority_rank    INTEGER NOT NULL,
    tags             TEXT    NOT NULL DEFAULT '[]',
    due_local        TEXT,
    timezone         TEXT,
    due_at           TEXT,
    deadline_at      TEXT,
    recurrence       TEXT,
    anchor_local     TEXT,
    reminder_minutes INTEGER,
    reminder_at      TEXT,
    remind_at        TEXT,
    snoozed_until    TEXT,
    series_id        INTEGER,
    previous_id      INTEGER,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    reminded_for     TEXT,
    overdue_for      TEXT
, parent_id INTEGER, had_subtasks INTEGER NOT NULL DEFAULT 0, had_links INTEGER NOT NULL DEFAULT 0, assignees TEXT, created_by TEXT, updated_by TEXT, had_comments INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority_rank, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id);
CREATE INDEX tasks_open_deadline ON tasks (deadline_at) WHERE completed = 0;
CREATE UNIQUE INDEX tasks_one_next ON tasks (previous_id) WHERE previous_id IS NOT NULL;
CREATE INDEX tasks_reminder_pending ON tasks (remind_at)
    WHERE NOT completed AND remind_at IS NOT NULL AND reminded_for IS DISTINCT FROM remind_at;
CREATE INDEX tasks_overdue_pending ON tasks (deadline_at)
    WHERE NOT completed AND deadline_at IS NOT NULL AND overdue_for IS DISTINCT FROM deadline_at;
CREATE INDEX tasks_list_position ON tasks (list_id, position, id);
CREATE INDEX task_events_list ON task_events (list_id, sequence) WHERE list_id IS NOT NULL;
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE task_links (
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('blocks', 'relates')),
    other_id   INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (task_id, kind, other_id)
);
CREATE INDEX task_links_other ON task_links (other_id, kind);
CREATE INDEX task_links_user ON task_links (user_id, kind);
CREATE TRIGGER task_links_hint AFTER INSERT ON task_links
BEGIN
    UPDATE tasks SET had_links = 1 WHERE id IN (NEW.task_id, NEW.other_id) AND had_links = 0;
END;
CREATE TABLE users (
    id           TEXT PRIMARY KEY,                      -- the JWT `sub`
    username     TEXT NOT NULL UNIQUE,                  -- exact, as given
    display_name TEXT NOT NULL,
    time_zone    TEXT,                                  -- IANA name, the person's default
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE TABLE list_members (
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    added_by   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX list_members_user ON list_members (user_id);
CREATE TABLE list_access (
    user_id  TEXT    NOT NULL,
    list_id  INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    role     TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    archived INTEGER NOT NULL DEFAULT 0,
    granted_on INTEGER NOT NULL,                    -- the list whose grant this is
    PRIMARY KEY (user_id, list_id)
);
CREATE INDEX list_access_list ON list_access (list_id);
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    invitee    TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    invited_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (list_id, invitee)
);
CREATE INDEX invitations_invitee ON invitations (invitee, id);
CREATE TABLE task_assignees (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT    NOT NULL, assigned_by TEXT,
    PRIMARY KEY (user_id, task_id)
);
CREATE INDEX task_assignees_task ON task_assignees (task_id);
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX comments_task ON comments (task_id, id);
CREATE TRIGGER comments_hint AFTER INSERT ON comments
BEGIN
    UPDATE tasks SET had_comments = 1 WHERE id = NEW.task_id AND had_comments = 0;
END;
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
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, sequence, n)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, n);
CREATE TABLE "notifications" (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    task_id    INTEGER,                                 -- no FK: a notification outlives its task
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue', 'invited', 'assigned', 'commented', 'completed', 'webhook_disabled')),
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE TABLE retention_marks (
    name  TEXT   PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE INDEX processed_events_age ON processed_events (processed_at);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
CREATE INDEX reminder_dispatches_age ON reminder_dispatches (fired_at);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (created_at) WHERE status <> 'pending';
CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,                 -- client_id, random
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,                    -- JSON array, matched exactly
    created_at    TEXT NOT NULL
);
CREATE TABLE agents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT    NOT NULL,
    client_id    TEXT    REFERENCES oauth_clients (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,                  -- space-separated, as granted
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX agents_user ON agents (user_id, id);
CREATE UNIQUE INDEX agents_client ON agents (user_id, client_id) WHERE revoked_at IS NULL;
CREATE TABLE oauth_grants (
    id             TEXT    PRIMARY KEY,             -- random
    agent_id       INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    scopes         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    redirect_uri   TEXT,
    code_challenge TEXT,
    created_at     TEXT    NOT NULL,
    revoked_at     TEXT
);
CREATE INDEX oauth_grants_agent ON oauth_grants (agent_id);
CREATE TABLE oauth_tokens (
    hash       TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('code', 'refresh')),
    expires_at TEXT NOT NULL,
    spent_at   TEXT
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_age ON oauth_tokens (expires_at);
CREATE INDEX agents_client_id ON agents (client_id);
CREATE TABLE calendar_feeds (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           TEXT    NOT NULL,
    token_hash        TEXT    NOT NULL UNIQUE,
    token_hint        TEXT    NOT NULL,          -- the URL's last 4 characters
    name              TEXT    NOT NULL,          -- the calendar's name
    list_ids          TEXT,                      -- JSON array; NULL: every list read
    component         TEXT    NOT NULL CHECK (component IN ('todos', 'events')),
    include_completed INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    last_fetched_at   TEXT                       -- kept to the hour
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id, id);
CREATE INDEX task_events_from_list ON task_events (from_list_id, sequence)
    WHERE from_list_id IS NOT NULL;
CREATE TABLE list_pruned_marks (
    list_id  INTEGER PRIMARY KEY,
    sequence INTEGER NOT NULL
);
CREATE TABLE app_passwords (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    hint         TEXT    NOT NULL,                 -- the password's last 4 characters
    scopes       TEXT    NOT NULL,                 -- space-separated: caldav
    expires_at   TEXT,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT                              -- kept to the minute
);
CREATE INDEX app_passwords_user ON app_passwords (user_id, id);
CREATE TABLE task_ical (
    task_id        INTEGER PRIMARY KEY,
    user_id        TEXT    NOT NULL,               -- the task's owner
    uid            TEXT    NOT NULL,
    href           TEXT    NOT NULL,               -- the last path segment, decoded
    extra          TEXT    NOT NULL DEFAULT '{}',  -- JSON
    pending_parent TEXT,                           -- a RELATED-TO parent UID not seen yet
    deleted_at     TEXT
);
CREATE UNIQUE INDEX task_ical_uid ON task_ical (user_id, uid) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX task_ical_href ON task_ical (user_id, href) WHERE deleted_at IS NULL;
CREATE INDEX task_ical_pending ON task_ical (user_id, pending_parent)
    WHERE pending_parent IS NOT NULL;
CREATE TABLE task_ical_retired (
    task_id    BIGINT NOT NULL,
    list_id    BIGINT NOT NULL,
    href       TEXT   NOT NULL,
    retired_at TEXT NOT NULL,
    PRIMARY KEY (task_id, list_id, href)
);
CREATE INDEX task_ical_retired_age ON task_ical_retired (retired_at);
CREATE INDEX task_ical_deleted ON task_ical (deleted_at) WHERE deleted_at IS NOT NULL;

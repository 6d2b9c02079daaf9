-- App passwords: secrets a CalDAV client sends as HTTP Basic (phones and
-- desktop apps cannot do OAuth for CalDAV). Kept only as SHA-256 (hex),
-- like feed tokens (0021): shown once, at creation.
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

-- What a CalDAV client gave a task that Taskflow does not model: the UID
-- and resource name it chose (other tasks: taskflow-task-{id}@host and
-- taskflow-task-{id}.ics) and its unknown properties, written back on
-- every read. No foreign key: a deleted task's row stays (deleted_at) so a
-- sync report can answer its href 404 until retention forgets it.
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

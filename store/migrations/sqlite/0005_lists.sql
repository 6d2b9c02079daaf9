-- Lists (projects). Every task is in one list; each user has one Inbox
-- (is_inbox), made on first use, holding tasks given no list. `position`
-- is a fractional key (core::position): text order is the manual order,
-- so a move writes one row. A new item's key is `a` + its id in 19 digits
-- + `V`, computed here the same way for the tasks that exist.
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
);
CREATE UNIQUE INDEX lists_one_inbox ON lists (user_id) WHERE is_inbox = 1;
CREATE INDEX lists_user ON lists (user_id, position, id);
CREATE INDEX lists_parent ON lists (parent_id);

INSERT INTO lists (user_id, title, title_key, position, is_inbox, created_at, updated_at)
SELECT user_id, 'Inbox', 'inbox', 'V', 1, MIN(created_at), MIN(created_at)
FROM tasks GROUP BY user_id;

-- tasks gains list_id (required) and position: SQLite adds a NOT NULL
-- column with a reference only by rebuilding the table. Dropping the old
-- table deletes its task_tags rows (ON DELETE CASCADE, and foreign keys
-- cannot be switched off inside the migration's transaction), so they are
-- kept aside and put back; so is the id sequence's high-water mark, so an
-- id is never reused.
CREATE TEMP TABLE saved_tags AS SELECT task_id, user_id, tag FROM task_tags;
CREATE TEMP TABLE saved_sequence AS
    SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0) AS seq;

CREATE TABLE tasks_new (
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
);
INSERT INTO tasks_new
SELECT t.id, t.user_id, l.id, printf('a%019dV', t.id), t.title, t.title_key, t.description,
       t.search, t.completed, t.completed_at, t.priority, t.priority_rank, t.tags, t.due_local,
       t.timezone, t.due_at, t.deadline_at, t.recurrence, t.anchor_local, t.reminder_minutes,
       t.reminder_at, t.remind_at, t.snoozed_until, t.series_id, t.previous_id, t.version,
       t.created_at, t.updated_at, t.reminded_for, t.overdue_for
FROM tasks t JOIN lists l ON l.user_id = t.user_id AND l.is_inbox = 1;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
INSERT INTO task_tags (task_id, user_id, tag) SELECT task_id, user_id, tag FROM saved_tags;
UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM saved_sequence)) WHERE name = 'tasks';
DROP TABLE saved_tags;
DROP TABLE saved_sequence;

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

-- Every outbox row names its list (a task's, or the list changed), for
-- calendar sync and per-list fan-out; list events have task_id 0.
ALTER TABLE task_events ADD COLUMN list_id INTEGER;
UPDATE task_events SET list_id = (
    SELECT l.id FROM lists l WHERE l.user_id = task_events.user_id AND l.is_inbox = 1
) WHERE event_type IN ('created', 'updated', 'completed', 'reopened', 'deleted');
CREATE INDEX task_events_list ON task_events (list_id, sequence) WHERE list_id IS NOT NULL;

-- Lists (projects). Every task is in one list; each user has one Inbox
-- (is_inbox), made on first use, holding tasks given no list. `position`
-- is a fractional key (core::position): text order ("C" collation, byte
-- order, as SQLite compares) is the manual order, so a move writes one
-- row. A new item's key is `a` + its id in 19 digits + `V`, computed here
-- the same way for the tasks that exist.
CREATE TABLE lists (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT        NOT NULL,
    title       TEXT        NOT NULL,
    title_key   TEXT        NOT NULL,
    description TEXT,
    color       TEXT,
    parent_id   BIGINT      REFERENCES lists (id),
    position    TEXT        NOT NULL COLLATE "C",
    is_inbox    BOOLEAN     NOT NULL DEFAULT FALSE,
    archived_at TIMESTAMPTZ,
    version     BIGINT      NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX lists_one_inbox ON lists (user_id) WHERE is_inbox;
CREATE INDEX lists_user ON lists (user_id, position, id);
CREATE INDEX lists_parent ON lists (parent_id);

INSERT INTO lists (user_id, title, title_key, position, is_inbox, created_at, updated_at)
SELECT user_id, 'Inbox', 'inbox', 'V', TRUE, MIN(created_at), MIN(created_at)
FROM tasks GROUP BY user_id;

ALTER TABLE tasks ADD COLUMN list_id BIGINT REFERENCES lists (id);
ALTER TABLE tasks ADD COLUMN position TEXT COLLATE "C";
UPDATE tasks t SET list_id = l.id, position = 'a' || lpad(t.id::text, 19, '0') || 'V'
FROM lists l WHERE l.user_id = t.user_id AND l.is_inbox;
ALTER TABLE tasks ALTER COLUMN list_id SET NOT NULL;
ALTER TABLE tasks ALTER COLUMN position SET NOT NULL;
CREATE INDEX tasks_list_position ON tasks (list_id, position, id);

-- Every outbox row names its list (a task's, or the list changed), for
-- calendar sync and per-list fan-out; list events have task_id 0.
ALTER TABLE task_events ADD COLUMN list_id BIGINT;
UPDATE task_events e SET list_id = l.id FROM lists l
WHERE l.user_id = e.user_id AND l.is_inbox
  AND e.event_type IN ('created', 'updated', 'completed', 'reopened', 'deleted');
CREATE INDEX task_events_list ON task_events (list_id, sequence) WHERE list_id IS NOT NULL;

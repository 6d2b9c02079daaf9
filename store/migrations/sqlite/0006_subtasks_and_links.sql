-- Subtasks and links between tasks. parent_id is a label, like series_id
-- (no self-reference: the store keeps a subtask in its parent's list, at
-- most 3 levels deep, never under itself, and deletes subtasks with their
-- parent, each with its own event). A link is stored once: `blocks` from
-- the blocker to the blocked task (its inverse, blocked_by, is read from
-- the same row), `relates` from the lower id to the higher.
ALTER TABLE tasks ADD COLUMN parent_id INTEGER;
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

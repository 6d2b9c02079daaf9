-- Comments on tasks. Each belongs to its task (and goes with it); `author`
-- is who wrote it (the owner or a member of the task's list).
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX comments_task ON comments (task_id, id);

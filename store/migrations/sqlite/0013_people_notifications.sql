-- Notifications about what people do on shared lists, beside reminders:
-- an invitation, an assignment, a comment, and the completion of a task
-- one assigned. Each is written in the transaction of the change it tells
-- of. SQLite cannot change a CHECK, so the table is made again.
CREATE TABLE notifications_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    task_id    INTEGER,                                 -- no FK: a notification outlives its task
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue', 'invited', 'assigned', 'commented', 'completed')),
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

-- Who assigned each assignee (NULL: before this was kept), so completing
-- the task tells them.
ALTER TABLE task_assignees ADD COLUMN assigned_by TEXT;

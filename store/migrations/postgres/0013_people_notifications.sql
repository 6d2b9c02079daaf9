-- Notifications about what people do on shared lists, beside reminders:
-- an invitation, an assignment, a comment, and the completion of a task
-- one assigned. Each is written in the transaction of the change it tells
-- of.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('reminder', 'overdue', 'invited', 'assigned', 'commented', 'completed'));

-- Who assigned each assignee (NULL: before this was kept), so completing
-- the task tells them.
ALTER TABLE task_assignees ADD COLUMN assigned_by TEXT;

-- Who a task is assigned to (the list's owner or members), as a JSON array
-- of user ids (NULL: nobody), indexed by task_assignees for `assignee=`;
-- and who made it and who changed it last, when that was not its owner
-- (NULL: the owner, as every task before sharing).
ALTER TABLE tasks ADD COLUMN assignees JSONB;
ALTER TABLE tasks ADD COLUMN created_by TEXT;
ALTER TABLE tasks ADD COLUMN updated_by TEXT;

CREATE TABLE task_assignees (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id TEXT   NOT NULL,
    PRIMARY KEY (user_id, task_id)
);
CREATE INDEX task_assignees_task ON task_assignees (task_id);

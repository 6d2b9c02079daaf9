-- The names a task's CalDAV resource had before it was renamed (MOVE, or a
-- PUT of its UID under a new name): a sync report of the list it had that
-- name in answers it 404, so every client drops it (else a second device
-- kept the old name beside the new). A name renamed back is taken off.
-- Retention forgets a row once no event of the task from before it is left.
CREATE TABLE task_ical_retired (
    task_id    BIGINT NOT NULL,
    list_id    BIGINT NOT NULL,
    href       TEXT   NOT NULL,
    retired_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (task_id, list_id, href)
);
CREATE INDEX task_ical_retired_age ON task_ical_retired (retired_at);

-- Retention reads deleted tasks' rows oldest first (not the whole table).
CREATE INDEX task_ical_deleted ON task_ical (deleted_at) WHERE deleted_at IS NOT NULL;

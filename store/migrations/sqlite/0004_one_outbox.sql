-- One publication path: every message Taskflow publishes is a task_events
-- row written in the transaction that caused it, and the relay publishes
-- them all. A reminder's claim appends its `reminders` message (event_type
-- reminder_due or task_overdue); a recorded notification appends its notice
-- (notification_created). reminder_dispatches stays as the ledger that
-- makes each (task, kind, instant) fire once; its own message and
-- publication columns go, after their unconfirmed messages move to the
-- outbox, with fresh ids (a UUIDv5 cannot be computed here; one the old
-- scheduler had published but not confirmed may be recorded twice, once).
INSERT INTO task_events (event_id, user_id, task_id, event_type, source, occurred_at, data)
SELECT randomblob(16), user_id, task_id,
       CASE kind WHEN 'overdue' THEN 'task_overdue' ELSE 'reminder_due' END,
       'worker', fired_at, message
FROM reminder_dispatches
WHERE published_at IS NULL AND user_id <> ''
ORDER BY fired_at;

-- The table is rebuilt rather than altered: three DROP COLUMNs cost a fresh
-- database about 2 ms of start-up (SQLite re-checks the schema after each),
-- the rebuild a third of that.
CREATE TABLE reminder_dispatches_new (
    task_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('reminder', 'overdue')),
    due_at     TEXT    NOT NULL,
    fired_at   TEXT    NOT NULL,
    PRIMARY KEY (task_id, kind, due_at)
);
INSERT INTO reminder_dispatches_new (task_id, kind, due_at, fired_at)
SELECT task_id, kind, due_at, fired_at FROM reminder_dispatches;
DROP TABLE reminder_dispatches;
ALTER TABLE reminder_dispatches_new RENAME TO reminder_dispatches;

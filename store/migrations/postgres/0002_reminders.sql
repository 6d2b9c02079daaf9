-- Exact-time reminders. A task's reminder is pending while its remind_at (the
-- reminder instant, or the end of a snooze) differs from reminded_for (the
-- instant last fired); its overdue notice while deadline_at differs from
-- overdue_for. Moving either instant makes it pending again with no write
-- path having to remember; firing claims it with one conditional UPDATE, so
-- only one replica wins. The partial indexes hold only pending rows, so the
-- scheduler's queries cost what is due, not what is stored.
ALTER TABLE tasks ADD COLUMN reminded_for TIMESTAMPTZ;
ALTER TABLE tasks ADD COLUMN overdue_for TIMESTAMPTZ;
DROP INDEX tasks_open_remind;
CREATE INDEX tasks_reminder_pending ON tasks (remind_at)
    WHERE NOT completed AND remind_at IS NOT NULL AND reminded_for IS DISTINCT FROM remind_at;
CREATE INDEX tasks_overdue_pending ON tasks (deadline_at)
    WHERE NOT completed AND deadline_at IS NOT NULL AND overdue_for IS DISTINCT FROM deadline_at;

-- reminder_dispatches is also the reminders' outbox: the message is written
-- with the claim and published_at set once the transport has it, so a crash
-- in between is repaired by publishing it again (consumers dedupe by id).
ALTER TABLE reminder_dispatches ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE reminder_dispatches ADD COLUMN message JSONB NOT NULL DEFAULT '{}';
ALTER TABLE reminder_dispatches ADD COLUMN published_at TIMESTAMPTZ;
CREATE INDEX reminder_dispatches_unpublished ON reminder_dispatches (fired_at)
    WHERE published_at IS NULL;

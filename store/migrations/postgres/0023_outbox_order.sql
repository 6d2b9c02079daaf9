-- Outbox order: events commit in sequence order.
--
-- Until now the relay and every cursor (SSE replay, the changes feed,
-- CalDAV sync tokens) kept only events whose transaction was older than
-- every running one (xid below the snapshot's xmin). That assumed xid order
-- is sequence order, but a transaction takes its xid at its first write and
-- its event's sequence later: a transaction with an older xid could take a
-- higher sequence, commit and be read as settled while a lower sequence was
-- still to commit, and a cursor that had passed it never saw that event.
--
-- Now inserting events takes a transaction-scoped lock, one per schema, held
-- to the commit: sequences are taken in commit order, so a reader that sees a
-- sequence sees every lower one that will ever exist. The application writes
-- its events as the last statement before its commit, so a holder never
-- waits for anything else; commits that carry events queue for the lock for
-- the length of that insert and the commit.
CREATE FUNCTION task_events_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('taskflow-outbox:' || TG_TABLE_SCHEMA, 0));
    RETURN NULL;
END
$$;
CREATE TRIGGER task_events_order BEFORE INSERT ON task_events
    FOR EACH STATEMENT EXECUTE FUNCTION task_events_order();

ALTER TABLE task_events DROP COLUMN xid;

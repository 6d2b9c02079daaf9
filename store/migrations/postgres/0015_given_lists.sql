-- was_given: the list came to its owner by a transfer (with the lists in
-- it), so its earlier events are filed under someone else. An owner reads
-- the events of such lists too (history, activity, replay); every other
-- list's events are all under its owner already.
ALTER TABLE lists ADD COLUMN was_given BOOLEAN NOT NULL DEFAULT FALSE;

-- Lists given before this migration, and the lists in them:
WITH RECURSIVE given (id) AS (
    SELECT list_id FROM task_events WHERE event_type = 'list_transferred'
    UNION SELECT l.id FROM lists l JOIN given g ON l.parent_id = g.id
)
UPDATE lists SET was_given = TRUE WHERE id IN (SELECT id FROM given);

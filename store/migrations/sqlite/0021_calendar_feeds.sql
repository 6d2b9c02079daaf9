-- Calendar feeds: read-only iCalendar subscription URLs (GET /feeds/{token}.ics).
-- The token is kept only as its SHA-256 (hex), like OAuth codes (0018): the
-- URL is shown once, at creation. Which lists a feed shows is resolved at
-- every fetch, so a member removed from a shared list loses it at once.
CREATE TABLE calendar_feeds (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           TEXT    NOT NULL,
    token_hash        TEXT    NOT NULL UNIQUE,
    token_hint        TEXT    NOT NULL,          -- the URL's last 4 characters
    name              TEXT    NOT NULL,          -- the calendar's name
    list_ids          TEXT,                      -- JSON array; NULL: every list read
    component         TEXT    NOT NULL CHECK (component IN ('todos', 'events')),
    include_completed INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    last_fetched_at   TEXT                       -- kept to the hour
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id, id);

-- A move is filed under the list the task went to; the list it left needs
-- it too (its feeds' ETags, and CalDAV's sync reports later).
ALTER TABLE task_events ADD COLUMN from_list_id INTEGER;
CREATE INDEX task_events_from_list ON task_events (from_list_id, sequence)
    WHERE from_list_id IS NOT NULL;

-- Each list's last pruned sequence (filed under it or moved out of it),
-- kept by retention before it deletes a batch, so "the newest change of a
-- list" (a feed's ETag) never falls when old events go.
CREATE TABLE list_pruned_marks (
    list_id  INTEGER PRIMARY KEY,
    sequence INTEGER NOT NULL
);
